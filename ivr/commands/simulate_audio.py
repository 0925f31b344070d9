"""``ivr simulate --audio``: a WAV file is the caller, on the real phone path.

The real app (:func:`ivr.web.create_app`) is served in this process on a free 127.0.0.1 port,
with a database and a spool of its own in a temporary folder (a simulated call never reaches
the dashboard), and no Twilio account (no real call or text leaves). The Twilio emulator
(through :mod:`ivr.commands.call`, the product's one door to it) is the network: it says the
WAV over a real Media Streams socket to the real Vosk listener, and the timeline it prints
gains what the bot heard and said, read from the call's record.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.flow import Flow
from ivr.commands.call import (
    Line,
    Note,
    audio_steps,
    place_call,
    require_emulator,
    show_result,
    wav_layout,
)
from ivr.commands.common import nlu_server
from ivr.config import DEVELOPMENT_PUBLIC_URL, model_paths, model_settings
from ivr.nlu.service import NLUServerHandle
from voice import asr

if TYPE_CHECKING:  # the app itself is imported when it is served: bad input fails fast
    from ivr.parts import Parts
    from ivr.store import TurnRecord

log = logging.getLogger(__name__)

#: What ``--audio`` takes.
WAV_FORMAT = "16-bit PCM WAV, mono or stereo, any sample rate"
#: How long to wait for the prompts and the speech model to warm up before dialling.
READY_SECONDS = 120.0
_PCM = 1
_ENCODINGS = {3: "IEEE float", 6: "A-law", 7: "μ-law"}


@dataclass(frozen=True)
class AudioCall:
    """What ``ivr simulate --audio`` was asked to do."""

    wav: Path
    flows: str
    caller: str
    now: datetime | None
    verbose: bool
    as_json: bool
    keep_server: bool
    language: str


def simulate_audio(config: Mapping[str, Any], flow: Flow, call: AudioCall) -> None:
    """Play ``call.wav`` as the caller to the real app and print the call's timeline."""
    require_emulator("simulate", "ivr simulate --audio")  # it reads the WAV too
    check_wav(call.wav)
    steps = audio_steps(call.wav, "simulate", greeting_first=True)
    model = speech_model(config, call.language, flow.default_language)
    _quiet_server_logs()
    with (
        nlu_server(config, flow, "simulate", keep_server=call.keep_server) as nlu,
        tempfile.TemporaryDirectory(prefix="ivr-simulate-") as folder,
        redirect_stdout(sys.stderr),  # stdout is the timeline's (pyttsx3 prints there)
    ):
        models = f"{call.language}={model}"
        app_config = _app_config(config, call.flows, nlu, models, Path(folder))
        with serving(app_config, _clock(call.now)) as (url, parts):
            _wait_until_warm(parts)
            line = Line(url, DEVELOPMENT_PUBLIC_URL, app_config["TWILIO_AUTH_TOKEN"], call.caller)
            started = (time.monotonic(), parts.clock())
            result = place_call(line, steps, "simulate")
            turns = _turns(parts, result.call_sid, started)
    show_result(
        result,
        as_json=call.as_json,
        notes=[note for at, turn in turns for note in notes(at, turn, call.verbose)],
        extra_json={"turns": [_as_json(turn, at - result.started_at) for at, turn in turns]},
    )


def _wait_until_warm(parts: Parts) -> None:
    """Let the prompts and the speech model warm up, as a server would before its first call."""
    parts.prompts_ready.wait(READY_SECONDS)
    if parts.recognizers:
        parts.speech_ready.wait(READY_SECONDS)


def _turns(
    parts: Parts, call_sid: str, started: tuple[float, datetime]
) -> list[tuple[float, TurnRecord]]:
    """The call's recorded turns, each at its ``time.monotonic()`` time.

    ``started`` is one moment on both clocks: ``time.monotonic()`` and the app's.
    """
    record = parts.call_store().get_call(call_sid)
    turns = record.turns if record is not None else ()
    return [(started[0] + (turn.at - started[1]).total_seconds(), turn) for turn in turns]


def check_wav(path: Path) -> None:
    """Exit with one line naming ``path`` unless it is a :data:`WAV_FORMAT` file."""
    try:
        problem = wav_problem(path.read_bytes())
    except OSError as error:
        problem = error.strerror or str(error)
    if problem is not None:
        raise SystemExit(f"simulate: {path}: {problem}; --audio takes {WAV_FORMAT}")


def wav_problem(data: bytes) -> str | None:
    """What keeps ``data`` from being a :data:`WAV_FORMAT` file, or ``None``."""
    try:
        tag, channels, _, bits, samples = wav_layout(data)
    except ValueError as error:
        return str(error)
    if tag != _PCM:
        return f"{_ENCODINGS.get(tag, f'format {tag:#x}')} audio, not PCM"
    if bits != 16:
        return f"{bits}-bit PCM"
    if channels not in (1, 2):
        return f"{channels} channels"
    return None if samples else "no audio in it"


def speech_model(config: Mapping[str, Any], lang: str, default_language: str) -> Path:
    """The Vosk model for ``lang``; exit saying how to get one if there is none."""
    configured = model_settings(config, default_language).get(lang, "")
    # Quiet: the message below says it.
    path = model_paths(config, [lang], default_language, quiet=True)[lang]
    if path is None:
        what = f"IVR_VOSK_MODEL={configured} is not one" if configured else "there is none"
        how = asr.INSTALL_HINT.format(lang=asr.vosk_language(lang)).removeprefix("no Vosk model: ")
        raise SystemExit(f"simulate: --audio needs a speech model, and {what}: {how}")
    log.info("listening with the Vosk model %s", path)
    return path


@contextmanager
def serving(
    config: Mapping[str, Any], clock: Callable[[], datetime]
) -> Iterator[tuple[str, Parts]]:
    """The real app on a free 127.0.0.1 port, served by threads until the block ends."""
    from werkzeug.serving import make_server

    from ivr.parts import build_parts
    from ivr.web import create_app

    parts = build_parts(config)
    parts.clock = clock
    try:
        server = make_server("127.0.0.1", 0, create_app(config, parts), threaded=True)
    except BaseException:
        parts.close()
        raise
    thread = threading.Thread(target=server.serve_forever, name="simulate-web", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", parts
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        parts.close()


def _app_config(
    config: Mapping[str, Any], flows: str, nlu: NLUServerHandle, models: str, folder: Path
) -> dict[str, Any]:
    """The user's configuration, with what makes the app a private, offline copy."""
    return {
        **config,
        "MODE": "development",
        "FLOWS": flows,
        "NLU_URL": nlu.url,
        "NLU_TOKEN": nlu.token,
        "VOSK_MODEL": "",
        "VOSK_MODELS": models,  # the call's language: heard by this model
        "PUBLIC_URL": DEVELOPMENT_PUBLIC_URL,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),  # only the emulator signs with it
        "TWILIO_ACCOUNT_SID": "",  # the emulator is the network: nothing real is placed
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": f"sqlite:///{folder / 'calls.db'}",
        "SPOOL_DIR": str(folder / "spool"),
        "ASR_WARM_RECOGNIZERS": 1,  # one call needs one recogniser
    }


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """Real time, or time running on from ``now`` (``--now``)."""
    if now is None:
        return lambda: datetime.now(UTC)
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def notes(at: float, turn: TurnRecord, verbose: bool) -> list[Note]:
    """Timeline lines for one caller turn: what the bot heard and understood, then said."""
    if turn.kind == "speech":
        heard = f'heard "{turn.text or ""}"'
    else:
        heard = f"{turn.kind} turn" + (f' "{turn.text}"' if turn.text else "")
    if turn.intent is not None and turn.confidence is not None:
        heard += f" -> {turn.intent} {turn.confidence:.2f}"
    if verbose and turn.decision:
        heard += f" ({turn.decision})"
    lines = [(at, "bot", heard)]
    for action in turn.actions:
        if not action.startswith("["):
            lines.append((at, "bot", f'says "{action}"'))
        elif verbose:
            lines.append((at, "bot", action))
    return lines


def _as_json(turn: TurnRecord, at: float) -> dict[str, Any]:
    """A caller turn for ``--json``, at seconds since the call started."""
    return {**asdict(turn), "at": round(at, 3)}


def _quiet_server_logs() -> None:
    """At the default level, keep the in-process server's per-request lines off the screen."""
    if logging.getLogger().getEffectiveLevel() == logging.INFO:
        for name in ("werkzeug", "alembic"):  # each request; the schema's set-up
            logging.getLogger(name).setLevel(logging.WARNING)
