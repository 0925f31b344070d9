"""Calls at once on the real server, their sockets read by the one socket-hub thread.

Each call's stream starts on its request's thread, then the hub reads it: every call is
still heard and answered, and with ``IVR_STREAM_HUB=off`` each call's thread reads its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from twilio_emulator import CallResult, Hangup, SpeakAudio, WaitForBot

from ivr.nlu.service import free_port
from ivr.twilio.socket_hub import SocketHub
from ivr.wiring import EXTENSION
from tests.e2e.test_phone_failures import call
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.slow
WORDS = "hello i'm calling about my account"


def the_hub(server: LiveServer) -> SocketHub | None:
    hub = server.app.extensions[EXTENSION].get(SocketHub)
    return hub if isinstance(hub, SocketHub) else None


def calls_at_once(server: LiveServer, words: bytes, count: int) -> list[CallResult]:
    results: list[CallResult] = []
    script = (WaitForBot(15), SpeakAudio(words, "words"), WaitForBot(15), Hangup())
    threads = [
        threading.Thread(target=lambda: results.append(call(server, *script))) for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    hub = the_hub(server)
    if hub is not None:
        wait_for("every call on the hub", lambda: hub.connections == count, 30)
    for thread in threads:
        thread.join(90)
    return results


def test_calls_at_once_are_read_by_the_hub_and_each_is_heard(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    words = ScriptedRecognizerPool([WORDS] * 3)
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=words)
    results = calls_at_once(server, speech_ulaw["greeting"], 3)
    assert len(results) == 3 and all(result.ok for result in results), results
    assert words.heard == [WORDS] * 3  # every caller's turn reached the bot
    hub = the_hub(server)
    assert hub is not None
    wait_for("the hub to let every call go", lambda: hub.connections == 0, 10)


def test_without_the_hub_each_call_reads_its_own_socket(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    words = ScriptedRecognizerPool([WORDS] * 2)
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=words, STREAM_HUB=False
    )
    assert the_hub(server) is None
    results = calls_at_once(server, speech_ulaw["greeting"], 2)
    assert len(results) == 2 and all(result.ok for result in results), results
    assert words.heard == [WORDS] * 2
