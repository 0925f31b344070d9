"""``ivr models download|list`` against a real local HTTP server standing in for alphacephei."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.models import models
from ivr.config import ROOT
from tests.voice.model_server import ModelServer, model_zip

NAME = "vosk-model-small-xx-0.1"
IVR = [sys.executable, "-m", "ivr"]


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer().running() as running:
        running.publish(NAME, "xx", model_zip(NAME, payload=3 * 2**20), lang_text="Testish")
        running.publish(
            "vosk-model-xx-0.2",
            "xx",
            model_zip("vosk-model-xx-0.2"),
            kind="big",
            lang_text="Testish",
        )
        running.publish("vosk-model-small-yy-0.1", "yy", model_zip(), obsolete=True)
        running.publish("vosk-model-small-zz-0.3", "zz", model_zip(), lang_text="Zedish")
        yield running


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IVR_VOSK_MODEL_LIST_URL", raising=False)
    return tmp_path / "cache"


def test_download_prints_the_path_and_the_setting(server: ModelServer, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    args = ["download", "xx", "--list-url", server.list_url, "--dest", str(dest)]
    result = CliRunner().invoke(models, args)
    assert result.exit_code == 0, result.output
    path = dest / NAME
    assert result.stdout.splitlines() == [str(path), f"IVR_VOSK_MODELS=xx={path}"]
    assert (path / "ivr-model.json").is_file()
    progress = result.stderr.splitlines()
    assert progress[-1] == f"{NAME}: 100% (3.0 MiB of 3.0 MiB)"
    percents = [int(line.split(": ")[1].split("%")[0]) for line in progress]
    assert percents == sorted(set(percents)) and len(percents) >= 3

    again = CliRunner().invoke(models, args)
    assert again.exit_code == 0, again.output
    assert again.stdout == result.stdout
    assert again.stderr == f"{NAME} is already downloaded\n"
    assert server.requested(f"/{NAME}.zip") == 1


def test_download_defaults_to_the_cache_and_the_configured_list(
    server: ModelServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_VOSK_MODEL_LIST_URL", server.list_url)
    result = CliRunner().invoke(models, ["download", "xx", "--kind", "big"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == str(cache / "vosk-models" / "vosk-model-xx-0.2")


def test_an_unknown_language_exits_1_listing_the_languages(server: ModelServer) -> None:
    result = CliRunner().invoke(models, ["download", "de", "--list-url", server.list_url])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ivr models download: no Vosk model for 'de'; languages with a small model: xx, zz\n"
    )


def test_an_unreachable_list_exits_1_naming_the_url(server: ModelServer) -> None:
    url = server.base + "/missing.json"
    result = CliRunner().invoke(models, ["download", "xx", "--list-url", url])
    assert result.exit_code == 1
    assert result.stderr == (
        f"ivr models download: cannot fetch the model list {url}: HTTP 404 Not Found\n"
    )


def test_list_shows_current_languages_and_what_is_downloaded(
    server: ModelServer, tmp_path: Path
) -> None:
    dest = tmp_path / "models"
    before = CliRunner().invoke(
        models, ["list", "--list-url", server.list_url, "--dest", str(dest)]
    )
    assert before.exit_code == 0, before.output
    assert before.stdout.splitlines() == [
        "xx  Testish: big vosk-model-xx-0.2 (0.0 MiB), small vosk-model-small-xx-0.1 (3.0 MiB)",
        "zz  Zedish: small vosk-model-small-zz-0.3 (0.0 MiB)",
    ]
    download = ["download", "xx", "--list-url", server.list_url, "--dest", str(dest)]
    assert CliRunner().invoke(models, download).exit_code == 0
    after = CliRunner().invoke(models, ["list", "--list-url", server.list_url, "--dest", str(dest)])
    assert "small vosk-model-small-xx-0.1 (3.0 MiB) downloaded" in after.stdout.splitlines()[0]


def test_the_ivr_command_has_the_models_group(server: ModelServer, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    result = subprocess.run(
        [*IVR, "models", "download", "zz", "--list-url", server.list_url, "--dest", str(dest)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    path = dest / "vosk-model-small-zz-0.3"
    assert result.stdout.splitlines() == [str(path), f"IVR_VOSK_MODELS=zz={path}"]


def test_download_fetches_the_czech_and_polish_models_the_line_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The official names: cs is only published as the rhasspy build, pl as 0.22; both 16 kHz.
    cs, pl = "vosk-model-small-cs-0.4-rhasspy", "vosk-model-small-pl-0.22"
    with ModelServer().running() as running:
        running.publish(cs, "cs", model_zip(cs), lang_text="Czech")
        running.publish(pl, "pl", model_zip(pl), lang_text="Polish")
        running.publish("vosk-model-pl-0.3", "pl", model_zip("vosk-model-pl-0.3"), kind="big")
        running.publish("vosk-model-small-en-us-0.15", "en-us", model_zip(), lang_text="English")
        dest = tmp_path / "models"
        args = ["download", "cs", "pl", "en", "--list-url", running.list_url, "--dest", str(dest)]
        result = CliRunner().invoke(models, args)
    assert result.exit_code == 0, result.output
    en = dest / "vosk-model-small-en-us-0.15"  # a flow's "en" is Vosk's "en-us"
    assert result.stdout.splitlines() == [
        str(dest / cs),
        str(dest / pl),
        str(en),
        f"IVR_VOSK_MODELS=cs={dest / cs} pl={dest / pl} en={en}",
    ]
    # Each is found for its own language, and for no other.
    from voice import asr

    monkeypatch.setattr("voice.asr.pkgutil.iter_modules", lambda: iter(()))
    assert asr.resolve_model_path(None, lang="cs", models_dir=dest) == dest / cs
    assert asr.resolve_model_path(None, lang="pl", models_dir=dest) == dest / pl
    assert asr.resolve_model_path(None, lang="lv", models_dir=dest) is None


def test_one_unknown_language_fails_the_download_and_names_the_published_ones(
    server: ModelServer, tmp_path: Path
) -> None:
    args = ["download", "xx", "lv", "--list-url", server.list_url, "--dest", str(tmp_path)]
    result = CliRunner().invoke(models, args)
    assert result.exit_code == 1
    assert "lv" in result.stderr and "xx" in result.stderr
