"""The small pure parts of a call: keypad entries, marks, handovers, what comes next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine.actions import Hangup, Listen, ScheduleCallback, Transfer
from ivr.call.handover import Handover, HandoverBoard
from ivr.call.keypad import Keypad
from ivr.call.next_step import DialPerson, EndCall, OfferCallback, after_dial, after_stream
from ivr.call.playback import Playback
from ivr.people.directory import AgentDirectory, DirectoryError
from ivr.people.staffing import Staffing
from ivr.telephony import DialOutcome
from tests.bot.engine_flow import make_flow

OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 in London
CLOSED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday


def test_single_keys_are_entries_of_their_own() -> None:
    keypad = Keypad()
    assert keypad.press("0", 0) == "0"
    assert keypad.press("5", 20) == "5"


def test_a_number_ends_at_hash_at_its_length_or_after_a_pause() -> None:
    keypad = Keypad(gap_ms=2000)
    keypad.expect_number(4)
    assert [keypad.press(d, i * 100) for d in "123" for i in [0]] == [None, None, None]
    assert keypad.press("4", 300) == "1234"
    assert keypad.press("9", 400) is None
    assert keypad.press("#", 500) == "9#"
    keypad.press("7", 1000)
    assert keypad.tick(2999) is None
    assert keypad.tick(3000) == "7"
    assert keypad.tick(9000) is None


def test_marks_tell_what_was_heard_and_what_was_cut_short() -> None:
    playback = Playback()
    first, second = playback.sent("greeting"), playback.sent(None)
    assert (first, second) == ("1:greeting", "2:say")
    assert playback.playing and playback.current == "greeting"
    played = playback.marked(first)
    assert played is not None and not played.interrupted
    assert playback.cleared() == [second]
    again = playback.marked(second)
    assert again is not None and again.interrupted
    assert not playback.playing
    assert playback.marked(second) is None  # echoed twice, or never ours


def test_terminal_actions_become_handovers_and_survive_the_store_round_trip() -> None:
    transfer = Transfer("asked_for_person", "billing", None, {"summary": "Caller wants bills"})
    handover = Handover.from_action(transfer, language="en", caller="+447700900123")
    assert handover is not None and handover.kind == "transfer"
    assert Handover.from_data(handover.as_data()) == handover
    callback = Handover.from_action(
        ScheduleCallback("outside_hours", "sales"), language="en", caller=None
    )
    assert callback is not None and (callback.kind, callback.queue) == ("callback", "sales")
    hangup = Handover.from_action(Hangup("goodbye"), language=None, caller=None)
    assert hangup is not None and hangup.kind == "hangup"
    assert Handover.from_action(Listen("intent"), language=None, caller=None) is None


def test_the_board_forgets_and_expires() -> None:
    board = HandoverBoard(ttl_seconds=0.0)
    board.put("CA1", Handover("hangup", "goodbye"))
    board.put("CA2", Handover("hangup", "goodbye"))  # expires CA1
    assert board.get("CA1") is None
    board.forget("CA2")
    assert board.get("CA2") is None


def test_the_directory_reads_queue_numbers_and_a_default() -> None:
    directory = AgentDirectory.parse(" billing=+441632960001 , *=+441632960000,")
    assert directory.number_for("billing") == "+441632960001"
    assert directory.number_for("faults") == "+441632960000"
    assert AgentDirectory.parse("").number_for("billing") is None
    with pytest.raises(DirectoryError, match="'billing' is not queue=number"):
        AgentDirectory.parse("billing")


DIRECTORY = AgentDirectory.parse("billing=+441632960001,*=+441632960000")


@pytest.mark.parametrize(
    ("handover", "now", "expected"),
    [
        (Handover("transfer", "asked_for_person", "billing"), OPEN,
         DialPerson("+441632960001", "billing")),
        (Handover("transfer", "tts_failed", None, apologise=True), OPEN,
         DialPerson("+441632960000", "general", "technical_problem")),
        (None, OPEN, DialPerson("+441632960000", "general", "technical_problem")),
        (Handover("transfer", "asked_for_person", "billing"), CLOSED,
         OfferCallback("billing", "outside_hours", ("outside_hours",))),
        (Handover("transfer", "tts_failed", apologise=True), CLOSED,
         OfferCallback("general", "outside_hours", ("technical_problem", "outside_hours"),
                       converse=False)),
        (Handover("callback", "plan_change", "sales"), OPEN, EndCall()),
        (Handover("callback", "tts_failed", "sales", apologise=True), OPEN,
         OfferCallback("sales", "tts_failed", ("outside_hours",), converse=False)),
        (Handover("hangup", "goodbye"), OPEN, EndCall()),
        (Handover("transfer", "vip", number="+441632960999"), OPEN,
         DialPerson("+441632960999", "general")),
    ],
)  # fmt: skip
def test_after_the_stream_every_path_ends_with_a_person_a_callback_or_a_goodbye(
    handover: Handover | None, now: datetime, expected: object
) -> None:
    assert after_stream(handover, Staffing(make_flow(), DIRECTORY), now) == expected


def test_a_queue_nobody_answers_gets_a_callback_offer() -> None:
    staffing = Staffing(make_flow(), AgentDirectory({}))
    step = after_stream(Handover("transfer", "x", "billing"), staffing, OPEN)
    assert step == OfferCallback("billing", "no_agent_available", ("no_agent",))


@pytest.mark.parametrize("status", [o for o in DialOutcome if o is not DialOutcome.CONNECTED])
def test_a_transfer_that_did_not_connect_offers_a_callback(status: DialOutcome) -> None:
    step = after_dial(status, "billing", Staffing(make_flow(), DIRECTORY), OPEN)
    assert isinstance(step, OfferCallback) and step.prompts == ("no_agent",)
    assert step.reason == f"dial_{status.replace('-', '_')}"
    assert step.converse


def test_a_transfer_that_connected_ends_the_call() -> None:
    assert (
        after_dial(DialOutcome.CONNECTED, "billing", Staffing(make_flow(), DIRECTORY), OPEN)
        == EndCall()
    )
