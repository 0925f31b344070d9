"""Whole calls through the Twilio emulator against the real server on a port: keypad, transfer,
whisper, outcomes of the transfer, and every failure that must still end with a person or a
callback. The demo line (English) needs no speech understanding for these, but it must be
heard at all: no English Vosk model can be installed here, so scripted words stand in for one
(``english()``); without any, English callers would go straight to a person."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from twilio_emulator import (
    AgentBehaviour,
    CallResult,
    Hangup,
    Press,
    SpeakAudio,
    TwilioEmulator,
    WaitForBot,
)

from ivr.nlu.service import free_port
from tests.e2e.prompts import prompts_heard
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from voice.tts import SynthesisFailed

pytestmark = pytest.mark.slow
SUNDAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo line is closed on Sundays


def emulator(server: LiveServer, token: str | None = None) -> TwilioEmulator:
    return TwilioEmulator(
        server.url, server.public_url, token or server.auth_token, say_words_per_second=0
    )


def call(server: LiveServer, *script: object, **kwargs: object) -> CallResult:
    return emulator(server).call(list(script), max_seconds=60, **kwargs)  # type: ignore[arg-type]


def paths(result: CallResult) -> list[str]:
    return [w.url.split("ivr.example.test", 1)[1].split("?")[0] for w in result.webhooks]


def english() -> ScriptedRecognizerPool:
    """What an English model would hear: words for the one test that speaks."""
    return ScriptedRecognizerPool(["hello i'm calling about my account"])


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=english())


def test_keypad_zero_during_the_greeting_reaches_a_person_who_hears_the_whisper(
    server: LiveServer,
) -> None:
    result = call(server, Press("0"), WaitForBot(10), Hangup())
    assert result.ok, result.errors
    assert paths(result) == [
        "/twilio/voice", "/twilio/connect-action", "/twilio/whisper", "/twilio/dial-action",
        "/twilio/status",
    ]  # fmt: skip
    assert result.clears, "the key press cut the greeting short"
    marks = [m.name for m in result.marks]
    assert marks[0] == "1:greeting" and result.marks[0].cleared
    assert marks[-1].endswith("connecting") and not result.marks[-1].cleared
    (dial,) = result.dials
    assert dial.number == "+441632960001" and dial.outcome == "completed" and dial.bridged
    assert "asked for a person" in " ".join(dial.whisper)
    assert "+ 4 4 7 7 0 0 9 0 0 1 2 3" in " ".join(dial.whisper)
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None
    assert (record.outcome, record.queue, record.reason, record.status) == (
        "transfer", "general", "asked_for_person", "completed",
    )  # fmt: skip
    assert {"dtmf", "barge_in", "handover", "dial"} <= {e.kind for e in record.events}


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_a_transfer_nobody_takes_tries_another_agent_then_the_bot_books_a_callback(
    server: LiveServer, answer: str
) -> None:
    result = call(server, WaitForBot(15), Press("0"), WaitForBot(15), Hangup(),
                  agent=AgentBehaviour(answer=answer))  # fmt: skip
    assert result.ok, result.errors
    assert [(d.number, d.outcome) for d in result.dials] == [
        ("+441632960001", answer), ("sip:bob@pbx.acme.example", answer),
    ]  # fmt: skip
    assert len(result.streams) == 2  # the bot is back on the line to book the callback
    said = prompts_heard(result, after=result.dials[-1].ended_at)
    assert said[:2] == ["system:no_agent", "system:callback_when"], said
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and "callback_offered" in {e.kind for e in record.events}


def test_outside_hours_a_person_becomes_a_callback(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", clock=lambda: SUNDAY, recognizers=english()
    )
    result = call(server, WaitForBot(15), Press("0"), WaitForBot(15), Hangup())
    assert result.ok and not result.dials
    said = prompts_heard(result)
    assert said[2:4] == ["system:outside_hours", "system:callback_when"], said
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.outcome is None  # hung up before a time was agreed
    assert "caller_hung_up" in {e.kind for e in record.events}


def test_an_unsigned_caller_gets_403_and_no_stream(server: LiveServer) -> None:
    result = emulator(server, token="not-the-token").call([Hangup()], max_seconds=10)
    assert not result.ok and not result.streams
    assert result.webhooks[0].status_code == 403
    assert result.errors[0].code == 11200


def test_nlu_down_the_caller_hears_an_apology_and_reaches_a_person(
    server: LiveServer, speech_ulaw: dict[str, bytes]
) -> None:
    words = SpeakAudio(speech_ulaw["greeting"], "words")
    result = call(server, WaitForBot(15), words, WaitForBot(15),
                  Hangup())  # fmt: skip
    assert result.ok, result.errors
    assert any(m.name.endswith("technical_problem") for m in result.marks)
    (dial,) = result.dials
    assert "speech understanding was unavailable" in " ".join(dial.whisper)


def test_no_speech_model_apology_by_twilio_then_a_person(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}",
                         VOSK_MODEL=str(tmp_path / "missing"))  # fmt: skip
    result = call(server, Hangup())
    assert result.ok and not result.streams
    assert "technical problem" in result.heard_says[0]
    assert [d.outcome for d in result.dials] == ["completed"]


class BrokenVoice:
    engine_version = "broken-for-test"

    def voice_for(self, language: str) -> str:
        return language

    def synthesize(self, text: str, language: str) -> bytes:
        raise SynthesisFailed("espeak-ng: no such voice", text=text, language=language)


def test_our_voice_failing_apology_by_twilio_then_a_person(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", CACHE_DIR=str(tmp_path), recognizers=english()
    )
    server.services.voice.synthesizer = BrokenVoice()
    result = call(server, WaitForBot(10), Hangup())
    assert result.ok, result.errors
    assert result.streams and not result.marks  # the stream opened, no audio could be made
    assert "technical problem" in result.heard_says[0]
    assert [d.outcome for d in result.dials] == ["completed"]
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.reason == "tts_failed"


def test_database_down_apology_then_a_person(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}",
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/test",
        recognizers=english(),
    )
    result = call(server, Hangup())
    assert result.ok and not result.streams
    assert "technical problem" in result.heard_says[0]
    assert [d.outcome for d in result.dials] == ["completed"]


def test_calls_are_recorded_in_postgresql_too(
    live_server: Callable[..., LiveServer], postgres_url: str
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", DATABASE_URL=postgres_url, recognizers=english()
    )
    result = call(server, WaitForBot(15), Press("0"), WaitForBot(10), Hangup())
    assert result.ok, result.errors
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.outcome == "transfer" and record.status == "completed"
    assert "postgresql" in server.services.store.url  # type: ignore[union-attr]


def test_a_caller_who_hangs_up_mid_call_is_recorded_with_no_transfer(server: LiveServer) -> None:
    result = call(server, WaitForBot(15), Hangup())
    assert result.ok, result.errors
    assert not result.dials and result.status == "completed"
    assert paths(result) == ["/twilio/voice", "/twilio/status"]  # no Connect action after a stop
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.outcome is None and record.status == "completed"
    assert "caller_hung_up" in {e.kind for e in record.events}


def test_development_defaults_let_ivr_call_reach_ivr_serve_unconfigured(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}",
        PUBLIC_URL="",
        TWILIO_AUTH_TOKEN="",
        recognizers=english(),
    )
    script = tmp_path / "call.txt"
    script.write_text("wait 15   # the greeting\npress 0\nwait 10\nhangup\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "ivr", "call", "--script", str(script), "--url", server.url],
        env=env, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stream MZ" in done.stdout and "wss://ivr.localhost/twilio/media" in done.stdout
    assert "dial-action" in done.stdout
