"""Whole calls with real speech: the emulator streams espeak-ng Korean in real time to the real
server on a port, which listens with the real Vosk Korean model, understands with the real Rasa
model of the Korean test line, and answers with real pyttsx3 audio."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twilio_emulator import (
    CallResult,
    Hangup,
    Press,
    Silence,
    SpeakAudio,
    TwilioEmulator,
    WaitForBot,
)

from ivr.nlu.service import NLUServerHandle
from tests.e2e.prompts import prompts_heard
from tests.fixtures.ko_line import KO_LINE
from tests.fixtures.live_server import LiveServer

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture
def server(live_server: Callable[..., LiveServer], ko_nlu_server: NLUServerHandle) -> LiveServer:
    started = live_server(
        FLOWS=str(KO_LINE), NLU_URL=ko_nlu_server.url, NLU_TOKEN=ko_nlu_server.token,
        NLU_TIMEOUT=5.0, ASR_WARM_RECOGNIZERS=1,
    )  # fmt: skip
    assert started.services.prompts_ready.wait(60)
    return started


def call(server: LiveServer, *script: object) -> CallResult:
    emulator = TwilioEmulator(
        server.url, server.public_url, server.auth_token, say_words_per_second=0
    )
    return emulator.call(list(script), max_seconds=90)  # type: ignore[arg-type]


def test_a_caller_is_greeted_understood_answered_and_transferred_with_context(
    server: LiveServer, ko_speech: dict[str, bytes]
) -> None:
    result = call(
        server,
        WaitForBot(20),
        SpeakAudio(ko_speech["hours"], "hours"),
        WaitForBot(20),
        SpeakAudio(ko_speech["billing"], "billing"),
        WaitForBot(20),
        Hangup(),
    )
    assert result.ok, result.errors
    assert prompts_heard(result)[:3] == ["greeting", "opening_hours_text", "anything_else_question"]
    assert prompts_heard(result)[-1] == "connecting_billing"
    (dial,) = result.dials
    assert dial.number == "+441632960001" and dial.outcome == "completed"
    assert "billing_question" in " ".join(dial.whisper)
    answered = [u for u in result.utterances if u.reply_latency_ms is not None]
    assert len(answered) == 2
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None
    spoken = [t for t in record.turns if t.kind == "speech"]
    assert [t.intent for t in spoken] == ["opening_hours", "billing_question"]
    assert all(t.text and t.asr_confidence for t in spoken)
    assert {"end_of_turn", "asr", "nlu", "tts", "send"} <= set(spoken[0].latency_ms)
    assert (record.outcome, record.queue, record.status) == ("transfer", "billing", "completed")


def test_a_caller_who_talks_over_the_greeting_interrupts_it_and_is_heard(
    server: LiveServer, ko_speech: dict[str, bytes]
) -> None:
    # The greeting takes about 2.5 s to play; the caller starts talking 0.8 s into the call.
    speak = SpeakAudio(ko_speech["outage"], "outage")
    result = call(server, Silence(0.8), speak, WaitForBot(20), Hangup())
    assert result.ok, result.errors
    (clear,) = result.clears
    (utterance,) = result.utterances
    assert utterance.during_bot_audio and utterance.barge_in_ms is not None
    assert utterance.barge_in_ms < 400  # onset threshold (120 ms) + VAD + a round trip
    assert "greeting" in clear.marks_echoed[0]
    assert prompts_heard(result)[-1] == "connecting_faults"
    assert [d.number for d in result.dials] == ["+441632960002"]


def test_a_caller_asks_for_a_person_in_words(
    server: LiveServer, ko_speech: dict[str, bytes]
) -> None:
    result = call(server, WaitForBot(20), SpeakAudio(ko_speech["person"], "person"),
                  WaitForBot(20), Hangup())  # fmt: skip
    assert result.ok, result.errors
    (dial,) = result.dials
    assert dial.number == "+441632960000"
    assert "asked for a person" in " ".join(dial.whisper)


def test_keypad_zero_after_a_question_reaches_a_person(
    server: LiveServer, ko_speech: dict[str, bytes]
) -> None:
    result = call(
        server,
        WaitForBot(20),
        SpeakAudio(ko_speech["hours"], "hours"),
        WaitForBot(20),
        Press("0"),
        WaitForBot(20),
        Hangup(),
    )
    assert result.ok, result.errors
    assert prompts_heard(result)[1] == "opening_hours_text"
    assert [d.outcome for d in result.dials] == ["completed"]
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.reason == "asked_for_person"


def test_goodbye_ends_the_call_with_no_transfer(
    server: LiveServer, ko_speech: dict[str, bytes]
) -> None:
    result = call(server, WaitForBot(20), SpeakAudio(ko_speech["goodbye"], "goodbye"),
                  WaitForBot(20), Hangup())  # fmt: skip
    assert result.ok, result.errors
    assert not result.dials
    assert prompts_heard(result)[-1] == "goodbye_message"
    record = server.services.store.get_call(result.call_sid)  # type: ignore[union-attr]
    assert record is not None and record.outcome == "hangup"
