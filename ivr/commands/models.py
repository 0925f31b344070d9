"""``ivr models``: fetch an official Vosk speech model into the cache, list what is published."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from ivr.config import load_config
from voice.asr import vosk_language
from voice.models import (
    ModelError,
    ModelInfo,
    Progress,
    choose_model,
    default_models_dir,
    download_model,
    downloaded_models,
    fetch_model_list,
    installed_path,
)

list_url_option = click.option(
    "--list-url",
    default=None,
    help="The model list (default: IVR_VOSK_MODEL_LIST_URL or the official one).",
)
dest_option = click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Models folder (default: IVR_CACHE_DIR/vosk-models).",
)


@click.group()
def models() -> None:
    """Download the Vosk speech models the phone line listens with."""


@models.command("download")
@click.argument("languages", metavar="LANG...", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(["small", "big"]),
    default="small",
    show_default=True,
    help="Small models load in seconds and suit the phone line.",
)
@list_url_option
@dest_option
def download_command(
    languages: tuple[str, ...], kind: str, list_url: str | None, dest: Path | None
) -> None:
    """Download the Vosk model of each LANG (a flow's ``cs`` or Vosk's ``en-us``).

    The app finds downloaded models by language by itself; the last line printed pins them
    (``IVR_VOSK_MODELS``) for a process that should not look.
    """
    config = load_config()
    dest = dest or default_models_dir(config["CACHE_DIR"])
    pinned = []
    try:
        published = _fetch(list_url, config)
        for lang in languages:
            path = _download(choose_model(published, vosk_language(lang), kind), dest)
            click.echo(str(path))
            pinned.append(f"{lang}={path}")
    except ModelError as error:
        _fail("download", error)
    click.echo(f"IVR_VOSK_MODELS={' '.join(pinned)}")


def _download(info: ModelInfo, dest: Path) -> Path:
    """``info``'s model in ``dest``: already there, or downloaded now with progress."""
    path = installed_path(info, dest)
    if path is not None:
        click.echo(f"{info.name} is already downloaded", err=True)
        return path
    with _progress(info) as progress:
        return download_model(info, dest, progress=progress)


@models.command("list")
@list_url_option
@dest_option
def list_command(list_url: str | None, dest: Path | None) -> None:
    """List the languages that have a current model, and which are downloaded."""
    config = load_config()
    dest = dest or default_models_dir(config["CACHE_DIR"])
    try:
        published = [m for m in _fetch(list_url, config) if not m.obsolete]
    except ModelError as error:
        _fail("list", error)
    here = {path.name for _, path in downloaded_models(dest)}
    width = max((len(m.lang) for m in published), default=0)
    for lang in sorted({m.lang for m in published}):
        entries = sorted((m for m in published if m.lang == lang), key=lambda m: (m.kind, m.name))
        kinds = ", ".join(
            f"{m.kind} {m.name} ({_mib(m.size)}){' downloaded' if m.name in here else ''}"
            for m in entries
        )
        click.echo(f"{lang:<{width}}  {entries[0].lang_text}: {kinds}")


def _fail(command: str, error: ModelError) -> NoReturn:
    # echo rather than SystemExit(message): the message then goes to stderr under CliRunner too
    click.echo(f"ivr models {command}: {error}", err=True)
    raise SystemExit(1)


def _fetch(list_url: str | None, config: dict[str, object]) -> list[ModelInfo]:
    return fetch_model_list(list_url or str(config["VOSK_MODEL_LIST_URL"]))


@contextmanager
def _progress(info: ModelInfo) -> Iterator[Progress]:
    """A progress bar on a terminal, else a line per 10 % (logs and CI keep those readable)."""
    stream = sys.stderr  # stdout carries only the result, for scripts
    if stream.isatty():
        with click.progressbar(length=info.size, label=info.name, file=stream) as bar:
            seen = [0]

            def update(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - seen[0])
                seen[0] = done

            yield update
        return
    shown = [0]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth > shown[0]:
            shown[0] = tenth
            click.echo(f"{info.name}: {tenth * 10}% ({_mib(done)} of {_mib(total)})", err=True)

    yield report


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
