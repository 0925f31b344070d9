"""Who a transfer rings, on the demo line's real people.yaml: shifts, the returning caller's
agent, one more agent after no answer, then a callback booking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flow import load_flow
from ivr.call.handover import Handover
from ivr.call.next_step import DialPerson, EndCall, OfferCallback, after_dial, after_stream
from ivr.config import ROOT
from ivr.people.directory import AgentDirectory
from ivr.people.staffing import LastAgent, Staffing
from ivr.telephony import DialOutcome

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # London is on UTC in November
MONDAY_15 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
MONDAY_21 = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def staffing() -> Staffing:
    """For an English call: the demo line's Czech, Polish and Latvian agents are not rung."""
    return Staffing(load_flow(ROOT / "flows"), AgentDirectory({})).speaking("en")


def billing(reason: str = "billing_question") -> Handover:
    return Handover("transfer", reason, "billing")


@pytest.mark.parametrize(
    ("now", "address", "agent"),
    [(MONDAY_10, "+441632960001", "alice"), (MONDAY_15, "client:carol", "carol")],
)
def test_a_transfer_rings_the_agent_on_shift(
    staffing: Staffing, now: datetime, address: str, agent: str
) -> None:
    assert after_stream(billing(), staffing, now) == DialPerson(
        address, "billing", None, agent, (agent,)
    )


def test_a_returning_caller_goes_to_their_last_agent_when_on_shift(staffing: Staffing) -> None:
    step = after_stream(billing(), staffing, MONDAY_15, LastAgent("carol", 2.0))
    assert isinstance(step, DialPerson) and step.agent == "carol"
    step = after_stream(billing(), staffing, MONDAY_10, LastAgent("carol", 2.0))
    assert isinstance(step, DialPerson) and step.agent == "alice"  # carol works afternoons


def test_the_last_agent_is_not_preferred_after_the_queues_window(staffing: Staffing) -> None:
    step = after_stream(billing(), staffing, MONDAY_10, LastAgent("alice", 8.0))
    assert isinstance(step, DialPerson) and step.agent == "alice"  # first on shift anyway
    general = Handover("transfer", "asked_for_person", "general")
    step = after_stream(general, staffing, MONDAY_10, LastAgent("bob", 1.0))
    assert isinstance(step, DialPerson) and step.agent == "bob"
    step = after_stream(general, staffing, MONDAY_10, LastAgent("bob", 8.0))
    assert isinstance(step, DialPerson) and step.agent == "alice"  # 8 days > 7: YAML order


def test_sip_and_client_agents_are_rung_by_their_address(staffing: Staffing) -> None:
    step = after_stream(Handover("transfer", "outage", "faults"), staffing, SUNDAY_10)
    assert step == DialPerson("sip:bob@pbx.acme.example", "faults", None, "bob", ("bob",))


def test_no_answer_tries_one_more_agent_then_books_a_callback(staffing: Staffing) -> None:
    general = after_stream(Handover("transfer", "asked_for_person", "general"), staffing, MONDAY_10)
    assert isinstance(general, DialPerson) and general.tried == ("alice",)
    second = after_dial(DialOutcome.NO_ANSWER, "general", staffing, MONDAY_10, general.tried)
    assert second == DialPerson(
        "sip:bob@pbx.acme.example", "general", None, "bob", ("alice", "bob")
    )
    third = after_dial(DialOutcome.BUSY, "general", staffing, MONDAY_10, ("alice", "bob"))
    assert third == OfferCallback("general", "dial_busy", ("no_agent",))
    assert (
        after_dial(DialOutcome.CONNECTED, "general", staffing, MONDAY_10, ("alice",)) == EndCall()
    )


def test_nobody_else_on_shift_books_a_callback_straight_away(staffing: Staffing) -> None:
    step = after_dial(DialOutcome.NO_ANSWER, "billing", staffing, MONDAY_10, ("alice",))
    assert step == OfferCallback("billing", "dial_no_answer", ("no_agent",))


def test_a_closed_queue_offers_a_callback_while_another_is_open(staffing: Staffing) -> None:
    # 21:00 on a Monday: billing (08-20) is closed, the faults line (07-22) is open.
    assert after_stream(billing(), staffing, MONDAY_21) == OfferCallback(
        "billing", "outside_hours", ("outside_hours",)
    )
    faults = after_stream(Handover("transfer", "outage", "faults"), staffing, MONDAY_21)
    assert isinstance(faults, DialPerson) and faults.agent == "bob"
