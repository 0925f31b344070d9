"""Entering steps: say chains, questions, collect skipping, terminal steps, hours, loops."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.engine import (
    CallEnded,
    CallStarted,
    Engine,
    Hangup,
    Listen,
    SilenceTimedOut,
    Status,
    Transfer,
)
from bot.flow.model import SayStep
from bot.nlu.result import Entity
from tests.bot.engine_flow import CLOSED, HERE, OPEN, Call, make_flow, p


def test_start_says_chain_and_asks() -> None:
    call = Call()
    assert call.said == ["Welcome to Northwind.", "How can I help?"]
    assert call.last == Listen(expect="intent")
    assert call.session.step_id == "main_menu"
    assert call.session.status is Status.ACTIVE
    assert call.session.caller == "+447700900123"
    assert call.session.started_at == OPEN
    assert call.session.turns == ()


def test_start_in_known_language_else_default() -> None:
    assert Call(language="cs").session.language == "cs"
    assert Call(language="cs").said[-1] == "Jak vám mohu pomoci?"
    assert Call(language="de").session.language == "en"


def test_confirm_step_listens_for_yes_no() -> None:
    call = Call()
    call.hear("bill", ("billing_question", 0.95))
    assert call.last == Listen(expect="yes_no")


def test_collect_step_listens_for_slot_type() -> None:
    call = Call()
    call.hear("outage", ("report_outage", 0.95))
    assert call.session.step_id == "outage_account"
    assert call.last == Listen(expect="digits", slot="account_number")


def test_collect_skipped_when_slot_already_filled() -> None:
    call = Call()
    entity = Entity("account_number", "12345678")
    call.hear("outage on 12345678", ("report_outage", 0.95), entities=(entity,))
    assert call.session.slots["account_number"] == "12345678"
    assert call.session.step_id == "outage_when"
    assert call.last == Listen(expect="datetime", slot="callback_time")


def test_invalid_entity_is_not_filled() -> None:
    call = Call()
    call.hear("outage on 123", ("report_outage", 0.95), entities=(Entity("account_number", "123"),))
    assert "account_number" not in call.session.slots
    assert call.session.step_id == "outage_account"


def test_entity_for_undeclared_slot_is_ignored() -> None:
    call = Call()
    call.hear("bill", ("billing_question", 0.95), entities=(Entity("colour", "red"),))
    assert dict(call.session.slots) == {}


def _to_outage_agent(now=OPEN) -> Call:  # type: ignore[no-untyped-def]
    call = Call(now=now)
    call.hear("outage", ("report_outage", 0.95))
    call.press("12345678")
    call.hear("tomorrow at three")
    call.hear("1 High Street", ("chit_chat", 0.3))
    return call


def test_transfer_step_in_hours() -> None:
    call = _to_outage_agent()
    call.hear("yes please")
    assert call.said == ["Connecting you about account 1 2 3 4 5 6 7 8."]
    transfer = call.last
    assert isinstance(transfer, Transfer)
    assert (transfer.queue, transfer.number, transfer.reason) == ("faults", None, "outage")
    assert call.session.status is Status.TRANSFERRED
    assert call.session.outcome == "outage"
    assert call.session.ended_at is None  # the call goes on with a person


def test_transfer_step_outside_hours_books_a_callback() -> None:
    call = _to_outage_agent(now=CLOSED)
    call.hear("no")
    assert call.said == [
        "We're closed; we'll call you back.",
        "When would be a good time for us to call you back?",
    ]
    assert call.last == Listen(expect="callback_time")
    booking = call.session.booking
    assert booking is not None
    assert (booking.queue, booking.reason, booking.action_reason) == (
        "faults",
        "outage",
        "outside_hours",
    )
    assert call.session.status is Status.ACTIVE  # booking: the bot still has the caller


def test_transfer_to_number_without_prompt_says_connecting() -> None:
    flow = make_flow()
    flow = replace(flow, start="vip_line")
    call = Call(flow)
    assert call.said == ["Connecting you now."]
    assert isinstance(call.last, Transfer)
    assert call.last.number == "+441234567890"
    assert call.last.queue is None


def test_transfer_to_number_outside_hours_uses_person_queue() -> None:
    call = Call(replace(make_flow(), start="vip_line"), now=CLOSED)
    assert call.last == Listen(expect="callback_time")
    assert call.session.booking is not None
    assert call.session.booking.queue == "general"


@pytest.mark.parametrize("now", [OPEN, CLOSED])
def test_callback_step_ignores_hours(now) -> None:  # type: ignore[no-untyped-def]
    call = Call(now=now)
    call.hear("new plan", ("change_plan", 0.95))
    assert call.said == ["We'll call you.", "When would be a good time for us to call you back?"]
    assert call.last == Listen(expect="callback_time")
    booking = call.session.booking
    assert booking is not None
    assert (booking.queue, booking.reason, booking.action_reason) == ("sales", *["plan_change"] * 2)
    assert call.session.status is Status.ACTIVE


def test_end_step_hangs_up() -> None:
    call = Call()
    call.hear("bye", ("goodbye", 0.95))
    assert call.said == ["Thanks for calling, goodbye."]
    assert call.last == Hangup("completed")
    assert call.session.status is Status.ENDED
    assert call.session.outcome == "completed"
    assert call.session.ended_at == OPEN


def test_counters_reset_on_entering_a_step() -> None:
    call = Call()
    call.silence()
    assert call.session.silences == 1
    call.hear("bill", ("billing_question", 0.95))
    assert call.session.silences == 0
    assert call.session.misunderstandings == 0


def test_say_loop_becomes_technical_problem() -> None:
    call = Call()
    call.hear("loop", ("loop", 0.95))
    assert call.said[-2:] == ["We have a technical problem.", "Connecting you now."]
    assert call.said.count("A.") + call.said.count("B.") == 50
    assert isinstance(call.last, Transfer)
    assert call.last.reason == "technical_problem"


@pytest.mark.parametrize(("says", "ok"), [(49, True), (50, False)])
def test_fifty_steps_per_event_is_the_limit(says: int, ok: bool) -> None:
    flow = make_flow()
    chain = {
        f"s{i}": SayStep(
            f"s{i}", HERE, p(f"s{i}", "."), f"s{i + 1}" if i + 1 < says else "main_menu"
        )
        for i in range(says)
    }
    call = Call(replace(flow, start="s0", steps={**flow.steps, **chain}))  # says + main_menu
    assert (call.last == Listen(expect="intent")) is ok


def test_missing_step_is_a_technical_problem() -> None:
    call = Call(replace(make_flow(), start="nowhere"))
    assert call.said[0] == "We have a technical problem."
    assert call.session.status is Status.TRANSFERRED


def test_session_on_a_step_the_flow_lost() -> None:
    call = Call()
    flow = make_flow()
    steps = {k: v for k, v in flow.steps.items() if k != "main_menu"}
    engine = Engine(replace(flow, steps=steps))
    session, actions = engine.step(call.session, SilenceTimedOut(), OPEN)
    assert isinstance(actions[-1], Transfer)
    assert session.turns[-1].decision == "technical_problem"


def test_call_ended_while_active_is_abandoned() -> None:
    call = Call()
    assert call.send(CallEnded()) == []
    assert call.session.status is Status.ENDED
    assert call.session.outcome == "abandoned"
    assert call.session.ended_at == OPEN


def test_call_ended_after_transfer_keeps_outcome() -> None:
    call = Call()
    call.press("0")
    call.now = OPEN.replace(hour=11)
    assert call.send(CallEnded()) == []
    assert call.session.status is Status.TRANSFERRED
    assert call.session.outcome == "asked_for_person"
    assert call.session.ended_at == OPEN.replace(hour=11)


def test_events_after_the_end_do_nothing() -> None:
    call = Call()
    call.send(CallEnded())
    before = call.session
    assert call.silence() == []
    assert call.hear("bill", ("billing_question", 0.95)) == []
    assert call.press("0") == []
    assert call.session == before


def test_repeated_call_started_reasks() -> None:
    call = Call()
    assert call.send(CallStarted()) == [*call.actions]
    assert call.said == ["How can I help?"]
    assert call.last == Listen(expect="intent")


def test_account_number_spoken_as_words_up_front_skips_the_question() -> None:
    call = Call()
    call.hear("outage on account four four one two eight eight nine oh", ("report_outage", 0.95))
    assert call.session.slots["account_number"] == "44128890"
    assert call.session.step_id == "outage_when"


@pytest.mark.parametrize(
    "text",
    [
        "my internet has been down for two days",  # a short number is not an account
        "account 4412 8890 and it cost me 30 pounds",  # digits mixed with an amount: unsure
    ],
)
def test_stray_numbers_do_not_fill_the_account(text: str) -> None:
    call = Call()
    call.hear(text, ("report_outage", 0.95))
    assert "account_number" not in call.session.slots
    assert call.session.step_id == "outage_account"
