"""Official Vosk models: read the published list, choose one, download it into the cache.

Usage::

    models = fetch_model_list(MODEL_LIST_URL)
    info = choose_model(models, "en-us")          # the newest small, non-obsolete model
    path = download_model(info, default_models_dir(), progress=lambda done, total: ...)

A downloaded model is ``<dest_dir>/<name>/`` with an ``ivr-model.json`` marker (lang, name,
md5). The marker is written before the directory is moved into place, so a model directory with
a marker is complete and checked; :func:`downloaded_models` lists only those.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

log = logging.getLogger(__name__)

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
MARKER = "ivr-model.json"
_CHUNK = 1 << 20
_PART = ".part-"  # work folders: .<name>.part-XXXX
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

#: ``progress(bytes_done, bytes_total)`` during a download.
Progress = Callable[[int, int], None]


class ModelError(RuntimeError):
    """A model could not be listed, chosen or downloaded."""


class ModelDownloadError(ModelError):
    """Fetching or unpacking ``url`` failed; nothing is left half-written in the cache."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ModelChoiceError(ModelError):
    """No published model fits; ``languages`` are those that have one of the wanted kind."""

    def __init__(self, message: str, languages: Sequence[str]) -> None:
        super().__init__(message)
        self.languages = list(languages)


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the official model list."""

    name: str
    lang: str
    lang_text: str
    url: str
    md5: str
    size: int
    kind: str
    version: str
    obsolete: bool

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> ModelInfo:
        """Parse one list entry; ``obsolete`` is published as the string "true" or "false".

        Raises:
            KeyError, TypeError, ValueError: When a field is missing or malformed.
        """
        name = str(entry["name"])
        if not _SAFE_NAME.match(name):  # it becomes a directory name in the cache
            raise ValueError(f"unsafe model name {name!r}")
        obsolete = entry.get("obsolete", "false")
        return cls(
            name=name,
            lang=str(entry["lang"]),
            lang_text=str(entry.get("lang_text", entry["lang"])),
            url=str(entry["url"]),
            md5=str(entry["md5"]).lower(),
            size=int(entry["size"]),
            kind=str(entry.get("type", "")),
            version=str(entry.get("version", "")),
            obsolete=obsolete if isinstance(obsolete, bool) else str(obsolete).lower() == "true",
        )


def default_models_dir(cache_dir: str | Path | None = None) -> Path:
    """``<cache_dir>/vosk-models``; by default the cache is ``IVR_CACHE_DIR`` or ``~/.cache/ivr``.

    The default repeats ``ivr.config``'s rule because ``voice`` must not depend on ``ivr``.
    """
    if cache_dir is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        cache_dir = os.environ.get("IVR_CACHE_DIR") or os.path.join(base, "ivr")
    return Path(cache_dir).expanduser() / "vosk-models"


def fetch_model_list(list_url: str = MODEL_LIST_URL, timeout: float = 30.0) -> list[ModelInfo]:
    """Download and parse the model list.

    Raises:
        ModelDownloadError: When the list cannot be fetched or is not a list of models.
    """
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            response = client.get(list_url)
            response.raise_for_status()
            entries = response.json()
    except httpx.HTTPStatusError as error:
        status = error.response
        raise ModelDownloadError(
            f"cannot fetch the model list {list_url}: HTTP {status.status_code} "
            f"{status.reason_phrase}",
            list_url,
        ) from error
    except httpx.HTTPError as error:
        raise ModelDownloadError(
            f"cannot fetch the model list {list_url}: {error}", list_url
        ) from error
    except ValueError as error:
        raise ModelDownloadError(
            f"the model list {list_url} is not JSON: {error}", list_url
        ) from error
    if not isinstance(entries, list):
        raise ModelDownloadError(f"the model list {list_url} is not a JSON array", list_url)
    models = []
    for index, entry in enumerate(entries):
        try:
            models.append(ModelInfo.from_json(entry))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelDownloadError(
                f"the model list {list_url}: entry {index} is not a model ({error!r})", list_url
            ) from error
    return models


def choose_model(models: Sequence[ModelInfo], lang: str, kind: str = "small") -> ModelInfo:
    """The model to use for ``lang``: not obsolete, of ``kind``, the plain one before variants.

    Variants such as ``vosk-model-small-en-us-zamia`` are chosen only when no model is named
    ``vosk-model-<kind>-<lang>-<version>``; among equals the newest version wins.

    Raises:
        ModelChoiceError: Naming the languages that do have a model of ``kind``.
    """
    current = [m for m in models if not m.obsolete]
    wanted = lang.lower()
    matches = [m for m in current if m.lang.lower() == wanted and m.kind == kind]
    if matches:
        return max(matches, key=lambda m: (_is_plain(m), _version_key(m.version), m.name))
    languages = sorted({m.lang for m in current if m.kind == kind})
    other_kinds = sorted({m.kind for m in current if m.lang.lower() == wanted})
    if other_kinds:
        message = f"no {kind} Vosk model for {lang!r}; it has: {', '.join(other_kinds)}"
    else:
        message = f"no Vosk model for {lang!r}"
    raise ModelChoiceError(
        f"{message}; languages with a {kind} model: {', '.join(languages) or 'none'}", languages
    )


def _is_plain(model: ModelInfo) -> bool:
    prefix = "vosk-model-" if model.kind == "big" else f"vosk-model-{model.kind}-"
    return model.name.lower() == f"{prefix}{model.lang.lower()}-{model.version}"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def installed_path(info: ModelInfo, dest_dir: Path) -> Path | None:
    """``dest_dir/<name>`` when it holds this very model (its marker has the same md5)."""
    path = dest_dir / info.name
    marker = _read_marker(path)
    return path if marker is not None and marker.get("md5") == info.md5 else None


def downloaded_models(dest_dir: Path) -> list[tuple[str, Path]]:
    """``(lang, path)`` of every complete downloaded model in ``dest_dir``, sorted by name."""
    if not dest_dir.is_dir():
        return []
    found = []
    for path in sorted(dest_dir.iterdir()):
        marker = None if path.name.startswith(".") else _read_marker(path)
        if marker is not None and isinstance(marker.get("lang"), str):
            found.append((str(marker["lang"]), path))
    return found


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def download_model(
    info: ModelInfo, dest_dir: Path, progress: Progress | None = None, timeout: float = 60.0
) -> Path:
    """Download, check and unpack ``info`` into ``dest_dir/<name>``; return that directory.

    A model already there (same md5) is not fetched again. A lock file under
    ``dest_dir/.locks`` makes a second process wait for the first and then reuse its model.

    Args:
        info: The model, usually from :func:`choose_model`.
        dest_dir: The models folder, e.g. :func:`default_models_dir`; created if missing.
        progress: Called with ``(bytes_done, bytes_total)`` as the zip arrives.
        timeout: Seconds to wait for the server to connect or send the next bytes.

    Raises:
        ModelDownloadError: On an HTTP or network error, an md5 mismatch, an unsafe or
            malformed zip. Partial files are removed first.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    with _model_lock(dest_dir, info.name):
        present = installed_path(info, dest_dir)
        if present is not None:
            log.info("Vosk model %s is already downloaded: %s", info.name, present)
            return present
        # Left behind by a killed download; safe to remove since we hold the lock.
        for stale in dest_dir.glob(f".{info.name}{_PART}*"):
            shutil.rmtree(stale, ignore_errors=True)
        with tempfile.TemporaryDirectory(dir=dest_dir, prefix=f".{info.name}{_PART}") as work:
            archive = Path(work) / f"{info.name}.zip"
            _fetch(info, archive, progress, timeout)
            root = _extract(archive, Path(work) / "unpacked", info.url)
            archive.unlink()
            marker = {"lang": info.lang, "name": info.name, "md5": info.md5, "url": info.url}
            (root / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            return _move_into_place(root, dest_dir / info.name, Path(work))


@contextmanager
def _model_lock(dest_dir: Path, name: str) -> Iterator[None]:
    locks = dest_dir / ".locks"
    locks.mkdir(exist_ok=True)
    # flock, not an O_EXCL file: the kernel releases it when a downloader dies.
    with open(locks / f"{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is downloading %s; waiting for it", name)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch(info: ModelInfo, archive: Path, progress: Progress | None, timeout: float) -> None:
    digest = hashlib.md5(usedforsecurity=False)  # the list publishes md5; integrity only
    done = 0
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", info.url) as response,
        ):
            response.raise_for_status()
            total = int(response.headers.get("content-length") or info.size)
            with archive.open("wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, max(total, done))
    except httpx.HTTPStatusError as error:
        status = error.response
        raise ModelDownloadError(
            f"cannot download {info.url}: HTTP {status.status_code} {status.reason_phrase}",
            info.url,
        ) from error
    except httpx.HTTPError as error:
        raise ModelDownloadError(f"cannot download {info.url}: {error}", info.url) from error
    if digest.hexdigest() != info.md5:  # the caller's temporary folder goes with the file
        raise ModelDownloadError(
            f"{info.url}: md5 {digest.hexdigest()} does not match the published {info.md5}; "
            "the download was deleted",
            info.url,
        )


def _extract(archive: Path, target: Path, url: str) -> Path:
    """Unpack after checking every entry; return the model directory inside ``target``."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            names = zipped.namelist()
            for name in names:
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
                    raise ModelDownloadError(
                        f"{url}: unsafe zip entry {name!r} would be written outside the model "
                        "directory; nothing was extracted",
                        url,
                    )
            zipped.extractall(target)
    except zipfile.BadZipFile as error:
        raise ModelDownloadError(f"{url}: not a valid zip file ({error})", url) from error
    # Official zips hold one folder named like the model; accept loose files as well.
    tops = {PurePosixPath(name.replace("\\", "/")).parts[0] for name in names}
    root = target
    if len(tops) == 1 and (target / next(iter(tops))).is_dir():
        root = target / next(iter(tops))
    if not ((root / "am").is_dir() or (root / "conf").is_dir()):
        raise ModelDownloadError(f"{url}: the zip holds no Vosk model (no am/ or conf/)", url)
    return root


def _move_into_place(root: Path, final: Path, work: Path) -> Path:
    """Rename ``root`` to ``final``; an incomplete or different copy there goes into ``work``."""
    if final.exists() or final.is_symlink():
        os.replace(final, work / "replaced")
    os.replace(root, final)
    log.debug("Vosk model downloaded to %s", final)  # info would cut through a progress bar
    return final
