"""Ready means warm: the first caller of a fresh `ivr serve` is served as fast as later ones.

A process that reported ``/healthz`` ready while its prompts and recognisers were still warming
once greeted its first caller 2.9 s late. Here the Procfile's gunicorn starts cold, the test
phones it the moment ``/healthz`` first says ready and compares that call with a second one.

Real: gunicorn on a port, the Korean test line (the only Vosk model here is Korean), real Vosk,
real Rasa, espeak-ng speech streamed in real time by the Twilio emulator.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from twilio_emulator import CallResult, Hangup, Speak, TwilioEmulator, WaitForBot

from ivr.config import ROOT
from ivr.nlu.service import NLUServerHandle, free_port
from tests.fixtures.ko_line import KO_LINE, KO_PHRASES
from tests.fixtures.live_server import web_command

pytestmark = pytest.mark.rasa

PUBLIC_URL = "https://ivr.example.test"
AUTH_TOKEN = "warm-start-token"
#: The issue's bound: the greeting's first audio this soon after the stream starts.
GREETING_MS = 150.0
TURNS = 4
#: The first reply may be this much later than the warm call's slowest (a slower machine
#: decodes new words slower). Measured here 2026-12-05: 3 ms sooner; 90 ms later with the
#: burst waiting for the settle (IVR_ASR_HANDOVER_MS=0), 110-210 ms (the bench) with one warm-up
#: example per intent too. On a slower machine, with a lone call's turn held for a burst at the
#: pause, 147-204 ms later (CI: 532 against 328 ms). A lone call now streams its audio
#: (IVR_ASR_HOLD_FROM_CALLS): with four processes spinning beside it 45-95 ms later (the bench),
#: 100 and 199 ms here; not rerun on that slow machine. The bench (bench/warm_start.py) holds
#: the goal itself: no slack.
SLACK_MS = 100.0


@pytest.fixture
def cold_server(tmp_path: Path, ko_nlu_server: NLUServerHandle) -> Iterator[str]:
    """The Procfile's web process, just started: its URL once it first answers ``/healthz``."""
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "IVR_MODE": "production",
        "IVR_FLOWS": str(KO_LINE),
        "IVR_NLU_URL": ko_nlu_server.url,
        "IVR_NLU_TOKEN": ko_nlu_server.token,
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path}/calls.db",
        "IVR_CACHE_DIR": str(tmp_path / "cache"),  # no prompt synthesised before this start
        "IVR_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "web.log").open("wb")
    server = subprocess.Popen(web_command(port), env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def wait_until_ready(url: str, seconds: float = 180) -> dict[str, object]:
    """Poll ``/healthz`` every 20 ms, as an eager load balancer would; its body when ready."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{url}/healthz", timeout=2)
            if health.status_code == 200:
                body: dict[str, object] = health.json()
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"the web process was not ready within {seconds:.0f} s")


def call(url: str) -> CallResult:
    """A caller who waits for the greeting, then asks about opening hours ``TURNS`` times."""
    steps: list[object] = [WaitForBot(30)]
    for _ in range(TURNS):
        steps += [Speak(KO_PHRASES["hours"], "ko"), WaitForBot(30)]
    emulator = TwilioEmulator(url, PUBLIC_URL, AUTH_TOKEN, say_words_per_second=0)
    return emulator.call([*steps, Hangup()], max_seconds=120)  # type: ignore[list-item]


def greeting_ms(result: CallResult) -> float:
    """From the stream's ``start`` message to the greeting's first audio."""
    start = next(m.at for m in result.sent if m.event == "start")
    first = next(m.at for m in result.received if m.event == "media")
    return (first - start) * 1000


def replies_ms(result: CallResult) -> list[float]:
    return [float(u.reply_latency_ms) for u in result.utterances if u.reply_latency_ms is not None]


def recognizers(url: str) -> dict[str, int]:
    """The Korean pool's use once no turn is being heard (a call's last one is dropped late)."""
    deadline = time.monotonic() + 10
    while (usage := httpx.get(f"{url}/healthz").json()["speech_recognizers"]["ko"])["in_use"]:
        assert time.monotonic() < deadline, f"a recogniser was never given back: {usage}"
        time.sleep(0.05)
    return dict(usage)


def test_the_first_call_after_ready_is_as_fast_as_a_warm_one(cold_server: str) -> None:
    health = wait_until_ready(cold_server)
    assert health["prompts"] == "ready" and health["speech"] == "ready"
    warmed = {"in_use": 0, "idle": 2, "made": 2, "peak_in_use": 0}  # IVR_ASR_WARM_RECOGNIZERS
    assert health["speech_recognizers"] == {"ko": warmed}  # warm-up's own use is no turn
    first = call(cold_server)
    warm = call(cold_server)
    # Every turn of both calls was heard by a recogniser warmed before ready: none made since,
    # one turn at a time.
    assert recognizers(cold_server) == {**warmed, "peak_in_use": 1}

    assert len(replies_ms(first)) == len(replies_ms(warm)) == TURNS, "every question answered"
    assert greeting_ms(first) <= GREETING_MS, f"greeting {greeting_ms(first):.0f} ms late"
    # "Within the warm p95": the slowest of the warm call's replies (its p95 over four turns),
    # with slack for the words the recogniser meets for the first time (Vosk expands its graph
    # per recogniser; the warm-up cannot know the callers' words). A cold process misses
    # by seconds (measured before ready meant warm: greeting 2.1 s, first reply 3.9 s).
    warm_p95 = max(replies_ms(warm))
    assert replies_ms(first)[0] <= warm_p95 + SLACK_MS, (
        f"first reply {replies_ms(first)[0]:.0f} ms, warm replies {replies_ms(warm)}"
    )
