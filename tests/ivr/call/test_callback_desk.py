"""The callback desk on a real SQLite store, with texts sent through the Twilio REST emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from twilio_emulator.rest import TwilioRestEmulator

from bot.engine.actions import ScheduleCallback
from bot.engine.events import PendingCallback
from bot.flow import Flow, load_flow
from ivr.callbacks.desk import CallbackDesk
from ivr.callbacks.policy import RULES
from ivr.callbacks.spool import BookingSpool
from ivr.config import ROOT
from ivr.store import CallbackStatus, CallbackStore, Store, StoreUnavailable
from ivr.twilio.dialer import TwilioDialer
from tests.fixtures.waiting import wait_for

MONDAY_21 = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # London is on UTC in November
CALLER = "+447700900123"


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(ROOT / "flows")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path}/desk.db") as opened:
        yield opened


@pytest.fixture
def twilio() -> Iterator[TwilioRestEmulator]:
    with TwilioRestEmulator() as emulator:
        yield emulator


def desk_of(
    store: Store, flow: Flow, twilio: TwilioRestEmulator | None = None, now: datetime = MONDAY_21
) -> CallbackDesk:
    dialer = TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url) if twilio else None
    return CallbackDesk(lambda: store, lambda: flow, lambda: now, dialer)


def test_a_booking_is_stored_with_the_queues_rules_and_texted(
    store: Store, flow: Flow, twilio: TwilioRestEmulator
) -> None:
    action = ScheduleCallback(
        "asked_for_person",
        "billing",
        {"summary": "Caller wants billing."},
        at="2026-11-24T15:00:00+00:00",
        sms=True,
    )
    record = desk_of(store, flow, twilio).book(
        action,
        call_id="CA1",
        caller=CALLER,
        called="+442079460099",
        language="en",
        slots={"account_number": "44128890"},
    )
    assert record is not None
    assert record.due_at == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert (record.number, record.queue, record.mode) == (CALLER, "billing", "agent_first")
    assert record.from_number == "+442079460000"  # billing's caller_id beats the number called
    assert (record.max_attempts, record.retry_after_minutes) == (3, (5, 15, 60))
    assert record.context["slots"] == {"account_number": "44128890"}
    (text,) = twilio.messages
    assert (text.to, text.from_) == (CALLER, "+442079460000")
    assert "we'll call you back tomorrow at 3 pm" in text.body
    assert "Reply CANCEL" in text.body


def test_as_soon_as_possible_out_of_hours_is_the_next_opening(store: Store, flow: Flow) -> None:
    record = desk_of(store, flow).book_earliest("CA2", CALLER, "general", "tts_failed")
    assert record is not None
    assert record.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert record.status == CallbackStatus.SCHEDULED


def test_a_booking_without_any_number_is_refused_not_stored(store: Store, flow: Flow) -> None:
    desk = desk_of(store, flow)
    booked = desk.book(
        ScheduleCallback("x", "general"), call_id="CA3", caller=None, called=None, language=None
    )
    assert booked is None
    assert desk.callbacks().list() == []


def test_a_text_that_fails_does_not_lose_the_booking(
    store: Store, flow: Flow, twilio: TwilioRestEmulator
) -> None:
    twilio.fail_next(1, status=500, code=20500)
    desk = desk_of(store, flow, twilio)
    record = desk.book(
        ScheduleCallback("x", "billing", sms=True),
        call_id="CA4",
        caller=CALLER,
        called=None,
        language="en",
    )
    assert record is not None and twilio.messages == []
    assert [c.id for c in desk.callbacks().pending_for_number(CALLER)] == [record.id]


def test_a_caller_with_a_booked_callback_is_told_about_it_and_can_cancel(
    store: Store, flow: Flow
) -> None:
    desk = desk_of(store, flow)
    assert desk.pending(CALLER) is None
    record = desk.book(
        ScheduleCallback("x", "sales", at="2026-11-24T10:00:00+00:00"),
        call_id="CA5",
        caller=CALLER,
        called=None,
        language="en",
    )
    assert record is not None
    assert desk.pending(CALLER) == PendingCallback(
        record.id, "2026-11-24T10:00:00+00:00", CALLER, "sales"
    )
    assert desk.cancel(record.id, by="call:CA6") is not None
    assert desk.pending(CALLER) is None
    assert desk.cancel(record.id, by="call:CA6") is None  # already cancelled: logged, not raised


def test_expected_waits_come_from_recent_answers(store: Store, flow: Flow) -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    for index, wait in enumerate([30, 90]):
        call_id = f"CAw{index}"
        start = now - timedelta(minutes=10 + index)
        store.call_started(call_id, caller=None, called=None, started_at=start)
        store.set_outcome(call_id, outcome="transfer", queue="billing", reason="x")
        store.person_rung(call_id, at=start)
        store.person_answered(call_id, agent="alice", at=start + timedelta(seconds=wait))
    waits = desk_of(store, flow, now=now).expected_waits()
    assert waits["billing"] == 60
    assert waits["faults"] == 0
    assert set(waits) == set(flow.queues)


def test_with_the_database_down_an_unpromised_booking_is_logged_with_all_it_needs(
    store: Store, flow: Flow, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """The JSON API's booking: its client hears 503 and can retry, so nothing is spooled."""
    store.close()  # every later query raises StoreUnavailable
    desk = desk_of(store, flow)
    desk.spool = BookingSpool(tmp_path / "spool")
    booked = desk.book(
        ScheduleCallback("x", "billing", at="2026-11-24T15:00:00+00:00"),
        call_id="CA7",
        caller=CALLER,
        called=None,
        language="en",
    )
    assert booked is None
    assert desk.spool.pending() == []
    (record,) = [r for r in caplog.records if r.getMessage() == "callback not booked"]
    assert (record.call_id, record.number, record.queue, record.due_at) == (  # type: ignore[attr-defined]
        "CA7", CALLER, "billing", "2026-11-24T15:00:00+00:00",
    )  # fmt: skip


def test_a_promised_callback_survives_the_database_being_down(
    store: Store,
    flow: Flow,
    twilio: TwilioRestEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down while the caller hears "booked": spooled, then stored and texted once it is back."""
    down = [True]

    def current_store() -> Store:
        if down[0]:
            raise StoreUnavailable("connect", "postgresql://db.example/ivr", "connection refused")
        return store

    dialer = TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url)
    spool = BookingSpool(tmp_path / "spool")
    desk = CallbackDesk(
        current_store, lambda: flow, lambda: MONDAY_21, dialer, spool=spool, replay_seconds=0.05
    )
    action = ScheduleCallback(
        "asked_for_person", "billing", at="2026-11-24T15:00:00+00:00", sms=True
    )
    booked = desk.book(
        action, call_id="CA8", caller=CALLER, called=None, language="en", promised=True
    )
    try:
        assert booked is None and len(spool.pending()) == 1
        (kept,) = [r for r in caplog.records if r.getMessage().startswith("callback spooled")]
        assert (kept.number, kept.queue, kept.due_at) == (  # type: ignore[attr-defined]
            CALLER, "billing", "2026-11-24T15:00:00+00:00",
        )  # fmt: skip
        time.sleep(0.3)  # the replayer tries while the database is still down
        assert len(spool.pending()) == 1 and twilio.messages == []

        down[0] = False
        wait_for("the spool to empty", lambda: not spool.pending())
        (listed,) = CallbackStore(store, RULES).list()
        record = CallbackStore(store, RULES).get(listed.id)
        assert record is not None
        assert (record.call_id, record.number, record.queue) == ("CA8", CALLER, "billing")
        assert record.due_at == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
        assert record.transitions[0].at == MONDAY_21  # booked when it was promised
        wait_for("the confirmation the caller expects", lambda: len(twilio.messages) == 1)
        assert "we'll call you back tomorrow at 3 pm" in twilio.messages[0].body
    finally:
        desk.close()


def test_spooled_callbacks_left_by_an_earlier_run_are_stored_at_start(
    store: Store, flow: Flow, tmp_path: Path
) -> None:
    spool = BookingSpool(tmp_path / "spool")
    CallbackDesk(lambda: store, lambda: flow, lambda: MONDAY_21, spool=spool).book(
        ScheduleCallback("x", "billing", at="2026-11-24T15:00:00+00:00"),
        call_id="CA9",
        caller=CALLER,
        called=None,
        language="en",
    )  # a stored one, for contrast: the spool stays empty
    assert spool.pending() == []
    spool.put({**_booking_on_disk(), "callback_id": "cb-left-over"})

    desk = CallbackDesk(lambda: store, lambda: flow, lambda: MONDAY_21, spool=spool)
    desk.replay_in_background()  # what the web app does when it starts
    wait_for("the spool to empty", lambda: not spool.pending())
    assert CallbackStore(store, RULES).get("cb-left-over") is not None


def _booking_on_disk() -> dict[str, object]:
    return {
        "queue": "general",
        "number": CALLER,
        "due_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        "now": MONDAY_21 - timedelta(hours=1),
        "call_id": "CA-before-restart",
    }
