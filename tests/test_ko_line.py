"""The Korean test line: it is a valid flow, its conversation tests pass against its real model,
and each test phrase, spoken by espeak-ng and carried like a phone call, is heard by the real
Vosk model as words the real Rasa model routes to the expected intent with confidence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.convtest import ConversationTest, load_tests, run_test
from bot.engine import Engine
from bot.engine.base import is_confident
from bot.flow import Flow, check_flow, load_flow
from bot.flow.model import AskStep
from bot.nlu.rasa import RasaNLU
from ivr.commands.common import unreachable_nlu
from tests.fixtures.ko_line import KO_EXPECTED, KO_LINE, KO_PHRASES, PHONE_RATE
from voice import asr, codec
from voice.listener import Heard, Listener
from voice.resampling import ResamplingRecognizer
from voice.turns import TurnConfig

TESTS = load_tests(KO_LINE / "tests")
FRAME = PHONE_RATE // 50  # 20 ms of μ-law: one Twilio media message
SILENCE = b"\xff"  # μ-law zero


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(KO_LINE)


def test_the_flow_is_valid(flow: Flow) -> None:
    checked, problems = check_flow(KO_LINE)
    assert problems == [] and checked is not None
    assert flow.languages == ("ko",) and flow.default_language == "ko"
    assert flow.escalation.person_queue == "general"


@pytest.mark.parametrize(
    "local", ["2026-11-22T03:00", "2026-11-25T23:59:59", "2026-11-28T00:00", "2026-12-25T12:00"]
)
def test_the_line_is_open_at_any_hour(flow: Flow, local: str) -> None:
    now = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Seoul"))
    assert flow.business_hours.timezone == "Asia/Seoul"
    assert flow.business_hours.is_open(now)


def test_every_phrase_names_an_intent_the_line_routes(flow: Flow) -> None:
    assert KO_PHRASES.keys() == KO_EXPECTED.keys()
    routed = {i for step in flow.steps.values() if isinstance(step, AskStep) for i in step.routes}
    routed |= set(flow.global_intents)
    assert set(KO_EXPECTED.values()) <= routed


def test_there_are_conversation_tests_for_each_way_out() -> None:
    assert len(TESTS) >= 12
    expected = [turn.expect for test in TESTS for turn in test.turns]
    assert {e.get("queue") for e in expected} >= {"billing", "faults", "general"}
    assert any(e.get("action") == "hangup" for e in expected)


@pytest.mark.rasa
@pytest.mark.parametrize("conversation", TESTS, ids=lambda t: f"{t.where.file}:{t.where.line}")
def test_conversation(conversation: ConversationTest, flow: Flow, ko_rasa_nlu: RasaNLU) -> None:
    with unreachable_nlu() as down:
        outcome = run_test(conversation, Engine(flow), ko_rasa_nlu, down)
    assert outcome.passed, "\n".join([*outcome.failures, "transcript:", *outcome.transcript])


def test_the_speech_is_telephone_audio_of_a_short_phrase(ko_speech: dict[str, bytes]) -> None:
    assert ko_speech.keys() == KO_PHRASES.keys()
    for name, audio in ko_speech.items():
        assert 0.8 <= len(audio) / PHONE_RATE <= 3.0, name
        assert len(set(audio)) > 50, f"{name} is not speech"
    assert len(set(ko_speech.values())) == len(ko_speech)


def heard_plainly(model_path: Path, ulaw: bytes) -> str:
    """Vosk's words for the audio alone: μ-law → PCM → 16 kHz in 20 ms frames, then final."""
    recognizer = asr.VoskRecognizer(model_path)
    up = codec.Resampler(PHONE_RATE, recognizer.sample_rate)
    for i in range(0, len(ulaw), FRAME):
        recognizer.accept(up.process(codec.decode_ulaw(ulaw[i : i + FRAME])).tobytes())
    return recognizer.final().text


def heard_on_a_call(model_path: Path, ulaw: bytes) -> list[str]:
    """The turns the call's :class:`Listener` hears when the caller speaks after a pause.

    The settings are the app's defaults (ivr/config.py), so the recogniser gets what it gets on
    a call: the turn's pre-roll, the speech, and the end of turn.
    """
    listener = Listener(
        ResamplingRecognizer(asr.VoskRecognizer(model_path), PHONE_RATE),
        TurnConfig(silence_ms=600, start_ms=120),
        prepare_ms=150,
    )
    stream = SILENCE * PHONE_RATE + ulaw + SILENCE * (2 * PHONE_RATE)
    events = [e for i in range(0, len(stream), FRAME) for e in listener.feed(stream[i : i + FRAME])]
    return [e.text for e in events if isinstance(e, Heard)]


@pytest.mark.rasa
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KO_PHRASES))
def test_a_spoken_phrase_is_understood(
    name: str,
    flow: Flow,
    model_path: Path,
    ko_speech: dict[str, bytes],
    ko_rasa_nlu: RasaNLU,
) -> None:
    plain = heard_plainly(model_path, ko_speech[name])
    on_a_call = heard_on_a_call(model_path, ko_speech[name])
    assert len(on_a_call) == 1, f"{KO_PHRASES[name]!r} was heard as {on_a_call} turns"
    for words in (plain, on_a_call[0]):
        result = ko_rasa_nlu.parse(words)
        shown = f"{KO_PHRASES[name]!r} heard as {words!r}: {result.intent} {result.confidence:.2f}"
        assert result.intent == KO_EXPECTED[name], shown
        assert is_confident(result, flow), f"{shown}, margin {result.margin:.2f}"
