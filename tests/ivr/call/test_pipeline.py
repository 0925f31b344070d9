"""The call pipeline with real Vosk and real espeak-ng audio, driven frame by frame."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ivr.call.live import LiveCall
from tests.ivr.call.conftest import InlineExecutor, Rig
from voice.tts import SynthesisFailed

pytestmark = pytest.mark.slow


def test_the_caller_hears_the_greeting_and_the_question_with_a_mark_each(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    rig.pipeline.started("+447700900123", "+442079460000", None)
    assert rig.outbox.kinds() == ["media", "mark", "media", "mark"]
    assert rig.outbox.marks() == ["1:greeting", "2:how_can_i_help"]
    assert all(size > 8000 for size in rig.outbox.media_sizes())  # > 1 s each


def test_speech_is_recognised_understood_and_answered_with_stage_timings(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    rig.pipeline.started("+447700900123", None, None)
    rig.echo_marks()
    sent_before = len(rig.outbox.sent)
    rig.silence(200)
    rig.speak(speech_ulaw["greeting"])
    rig.silence(700)
    assert rig.nlu.heard and rig.nlu.heard[0]  # Korean words from the real model
    assert rig.outbox.marks()[2:] == ["3:bill", "4:anything"]  # billing_info, then a question
    assert ("clear", None) not in rig.outbox.sent[sent_before:]
    timing = rig.pipeline.last_timing
    assert timing is not None
    assert {"end_of_turn", "asr", "nlu", "tts", "send"} <= set(timing.stages)
    assert 0 < timing.stages["end_of_turn"] <= 600
    record = rig.store.get_call(rig.pipeline.call_id)
    assert record is not None and record.turns[-1].intent == "billing_question"
    assert record.turns[-1].latency_ms["end_of_turn"] == timing.stages["end_of_turn"]


def test_confidently_understood_words_end_the_turn_at_a_short_pause(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    waits = {}
    for confident_ms in (300, 0):
        # Understood at once, as a real NLU is within the pause's 150 ms of real time.
        rig = make_rig(confident_silence_ms=confident_ms, understanding=InlineExecutor())
        rig.pipeline.started(None, None, None)
        rig.echo_marks()
        rig.speak(speech_ulaw["thanks"])
        rig.silence(800)
        assert rig.pipeline.last_timing is not None
        waits[confident_ms] = rig.pipeline.last_timing.stages
        assert len(rig.nlu.heard) == 1  # understood once, during the pause or after it
    assert waits[0]["end_of_turn"] >= 600 and waits[0]["nlu_in_pause"] == 0
    assert waits[300]["end_of_turn"] < 400 and waits[300]["nlu_in_pause"] == 1


def test_unclear_words_wait_for_the_full_silence(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    rig.nlu.confidence = 0.3  # under the flow's threshold: the bot will ask again
    rig.pipeline.started(None, None, None)
    rig.echo_marks()
    rig.speak(speech_ulaw["thanks"])
    rig.silence(800)
    assert rig.pipeline.last_timing is not None
    assert rig.pipeline.last_timing.stages["end_of_turn"] >= 600


def test_speech_over_a_prompt_clears_it_within_the_onset_and_the_bot_listens(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)  # marks not echoed: the greeting is still playing
    frames_until_clear = 0
    audio = speech_ulaw["greeting"]
    for start in range(0, len(audio), 160):
        rig.pipeline.audio(audio[start : start + 160])
        frames_until_clear += 1
        if ("clear", None) in rig.outbox.sent:
            break
    assert ("clear", None) in rig.outbox.sent
    onset = next(i for i in range(0, len(audio), 160) if max(audio[i : i + 160]) < 0xF0) // 160
    assert frames_until_clear - onset <= 100 // 20 + 3  # the barge-in threshold, plus VAD onset
    rig.echo_marks()  # Twilio echoes the cleared marks
    rig.speak(audio[start + 160 :])
    rig.silence(700)
    assert rig.nlu.heard  # the interrupting words were heard and acted on
    record = rig.store.get_call(rig.pipeline.call_id)
    assert record is not None
    assert [e.data["prompt"] for e in record.events if e.kind == "barge_in"] == ["greeting"]


def test_short_noise_over_a_prompt_does_not_interrupt(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    click = bytes([0x10, 0x90] * 40)  # 10 ms of loud clicking
    rig.pipeline.audio(click)
    rig.silence(300)
    assert ("clear", None) not in rig.outbox.sent


def test_silence_after_the_prompt_reprompts_then_hands_to_a_person(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    rig.silence(3000)  # still playing (no marks echoed): no timeout while the bot talks
    assert len(rig.outbox.marks()) == 2
    rig.echo_marks()
    rig.silence(6100)
    assert rig.outbox.marks()[2:] == ["3:no_input", "4:how_can_i_help_again"]
    rig.echo_marks()
    rig.silence(6100)
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None and handover.kind == "transfer" and handover.reason == "no_input"
    assert not rig.outbox.closed  # "connecting" is still playing
    rig.echo_marks()
    assert rig.outbox.closed


def test_keypad_zero_reaches_a_person_and_closes_after_the_prompt(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    rig.pipeline.dtmf("0")
    assert ("clear", None) in rig.outbox.sent  # a key press interrupts the prompt too
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None
    assert (handover.kind, handover.queue, handover.reason) == (
        "transfer",
        "general",
        "asked_for_person",
    )
    assert "Welcome" not in handover.context.get("summary", "")
    rig.echo_marks()
    assert rig.outbox.closed


def to_account_question(rig: Rig, speech: bytes) -> None:
    """Say anything (the NLU hears an outage): the bot asks for the account number."""
    rig.pipeline.started(None, None, None)
    rig.echo_marks()
    rig.speak(speech)
    rig.silence(700)
    rig.echo_marks()
    assert rig.pipeline.dialogue.session.step_id == "outage_account"


def test_typed_digits_are_gathered_into_one_entry(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig("report_outage")
    to_account_question(rig, speech_ulaw["greeting"])
    for digit in "44128890":
        rig.pipeline.dtmf(digit)
    session = rig.pipeline.dialogue.session
    assert session.slots.get("account_number") == "44128890"
    assert session.turns[-1].text == "44128890"


def test_a_pause_while_typing_sends_what_was_typed(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig("report_outage")
    to_account_question(rig, speech_ulaw["greeting"])
    for digit in "441":
        rig.pipeline.dtmf(digit)
    before = len(rig.pipeline.dialogue.session.turns)
    rig.silence(2400)
    assert len(rig.pipeline.dialogue.session.turns) == before
    rig.silence(200)
    turns = rig.pipeline.dialogue.session.turns
    assert len(turns) == before + 1 and turns[-1].text == "441"  # too short: asked again


def test_the_nlu_down_means_an_apology_and_a_person(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig(intent=None)
    rig.pipeline.started(None, None, None)
    rig.echo_marks()
    rig.speak(speech_ulaw["greeting"])
    rig.silence(700)
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None
    assert (handover.kind, handover.reason, handover.apologise) == (
        "transfer",
        "nlu_unavailable",
        False,  # our own voice apologised
    )
    assert "3:technical_problem" in rig.outbox.marks()


class BrokenVoice:
    engine_version = "broken"

    def voice_for(self, language: str) -> str:
        return language

    def synthesize(self, text: str, language: str) -> bytes:
        raise SynthesisFailed("espeak-ng exited with 1", text=text, language=language)


def test_our_voice_failing_hands_over_with_an_apology_by_twilio(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(synthesizer=BrokenVoice())
    rig.pipeline.started("+447700900123", None, None)
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None
    assert (handover.kind, handover.reason, handover.apologise) == ("transfer", "tts_failed", True)
    assert rig.outbox.closed and rig.outbox.marks() == []
    record = rig.store.get_call(rig.pipeline.call_id)
    assert record is not None and record.outcome == "transfer" and record.reason == "tts_failed"


def test_no_speech_model_hands_over_with_an_apology(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(listener=False)
    rig.pipeline.started(None, None, None)
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None and (handover.reason, handover.apologise) == (
        "asr_unavailable",
        True,
    )
    assert rig.outbox.closed


def test_a_caller_who_hangs_up_is_recorded_and_nothing_more_is_sent(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    rig.pipeline.stopped()
    sent = len(rig.outbox.sent)
    rig.silence(7000)
    rig.pipeline.dtmf("0")
    assert len(rig.outbox.sent) == sent
    assert rig.board.get(rig.pipeline.call_id) is None
    record = rig.store.get_call(rig.pipeline.call_id)
    assert record is not None and [e.kind for e in record.events] == ["caller_hung_up"]


def test_a_mark_we_never_sent_is_ignored(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    rig.pipeline.marked("99:nothing")
    assert not rig.outbox.closed
    rig.echo_marks()
    rig.silence(100)
    assert rig.pipeline.handover is None


def test_a_callback_number_is_typed_as_one_entry_even_when_it_starts_with_zero(
    make_rig: Callable[..., Rig],
) -> None:
    closed = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # the test line closes at 20:00
    rig = make_rig("talk_to_human", now=closed)
    rig.pipeline.started(None, "+442079460000", None)  # a withheld number rang a UK line
    rig.pipeline.dtmf("0")  # a person; nobody is there: book a callback, asking for a number
    session = rig.pipeline.dialogue.session
    assert session.active and session.booking is not None
    for digit in "07700900123#":  # this "0" is the number's, not "a person"
        rig.pipeline.dtmf(digit)
    session = rig.pipeline.dialogue.session
    assert session.turns[-1].text == "07700900123#"
    assert session.booking is not None and session.booking.number == "+447700900123"


def test_the_live_call_says_when_the_caller_is_mid_turn(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    call = LiveCall(rig.pipeline, None)
    rig.pipeline.started(None, None, None)
    rig.echo_marks()
    rig.silence(200)
    assert not call.mid_turn  # waiting for the caller: the socket may read in pieces
    rig.speak(speech_ulaw["greeting"])
    assert call.mid_turn  # a turn's end is awaited: every message read at once
    rig.silence(800)
    assert not call.mid_turn and rig.nlu.heard
    assert not LiveCall(make_rig(listener=False).pipeline, None).mid_turn  # keypad only
