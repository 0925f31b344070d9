"""Keypad, silence, prompt rendering, handover context, and random event sequences."""

from __future__ import annotations

import random

import pytest

from bot.engine import (
    Action,
    CallEnded,
    DigitsPressed,
    Event,
    Hangup,
    Listen,
    ScheduleCallback,
    SilenceTimedOut,
    SpeechRecognized,
    Status,
    Transfer,
)
from bot.engine.prompts import render, speak_datetime
from bot.flow.model import AfterSilence
from tests.bot.engine_flow import CLOSED, OPEN, Call, make_flow, nlu, p

# --- keypad ----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["main_menu", "account", "confirm"])
def test_zero_is_a_person_at_any_step(make: str) -> None:
    call = Call()
    if make == "account":
        call.hear("outage", ("report_outage", 0.95))
    elif make == "confirm":
        call.hear("bill", ("billing_question", 0.95))
    call.press("0")
    assert call.said == ["Connecting you now."]
    assert isinstance(call.last, Transfer)
    assert (call.last.queue, call.last.reason) == ("general", "asked_for_person")
    assert call.decision == "digit:person"


def test_zero_outside_hours_books_a_callback() -> None:
    call = Call(now=CLOSED)
    call.press("0")
    assert call.said == [
        "We're closed; we'll call you back.",
        "When would be a good time for us to call you back?",
    ]
    assert call.last == Listen(expect="callback_time")
    booking = call.session.booking
    assert booking is not None
    assert (booking.queue, booking.reason, booking.action_reason) == (
        "general",
        "asked_for_person",
        "outside_hours",
    )


def test_keypad_fills_digits_slot() -> None:
    call = Call()
    call.hear("outage", ("report_outage", 0.95))
    call.press("12345678#")
    assert call.session.slots["account_number"] == "12345678"
    assert call.decision == "slot:account_number"
    turn = call.session.turns[-1]
    assert (turn.kind, turn.text) == ("digits", "12345678#")


@pytest.mark.parametrize("digits", ["123", "123456789", "12*45678"])
def test_keypad_invalid_digits_is_a_misunderstanding(digits: str) -> None:
    call = Call()
    call.hear("outage", ("report_outage", 0.95))
    call.press(digits)
    assert call.decision == "misunderstood"
    assert "account_number" not in call.session.slots


def test_keypad_where_no_digits_expected_is_a_misunderstanding() -> None:
    call = Call()
    call.press("5")
    assert call.decision == "misunderstood"
    assert call.last == Listen(expect="intent")


# --- silence ---------------------------------------------------------------------------------


def test_silence_reprompts_then_person() -> None:
    call = Call()
    call.silence()
    assert call.said == ["Are you still there?", "Please tell me briefly why you're calling."]
    assert call.decision == "silence"
    call.silence()
    assert isinstance(call.last, Transfer)
    assert call.last.reason == "no_input"


def test_silence_then_end() -> None:
    call = Call(make_flow(after_silences=AfterSilence.END, silences_before_person=1))
    call.silence()
    assert call.said == ["Goodbye for now."]
    assert call.last == Hangup("no_input")
    assert call.session.status is Status.ENDED
    assert call.session.outcome == "no_input"


def test_silence_to_person_outside_hours() -> None:
    call = Call(make_flow(silences_before_person=1), now=CLOSED)
    call.silence()
    assert call.last == Listen(expect="callback_time")
    assert call.session.booking is not None
    assert call.session.booking.reason == "no_input"


def test_silence_and_misunderstanding_are_counted_apart() -> None:
    call = Call(make_flow(silences_before_person=2, misunderstandings_before_person=2))
    call.silence()
    call.hear("banana", ("chit_chat", 0.9))
    assert call.session.status is Status.ACTIVE
    assert (call.session.silences, call.session.misunderstandings) == (1, 1)


# --- rendering and context --------------------------------------------------------------------


def test_render_reads_digits_one_by_one_and_marks_uncacheable() -> None:
    flow = make_flow()
    say = render(flow, p("x", "Account {account_number}."), "en", {"account_number": "4412"})
    assert (say.text, say.cacheable, say.prompt_id, say.language) == (
        "Account 4 4 1 2.",
        False,
        "x",
        "en",
    )


def test_render_static_prompt_is_cacheable_and_unknown_placeholders_are_empty() -> None:
    flow = make_flow()
    assert render(flow, p("x", "Hello."), "cs", {}).cacheable is True
    assert render(flow, p("x", "Hi {nobody} there", "Ahoj"), "cs", {}).text == "Ahoj"
    assert render(flow, p("x", "Hi {nobody} there"), "en", {}).text == "Hi there"


def test_render_falls_back_to_default_language() -> None:
    prompt = p("x", "Hello.")
    only_en = type(prompt)(prompt.id, {"en": "Hello."})
    assert render(make_flow(), only_en, "cs", {}).text == "Hello."


def test_render_datetime_and_yes_no_as_words() -> None:
    flow = make_flow()
    slots = {"callback_time": "2026-03-11T15:00:00+00:00", "wants_sms": "yes"}
    en = render(flow, p("x", "{callback_time}, {wants_sms}"), "en", slots)
    assert en.text == "Wednesday 11 March at 3:00 PM, yes"
    assert speak_datetime("2026-03-11T15:30:00+00:00", "cs") == "středa 11. března v 15:30"
    assert speak_datetime("2026-03-11T09:05:00+00:00", "pl") == "środa 11 marca o 9:05"
    assert speak_datetime("nonsense", "en") == "nonsense"


def test_transfer_context_for_the_agent() -> None:
    call = Call()
    call.hear("outage", ("report_outage", 0.95))
    call.hear("one two three four five six seven eight", ("chit_chat", 0.2))
    call.hear("a human", ("talk_to_human", 0.9))
    context = call.last.context  # type: ignore[union-attr]
    assert context["reason"] == "asked_for_person"
    assert context["intent"] == "talk_to_human"
    assert context["slots"] == "account_number=12345678"
    assert context["last_utterance"] == "a human"
    assert context["turns"] == "3"
    assert context["summary"] == (
        "Caller wants talking to a person (talk_to_human); account_number=12345678; "
        "handed over because they asked for a person after 3 turns."
    )


# --- properties: any event sequence is safe ----------------------------------------------------

_INTENTS = [
    "billing_question",
    "report_outage",
    "change_plan",
    "talk_to_human",
    "repeat",
    "help",
    "goodbye",
    "affirm",
    "deny",
    "chit_chat",
    "nlu_fallback",
    "unknown",
]
_TEXTS = [
    "yes",
    "no",
    "one two three four five six seven eight",
    "tomorrow at three",
    "",
    "the bill one",
    "double oh",
    "12345678",
    "I want a person",
    "ano",
    "whatever",
]


def _random_event(rng: random.Random) -> Event:
    roll = rng.random()
    if roll < 0.1:
        return SilenceTimedOut()
    if roll < 0.2:
        return DigitsPressed(rng.choice(["0", "1", "12345678", "#", "99"]))
    text = rng.choice(_TEXTS)
    if roll < 0.3:
        return SpeechRecognized(text, None, nlu_error="down")
    picks = rng.sample(_INTENTS, k=rng.randint(0, 3))
    ranking = sorted(((name, rng.random()) for name in picks), key=lambda s: -s[1])
    return SpeechRecognized(text, nlu(text, *ranking))


def _well_formed(actions: list[Action], status: Status) -> bool:
    if status is Status.ACTIVE:
        return isinstance(actions[-1], Listen)
    return isinstance(actions[-1], Transfer | ScheduleCallback | Hangup)


@pytest.mark.parametrize("seed", range(300))
def test_random_event_sequences_never_raise_or_strand_the_caller(seed: int) -> None:
    rng = random.Random(seed)
    flow = make_flow(
        clarifying_questions=rng.randint(0, 3),
        misunderstandings_before_person=rng.randint(1, 5),
        silences_before_person=rng.randint(1, 5),
        after_silences=rng.choice(list(AfterSilence)),
    )
    call = Call(flow, now=rng.choice([OPEN, CLOSED]), language=rng.choice(["en", "cs"]))
    assert _well_formed(call.actions, call.session.status)
    for _ in range(rng.randint(1, 25)):
        was_active = call.session.active
        actions = call.send(_random_event(rng))
        if not was_active:
            assert actions == []
            continue
        assert _well_formed(actions, call.session.status), (seed, call.session.turns[-1])
        assert not call.session.turns[-1].decision.startswith("error")
        assert all(a.text for a in actions if hasattr(a, "text"))
    call.send(CallEnded())
    assert not call.session.active
    assert call.session.ended_at is not None or call.session.status is not Status.ENDED
