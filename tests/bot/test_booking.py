"""Booking a callback by voice, on the demo flow, with the real engine and a fixed ``now``.

Every entry to a callback (a callback step, a person wanted out of hours, "just call me back"
anywhere, a transfer that did not connect, a long expected wait, a caller ringing again with
one booked) runs the same dialogue: when, read back, yes/no or a correction, book.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.callback_time import earliest_callback, spoken_number, spoken_time
from bot.engine import (
    CallStarted,
    Engine,
    Listen,
    Say,
    ScheduleCallback,
    SpeechRecognized,
    Status,
    Transfer,
)
from bot.engine.actions import CancelCallback
from bot.engine.events import CallbackOffer, PendingCallback
from bot.engine.session import Stage
from bot.flow import load_flow
from bot.flow.model import Flow, GlobalAction, OpeningInterval, Queue, QueueCallbacks
from ivr.config import ROOT
from tests.bot.engine_flow import Call

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)  # open (London is on GMT in November)
SUNDAY = datetime(2026, 11, 22, 11, 0, tzinfo=LONDON)  # closed all day
CALLER = "+447700900123"
LINE = "+442079460000"
MOBILE = "+447700900456"
MOBILE_SPOKEN = "oh seven seven oh oh nine oh oh four five six"
TOMORROW_3PM = "2026-11-24T15:00:00+00:00"
THIS = "the number you're calling from"
READ_BACK = "I'll call you tomorrow at 3 pm on the number you're calling from. Is that right?"
BOOKED = "That's booked. We'll call you {when}. Thanks for calling Acme Telecom, goodbye."
ACCOUNT = "four four one two eight eight nine zero"

_DEMO = load_flow(ROOT / "flows")


def demo(**queues: Queue) -> Flow:
    """The demo flow with exactly ``queues`` declared (none: the flow's hours for all)."""
    return replace(_DEMO, queues=queues)


def text(name: str, **values: str) -> str:
    """A system prompt of the demo flow, filled."""
    return _DEMO.system_prompts[name].text["en"].format(**values)


def queue(name: str, **fields: Any) -> Queue:
    return Queue(name, {"en": name}, _DEMO.business_hours, **fields)


class Phone(Call):
    """One call on the demo flow: the caller's turns in, the bot's actions out."""

    def __init__(
        self,
        flow: Flow | None = None,
        now: datetime = MONDAY,
        caller: str | None = CALLER,
        called: str | None = LINE,
        **started: Any,
    ) -> None:
        super().__init__(flow or demo(), now, caller=caller, called=called, **started)

    @property
    def stage(self) -> Stage | None:
        return self.session.booking.stage if self.session.booking else None

    @property
    def booked(self) -> ScheduleCallback:
        assert isinstance(self.last, ScheduleCallback), self.actions
        assert self.session.status is Status.CALLBACK
        return self.last

    def ask_for_callback(self) -> None:
        self.hear("could someone ring me back later", ("request_callback", 0.93))

    def to_billing_transfer(self) -> None:
        self.hear("I've got a question about my bill", ("billing_question", 0.95))
        self.hear(ACCOUNT)


def listens_for_time(call: Phone) -> bool:
    return call.last == Listen(expect="callback_time") and call.stage is Stage.WHEN


# --- entries ------------------------------------------------------------------------------


def test_callback_step_books_the_time_the_caller_names() -> None:
    call = Phone()
    call.ask_for_callback()
    assert call.session.turns[-1].decision == "route:callback_general"
    assert call.said == ["No problem, we can give you a call back.", text("callback_when")]
    assert listens_for_time(call)
    call.hear("tomorrow after three")
    assert call.said == [READ_BACK]
    assert call.last == Listen(expect="yes_no")
    call.hear("yes please")
    assert call.said == [BOOKED.format(when="tomorrow at 3 pm")]
    booked = call.booked
    assert booked == ScheduleCallback(
        "caller_request", "general", booked.context, at=TOMORROW_3PM, number=CALLER
    )
    assert booked.context["reason"] == "caller_request"
    assert call.session.outcome == "caller_request"


def test_person_wanted_out_of_hours_books_in_the_queues_hours() -> None:
    call = Phone(now=SUNDAY)
    call.to_billing_transfer()
    assert call.said == [text("outside_hours"), text("callback_when")]
    assert listens_for_time(call)
    call.hear("Monday morning")
    assert call.said == [
        "I'll call you tomorrow at 9 am on the number you're calling from. Is that right?"
    ]
    call.hear("that's right")
    booked = call.booked
    assert (booked.reason, booked.queue, booked.at) == (
        "outside_hours",
        "billing",
        "2026-11-23T09:00:00+00:00",
    )
    assert booked.context["reason"] == "billing_question"
    assert booked.context["slots"] == "account_number=44128890"
    # The agent's context is the conversation up to the callback, not the booking itself.
    assert (booked.context["last_utterance"], booked.context["turns"]) == (ACCOUNT, "2")


def test_a_time_when_the_line_is_closed_is_moved_into_its_hours() -> None:
    call = Phone()
    call.ask_for_callback()
    call.hear("tomorrow at 11 pm")
    booking = call.session.booking
    assert booking is not None and booking.proposed_at is not None
    at = datetime.fromisoformat(booking.proposed_at)
    assert _DEMO.business_hours.is_open(at)
    assert call.said == [text("callback_confirm", when=spoken_time(at, MONDAY), number=THIS)]


@pytest.mark.parametrize("step", ["billing_account", "outage_account"])
def test_just_call_me_back_works_at_any_step(step: str) -> None:
    call = Phone(replace(demo(), start=step))
    call.hear("actually just call me back", ("request_callback", 0.9))
    assert call.session.turns[-1].decision == "global:callback"
    assert call.said == [text("callback_when")]
    assert listens_for_time(call)
    call.hear("tomorrow at 3 pm")
    call.hear("yes")
    assert (call.booked.reason, call.booked.queue, call.booked.at) == (
        "caller_request",
        "general",
        TOMORROW_3PM,
    )


def test_request_callback_is_a_global_intent_of_the_demo_flow() -> None:
    assert _DEMO.global_intents["request_callback"].action is GlobalAction.CALLBACK


def test_a_transfer_that_did_not_connect_starts_in_booking() -> None:
    offer = CallbackOffer("billing", "dial_no_answer", "no_agent")
    call = Phone(offer=offer)
    assert call.said == [text("no_agent"), text("callback_when")]
    assert listens_for_time(call)
    call.hear("tomorrow at 3 pm")
    assert call.said == [READ_BACK]
    call.hear("yes")
    assert (call.booked.reason, call.booked.queue, call.booked.at) == (
        "dial_no_answer",
        "billing",
        TOMORROW_3PM,
    )


# --- a long expected wait -----------------------------------------------------------------

WAIT_OFFER = (
    "The wait to speak to someone is about 7 minutes. Would you like us to call you back instead?"
)


def test_a_long_wait_offers_a_callback_and_yes_books_one() -> None:
    call = Phone(expected_waits={"billing": 400})
    call.to_billing_transfer()
    assert call.said == [WAIT_OFFER]
    assert call.last == Listen(expect="yes_no")
    call.hear("yes please")
    assert call.said == [text("callback_when")]
    call.hear("tomorrow after three")
    call.hear("yes")
    booked = call.booked
    assert (booked.reason, booked.queue, booked.at) == ("long_wait", "billing", TOMORROW_3PM)
    assert booked.context["reason"] == "billing_question"


def test_a_long_wait_declined_goes_on_with_the_transfer() -> None:
    call = Phone(expected_waits={"billing": 400})
    call.to_billing_transfer()
    call.hear("no, I'll hold")
    assert call.said == [
        "Thanks, I've got account 4 4 1 2 8 8 9 0. I'm putting you through to our billing team now."
    ]
    assert isinstance(call.last, Transfer)
    assert (call.last.queue, call.last.reason) == ("billing", "billing_question")
    assert call.session.status is Status.TRANSFERRED


@pytest.mark.parametrize(
    ("waits", "queues"),
    [
        ({"billing": 100}, {}),  # under the flow's 120 s
        ({"sales": 400}, {}),  # another queue's wait
        ({"billing": 400}, {"billing": queue("billing", max_expected_wait_seconds=600)}),
    ],
)
def test_a_wait_within_the_limit_transfers_straight_away(
    waits: dict[str, int], queues: dict[str, Queue]
) -> None:
    call = Phone(demo(**queues), expected_waits=waits)
    call.to_billing_transfer()
    assert isinstance(call.last, Transfer)


def test_wait_minutes_are_whole_and_at_least_one() -> None:
    flow = demo(general=queue("general", max_expected_wait_seconds=10))
    call = Phone(flow, expected_waits={"general": 20})
    call.press("0")
    assert call.said == [
        "The wait to speak to someone is about 1 minutes. Would you like us to call you back "
        "instead?"
    ]


def test_zero_at_the_wait_offer_puts_the_caller_through() -> None:
    call = Phone(expected_waits={"general": 900})
    call.press("0")
    assert call.stage is Stage.OFFER
    call.press("0")
    assert isinstance(call.last, Transfer)
    assert call.last.queue == "general"


def test_silence_at_the_wait_offer_goes_on_with_the_transfer() -> None:
    call = Phone(expected_waits={"billing": 400})
    call.to_billing_transfer()
    call.silence()
    assert call.said == [text("no_input"), WAIT_OFFER]
    call.silence()
    assert isinstance(call.last, Transfer)


# --- a callback already booked ------------------------------------------------------------

PENDING = PendingCallback("cb1", TOMORROW_3PM, CALLER, "general")
ASKED_PENDING = (
    "You have a call back booked tomorrow at 3 pm. Would you like to keep it, change the time, "
    "or cancel it?"
)
START = ["Thanks for calling Acme Telecom.", "How can I help you today?"]


def test_pending_callback_is_asked_about_first() -> None:
    call = Phone(pending=PENDING)
    assert call.said == [ASKED_PENDING]
    assert call.stage is Stage.PENDING


def test_pending_callback_kept() -> None:
    call = Phone(pending=PENDING)
    call.hear("keep it please")
    assert call.said == [text("callback_kept"), *START]
    assert not any(isinstance(a, CancelCallback | ScheduleCallback) for a in call.actions)
    assert call.session.booking is None and call.session.step_id == "main_menu"


def test_pending_callback_cancelled() -> None:
    call = Phone(pending=PENDING)
    call.hear("cancel it, I sorted it out")
    assert call.actions[0] == CancelCallback("cb1")
    assert call.said == [text("callback_cancelled"), *START]
    assert call.session.booking is None and call.last == Listen(expect="intent")


def test_pending_callback_moved_replaces_the_old_one() -> None:
    call = Phone(pending=PENDING)
    call.hear("can I change the time")
    assert call.said == [text("callback_when")]
    call.hear("Thursday at 10 am")
    assert call.said == [
        "I'll call you on Thursday at 10 am on the number you're calling from. Is that right?"
    ]
    call.hear("yes")
    assert (call.booked.at, call.booked.replaces) == ("2026-11-26T10:00:00+00:00", "cb1")


def test_pending_callback_moved_in_one_sentence_keeps_its_number() -> None:
    pending = replace(PENDING, number=MOBILE)
    call = Phone(pending=pending)
    call.hear("move it to Thursday at 10 am")
    assert call.said == [
        f"I'll call you on Thursday at 10 am on {spoken_number(MOBILE)}. Is that right?"
    ]
    call.hear("yes")
    assert (call.booked.number, call.booked.replaces) == (MOBILE, "cb1")


# --- the read-back ------------------------------------------------------------------------


def booking_read_back(call: Phone) -> None:
    call.ask_for_callback()
    call.hear("tomorrow at 3 pm")
    assert call.said == [READ_BACK]


def test_a_correction_in_the_same_words_is_read_back() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, make it four")
    assert call.said == [
        "I'll call you tomorrow at 4 pm on the number you're calling from. Is that right?"
    ]
    call.hear("yes")
    assert call.booked.at == "2026-11-24T16:00:00+00:00"


def test_a_correction_to_another_day() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, Thursday at 10 am instead")
    assert call.said == [
        "I'll call you on Thursday at 10 am on the number you're calling from. Is that right?"
    ]


def test_plain_no_asks_for_the_time_again() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no")
    assert call.said == [text("callback_when_again")]
    assert listens_for_time(call)
    call.hear("tomorrow after three")
    assert call.said == [READ_BACK]


def test_another_number_by_voice() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, call my mobile")
    assert call.said == [text("callback_number")]
    assert call.last == Listen(expect="phone_number")
    call.hear(MOBILE_SPOKEN)
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]
    call.hear("yes")
    assert (call.booked.number, call.booked.at) == (MOBILE, TOMORROW_3PM)


def test_another_number_by_keypad() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, a different number")
    call.press("07700900456#")
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]
    call.hear("yes")
    assert call.booked.number == MOBILE


def test_another_number_given_straight_in_the_answer() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, ring me on 07700 900456")
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]


def test_a_number_too_short_is_asked_again() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("no, another number")
    call.hear("four five six")
    assert call.said == [text("not_understood"), text("callback_number")]
    assert call.stage is Stage.NUMBER


def test_unclear_or_past_times_are_asked_twice_then_a_default_is_proposed() -> None:
    call = Phone()
    call.ask_for_callback()
    call.hear("purple elephants")
    assert call.said == [text("callback_when_unclear")]
    assert listens_for_time(call)
    call.hear("yesterday at 3 pm")
    assert call.said == [text("callback_when_unclear")]
    call.hear("mango chutney")
    first = earliest_callback(MONDAY, _DEMO.business_hours)
    assert call.said == [text("callback_default", when=spoken_time(first, MONDAY))]
    assert call.stage is Stage.CONFIRM
    call.hear("yes")
    assert call.booked.at == first.isoformat()


def test_silence_counts_as_an_unclear_time() -> None:
    call = Phone()
    call.ask_for_callback()
    call.silence()
    assert call.said == [text("callback_when_unclear")]
    call.silence()
    call.silence()
    assert call.stage is Stage.CONFIRM
    assert call.said[0].startswith("Shall we call you")


def test_silence_at_the_read_back_books_what_was_read_back() -> None:
    call = Phone()
    booking_read_back(call)
    call.silence()
    assert call.said == [text("no_input"), READ_BACK]
    call.silence()
    assert call.said == [BOOKED.format(when="tomorrow at 3 pm")]
    assert call.booked.at == TOMORROW_3PM


def test_as_soon_as_possible() -> None:
    call = Phone()
    call.ask_for_callback()
    call.hear("as soon as possible please")
    first = earliest_callback(MONDAY, _DEMO.business_hours)
    when = spoken_time(first, MONDAY)
    assert call.said == [text("callback_confirm", when=when, number=THIS)]
    call.hear("yes")
    assert call.booked.at == first.isoformat()


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", [None, "anonymous", "+266696687", "client:alice"])
def test_a_caller_without_a_number_is_asked_for_one_first(caller: str | None) -> None:
    call = Phone(caller=caller)
    call.ask_for_callback()
    assert call.said == ["No problem, we can give you a call back.", text("callback_number")]
    assert call.last == Listen(expect="phone_number")
    call.hear(MOBILE_SPOKEN)
    assert call.said == [text("callback_when")]
    call.hear("tomorrow at 3 pm")
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]
    call.hear("yes")
    assert call.booked.number == MOBILE


def test_an_anonymous_caller_who_gives_no_number_reaches_a_person() -> None:
    call = Phone(caller="anonymous")
    call.ask_for_callback()
    call.hear("I'd rather not")
    assert call.said == [text("not_understood"), text("callback_number")]
    call.hear("no thanks")
    assert call.said == [text("connecting")]
    assert isinstance(call.last, Transfer)
    assert call.last.reason == "no_callback_number"


def test_an_anonymous_caller_who_gives_no_number_when_closed_hears_goodbye() -> None:
    call = Phone(now=SUNDAY, caller="anonymous")
    call.ask_for_callback()
    call.silence()
    call.silence()
    assert call.said == [text("goodbye")]
    assert call.session.status is Status.ENDED


# --- the queue's rules --------------------------------------------------------------------


def test_sms_confirmation_comes_from_the_queue() -> None:
    flow = demo(general=queue("general", callbacks=QueueCallbacks(sms_confirmation=True)))
    call = Phone(flow)
    booking_read_back(call)
    call.hear("yes")
    assert call.booked.sms is True


def test_quiet_hours_move_the_proposal() -> None:
    quiet = (OpeningInterval(time(15), time(16)),)
    flow = demo(general=queue("general", callbacks=QueueCallbacks(quiet_hours=quiet)))
    call = Phone(flow)
    call.ask_for_callback()
    call.hear("tomorrow at 3 pm")
    assert call.said == [
        "I'll call you tomorrow at 4 pm on the number you're calling from. Is that right?"
    ]


# --- the rest of the flow still works while booking ----------------------------------------


def test_zero_still_reaches_a_person_while_booking() -> None:
    call = Phone()
    booking_read_back(call)
    call.press("0")
    assert call.said == [text("connecting")]
    assert isinstance(call.last, Transfer)
    assert (call.last.queue, call.last.reason) == ("general", "asked_for_person")
    assert call.session.booking is None


def test_zero_while_booking_out_of_hours_books_again_and_keeps_the_number() -> None:
    call = Phone(now=SUNDAY)
    call.ask_for_callback()
    call.hear("tomorrow at 3 pm")
    call.hear("no, another number")
    call.hear(MOBILE_SPOKEN)
    call.press("0")
    assert call.said == [text("outside_hours"), text("callback_when")]
    assert call.session.booking is not None and call.session.booking.number == MOBILE


def test_asking_for_a_person_while_booking() -> None:
    call = Phone()
    call.ask_for_callback()
    call.hear("just put me through to someone", ("talk_to_human", 0.92))
    assert isinstance(call.last, Transfer)
    assert call.last.reason == "asked_for_person"


def test_help_and_repeat_while_booking() -> None:
    call = Phone()
    booking_read_back(call)
    call.hear("what can I say", ("help", 0.9))
    assert call.said == [_DEMO.global_intents["help"].prompt.text["en"], READ_BACK]  # type: ignore[union-attr]
    call.hear("say that again", ("repeat", 0.9))
    assert call.said == [READ_BACK]


def test_times_and_yes_work_when_nlu_is_down() -> None:
    call = Phone()
    call.ask_for_callback()
    call.hear_without_nlu("tomorrow at 3 pm")
    assert call.said == [READ_BACK]
    call.hear_without_nlu("yes")
    assert call.booked.at == TOMORROW_3PM


def test_a_reconnect_while_booking_asks_the_same_question() -> None:
    call = Phone()
    booking_read_back(call)
    call.send(CallStarted(CALLER, LINE))
    assert call.said == [READ_BACK]
    assert call.last == Listen(expect="yes_no")


def test_a_number_given_before_the_time_is_kept() -> None:
    call = Phone()
    call.ask_for_callback()
    call.press("07700900456#")
    assert call.said == [text("callback_when")]
    call.hear("tomorrow at 3 pm")
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]


def test_a_time_given_before_the_number_is_kept() -> None:
    call = Phone(caller=None)
    call.ask_for_callback()
    call.hear("tomorrow at 3 pm")
    assert call.said == [text("callback_number")]
    call.hear(MOBILE_SPOKEN)
    assert call.said == [
        f"I'll call you tomorrow at 3 pm on {spoken_number(MOBILE)}. Is that right?"
    ]


@pytest.mark.parametrize(
    ("queues", "known"),
    [
        ({"general": queue("general", callbacks=QueueCallbacks(caller_id=LINE))}, True),
        ({}, False),  # no number anywhere says which country the line is in
    ],
)
def test_a_national_number_needs_the_country_of_the_line(
    queues: dict[str, Queue], known: bool
) -> None:
    flow = replace(demo(**queues), agents={})
    call = Phone(flow, caller=None, called=None)
    call.ask_for_callback()
    call.hear(MOBILE_SPOKEN)
    assert call.session.booking is not None
    assert call.session.booking.number == (MOBILE if known else None)


@pytest.mark.parametrize(
    ("answer", "cancelled"),
    [("예약 취소해 주세요", True), ("그대로 유지해 주세요", False)],
)
def test_a_korean_caller_settles_a_pending_callback(answer: str, cancelled: bool) -> None:
    flow = load_flow(ROOT / "tests/fixtures/flows/ko_line")
    engine = Engine(flow)
    started = CallStarted("+821012345678", "+82212345678", pending=PENDING)
    session, _ = engine.start("CA3", started, MONDAY)
    session, actions = engine.step(session, SpeechRecognized(answer, None), MONDAY)
    said = [a.text for a in actions if isinstance(a, Say)]
    prompt = "callback_cancelled" if cancelled else "callback_kept"
    assert said == [flow.system_prompts[prompt].text["ko"], "안녕하세요, 무엇을 도와드릴까요?"]
    assert (CancelCallback("cb1") in actions) is cancelled


# --- the keypad ---------------------------------------------------------------------------


def test_a_time_typed_on_the_24_hour_clock_is_read_back_and_1_books_it() -> None:
    call = Phone()
    call.ask_for_callback()
    call.press("1500#")  # Monday 10:00: today at three
    assert call.said == [f"I'll call you today at 3 pm on {THIS}. Is that right?"]
    call.press("1")
    assert call.booked.at == "2026-11-23T15:00:00+00:00"


def test_a_typed_time_with_a_leading_zero_is_a_time_not_a_person() -> None:
    call = Phone()
    call.ask_for_callback()
    call.press("0930")  # 09:30 has passed on Monday at 10:00
    assert call.said == [f"I'll call you tomorrow at 9:30 am on {THIS}. Is that right?"]


def test_a_typed_time_at_the_read_back_corrects_it_on_the_day_read_back() -> None:
    call = Phone()
    booking_read_back(call)  # tomorrow at 3 pm
    call.press("1630")
    assert call.said == [f"I'll call you tomorrow at 4:30 pm on {THIS}. Is that right?"]
    call.press("1")
    assert call.booked.at == "2026-11-24T16:30:00+00:00"


def test_2_at_the_read_back_asks_for_the_time_again() -> None:
    call = Phone()
    booking_read_back(call)
    call.press("2")
    assert call.said == [text("callback_when_again")]
    assert listens_for_time(call)


@pytest.mark.parametrize("keys", ["2575", "12", "3"])
def test_keys_that_are_no_time_are_not_understood(keys: str) -> None:
    call = Phone()
    call.ask_for_callback()
    call.press(keys)
    assert call.said == [text("callback_when_unclear")]
    assert listens_for_time(call)


def test_1_and_2_answer_the_wait_offer() -> None:
    call = Phone(expected_waits={"billing": 400})
    call.to_billing_transfer()
    call.press("1")
    assert call.said == [text("callback_when")]

    declined = Phone(expected_waits={"billing": 400})
    declined.to_billing_transfer()
    declined.press("2")
    assert isinstance(declined.last, Transfer) and declined.last.queue == "billing"
