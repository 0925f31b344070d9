"""The callback store on SQLite and PostgreSQL: every operation and life-cycle transition."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ivr.callbacks.policy import RULES
from ivr.store import (
    CallbackExists,
    CallbackNotFound,
    CallbackStateError,
    CallbackStatus,
    CallbackStore,
    LeaseLost,
    Store,
    StoreUnavailable,
)
from tests.ivr.store.conftest import Database, run_threads

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
S = CallbackStatus


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def callbacks(store: Store) -> CallbackStore:
    return CallbackStore(store, RULES)


def book(callbacks: CallbackStore, number: str = "+447700900123", **fields: Any) -> str:
    fields.setdefault("due_at", at(0))
    fields.setdefault("now", at(-60))
    return callbacks.schedule(queue="billing", number=number, **fields).id


def events(callbacks: CallbackStore, callback_id: str) -> list[tuple[str, str]]:
    record = callbacks.get(callback_id)
    assert record is not None
    return [(t.event, t.status.value) for t in record.transitions]


def dial(callbacks: CallbackStore, callback_id: str, now: datetime, sid: str = "CA1") -> None:
    """Claim (it must be due) and place one attempt, as a worker does."""
    [claim] = callbacks.claim_due("w1", now, lease_seconds=60)
    assert claim.callback.id == callback_id
    callbacks.dial_requested(callback_id, "w1", claim.callback.attempts + 1, now)
    callbacks.dial_placed(callback_id, sid, now)


# -- booking and reads ------------------------------------------------------------------------


def test_schedule_round_trip(callbacks: CallbackStore) -> None:
    booked = callbacks.schedule(
        queue="billing",
        number="+447700900123",
        due_at=at(0),
        now=at(-60),
        reason="outside_hours",
        call_id="CA-booking",
        from_number="+442079460000",
        agent_id="alice",
        mode="customer_first",
        language="en",
        context={"intent": "billing_question", "slots": {"account": "123"}},
        sms=True,
        max_attempts=2,
        retry_after_minutes=[10],
    )
    record = callbacks.get(booked.id)
    assert record is not None
    assert record == booked
    assert len(record.id) == 32
    assert record.status == S.SCHEDULED
    assert record.due_at == record.promised_at == at(0)
    assert record.due_at.tzinfo is not None
    assert record.context == {"intent": "billing_question", "slots": {"account": "123"}}
    assert (record.sms, record.mode, record.agent_id) == (True, "customer_first", "alice")
    assert (record.attempts, record.max_attempts, record.retry_after_minutes) == (0, 2, (10,))
    assert record.created_at == at(-60)
    assert [(t.event, t.status, t.at) for t in record.transitions] == [
        ("scheduled", S.SCHEDULED, at(-60))
    ]
    assert callbacks.get("nope") is None


def test_bad_arguments_are_refused_before_writing(callbacks: CallbackStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        book(callbacks, due_at=datetime(2026, 1, 1, 9))
    with pytest.raises(ValueError, match="max_attempts"):
        book(callbacks, max_attempts=0)
    with pytest.raises(ValueError, match="retry_after_minutes"):
        book(callbacks, retry_after_minutes=[])
    with pytest.raises(TypeError, match="JSON"):
        book(callbacks, context={"x": object()})
    assert callbacks.list() == []


def test_pending_for_number_and_list(callbacks: CallbackStore) -> None:
    later = book(callbacks, due_at=at(30))
    sooner = book(callbacks, due_at=at(10))
    other = book(callbacks, number="+447700900999", due_at=at(5))
    gone = book(callbacks, due_at=at(1))
    callbacks.cancel(gone, at(-1))
    assert [r.id for r in callbacks.pending_for_number("+447700900123")] == [sooner, later]
    assert [r.id for r in callbacks.list()] == [gone, other, sooner, later]
    assert [r.id for r in callbacks.list(S.CANCELLED)] == [gone]
    assert [r.id for r in callbacks.list(limit=2)] == [gone, other]
    with pytest.raises(ValueError):
        callbacks.list(limit=-1)


def test_cancel_and_move(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    moved = callbacks.move(first, at(90), at(-30), by="sms")
    assert (moved.status, moved.due_at, moved.promised_at) == (S.SCHEDULED, at(90), at(90))
    cancelled = callbacks.cancel(first, at(-20), by="api")
    assert cancelled.status == S.CANCELLED
    assert events(callbacks, first) == [
        ("scheduled", "scheduled"),
        ("moved", "scheduled"),
        ("cancelled", "cancelled"),
    ]
    record = callbacks.get(first)
    assert record is not None and record.transitions[1].detail["by"] == "sms"
    with pytest.raises(CallbackStateError) as error:
        callbacks.cancel(first, at(-10))
    assert error.value.status == S.CANCELLED
    with pytest.raises(CallbackStateError):
        callbacks.move(first, at(100), at(-10))
    with pytest.raises(CallbackNotFound):
        callbacks.cancel("missing", at(0))


def test_schedule_replacing_a_booking_cancels_the_old_one(callbacks: CallbackStore) -> None:
    old = book(callbacks)
    new = book(callbacks, due_at=at(120), replaces=old)
    old_record = callbacks.get(old)
    assert old_record is not None and old_record.status == S.CANCELLED
    assert old_record.transitions[-1].detail == {"by": new}
    assert [r.id for r in callbacks.pending_for_number("+447700900123")] == [new]


def test_a_callback_being_dialed_cannot_be_cancelled_or_replaced(
    callbacks: CallbackStore,
) -> None:
    first = book(callbacks)
    dial(callbacks, first, at(0))
    with pytest.raises(CallbackStateError):
        callbacks.cancel(first, at(1))
    with pytest.raises(CallbackStateError):
        book(callbacks, replaces=first)
    assert len(callbacks.list()) == 1  # the replacement was not stored either


def test_a_callback_id_is_stored_once(callbacks: CallbackStore) -> None:
    """A booking replayed twice (see the spool) is refused by its id, and the store goes on."""
    first = book(callbacks, callback_id="cb-replayed")
    with pytest.raises(CallbackExists, match="cb-replayed"):
        book(callbacks, callback_id="cb-replayed", due_at=at(30))
    record = callbacks.get(first)
    assert record is not None and record.due_at == at(0)  # the first booking is untouched
    assert [r.id for r in callbacks.list()] == ["cb-replayed"]
    book(callbacks, callback_id="cb-next")  # the session is usable after the refusal
    assert len(callbacks.list()) == 2


# -- claiming -----------------------------------------------------------------------------------


def test_claim_takes_due_callbacks_only_once_while_leased(callbacks: CallbackStore) -> None:
    due = [book(callbacks, due_at=at(-i)) for i in range(3)]
    book(callbacks, due_at=at(5))  # not yet due
    claims = callbacks.claim_due("w1", at(0), lease_seconds=60, limit=2)
    assert [c.callback.id for c in claims] == [due[2], due[1]]  # most overdue first
    assert all(not c.recovering for c in claims)
    assert all(c.callback.lease_owner == "w1" for c in claims)
    assert claims[0].callback.lease_until == at(1)
    [rest] = callbacks.claim_due("w2", at(0), lease_seconds=60, limit=5)
    assert rest.callback.id == due[0]
    assert callbacks.claim_due("w3", at(0.5), lease_seconds=60) == []
    # A claimed callback never dialed comes back when its lease expires, not recovering.
    again = callbacks.claim_due("w3", at(1), lease_seconds=60, limit=5)
    assert sorted(c.callback.id for c in again) == sorted(due)
    assert not any(c.recovering for c in again)
    assert callbacks.claim_due("w3", at(1), lease_seconds=60, limit=0) == []


def test_release_gives_a_claim_back_at_once(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    callbacks.release(first, "w2", at(0))  # not w2's: no effect
    assert callbacks.claim_due("w2", at(0), lease_seconds=60) == []
    callbacks.release(first, "w1", at(0))
    [claim] = callbacks.claim_due("w2", at(0), lease_seconds=60)
    assert claim.callback.lease_owner == "w2"


def test_dial_requested_needs_the_lease(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    with pytest.raises(LeaseLost):
        callbacks.dial_requested(first, "w2", 1, at(0))
    with pytest.raises(LeaseLost):  # expired
        callbacks.dial_requested(first, "w1", 1, at(1))
    callbacks.claim_due("w1", at(2), lease_seconds=60)
    callbacks.cancel(first, at(2))  # the caller wins over a claim not yet dialed
    with pytest.raises(LeaseLost):
        callbacks.dial_requested(first, "w1", 1, at(2))
    with pytest.raises(CallbackNotFound):
        callbacks.dial_requested("missing", "w1", 1, at(2))


def test_an_expired_dialing_lease_comes_back_recovering(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    record = callbacks.dial_requested(first, "w1", 1, at(0))
    assert (record.status, record.attempts, record.dial_started_at) == (S.DIALING, 1, at(0))
    # w1 dies before storing the sid: nobody may take it while the lease lasts ...
    assert callbacks.claim_due("w2", at(0.9), lease_seconds=60) == []
    # ... then it comes back flagged, with what w1 had stored.
    [claim] = callbacks.claim_due("w2", at(1), lease_seconds=60)
    assert claim.recovering
    assert claim.callback.dial_started_at == at(0) and claim.callback.dial_sid is None
    redial = callbacks.dial_requested(first, "w2", 1, at(1))  # the same attempt, again
    assert redial.attempts == 1
    assert events(callbacks, first)[-2:] == [
        ("recovered", "dialing"),
        ("dial_requested", "dialing"),
    ]
    stored = callbacks.get(first)
    assert stored is not None and stored.transitions[-1].detail["redial"] is True


def test_a_placed_call_waits_for_its_outcome_then_is_recovered(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    dial(callbacks, first, at(0), sid="CA9")
    record = callbacks.get(first)
    assert record is not None
    assert (record.status, record.dial_sid, record.lease_owner) == (S.DIALING, "CA9", None)
    assert callbacks.claim_due("w2", at(59), lease_seconds=60) == []  # ringing, talking ...
    [claim] = callbacks.claim_due("w2", at(61), lease_seconds=60)  # OUTCOME_WAIT is an hour
    assert claim.recovering and claim.callback.dial_sid == "CA9"


def test_adopted_sid_is_recorded_as_such(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    callbacks.dial_requested(first, "w1", 1, at(0))
    callbacks.dial_placed(first, "CA7", at(0), adopted=True)
    callbacks.dial_placed(first, "CA8", at(0))  # a different sid for the same attempt: ignored
    record = callbacks.get(first)
    assert record is not None and record.dial_sid == "CA7"
    assert events(callbacks, first)[-1] == ("adopted", "dialing")


# -- outcomes -----------------------------------------------------------------------------------


def test_connected_then_done_on_time(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    dial(callbacks, first, at(0), sid="CA1")
    connected = callbacks.record_outcome(first, S.CONNECTED, at(1.5), {"answered_by": "human"})
    assert connected is not None
    assert (connected.status, connected.connected_at, connected.on_time) == (
        S.CONNECTED,
        at(1.5),
        True,
    )
    done = callbacks.record_outcome(first, S.DONE, at(10), {"duration": 500}, sid="CA1")
    assert done is not None and done.status == S.DONE
    assert events(callbacks, first) == [
        ("scheduled", "scheduled"),
        ("dial_requested", "dialing"),
        ("dial_placed", "dialing"),
        ("outcome", "connected"),
        ("outcome", "done"),
    ]
    # Twilio retries webhooks: a repeat changes nothing.
    again = callbacks.record_outcome(first, S.BUSY, at(11), sid="CA1")
    assert again is not None and again.status == S.DONE
    assert callbacks.record_outcome("missing", S.DONE, at(11)) is None


def test_connected_late_is_not_on_time(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    dial(callbacks, first, at(0))
    record = callbacks.record_outcome(first, S.CONNECTED, at(2.5))
    assert record is not None and record.on_time is False


def test_failed_attempts_retry_with_back_off_then_give_up(callbacks: CallbackStore) -> None:
    first = book(callbacks, max_attempts=3, retry_after_minutes=[5, 15])
    dial(callbacks, first, at(0), sid="CA1")
    record = callbacks.record_outcome(first, S.BUSY, at(1), sid="CA1")
    assert record is not None
    assert (record.status, record.due_at, record.promised_at) == (S.RETRY, at(6), at(0))
    assert callbacks.claim_due("w1", at(5.9), lease_seconds=60) == []
    dial(callbacks, first, at(6), sid="CA2")
    # The first attempt's late webhook does not touch the second attempt.
    stale = callbacks.record_outcome(first, S.NO_ANSWER, at(6.1), sid="CA1")
    assert stale is not None and stale.status == S.DIALING
    record = callbacks.record_outcome(first, S.NO_ANSWER, at(7), sid="CA2")
    assert record is not None and (record.status, record.due_at) == (S.RETRY, at(22))
    dial(callbacks, first, at(22), sid="CA3")
    record = callbacks.record_outcome(first, S.MACHINE, at(23), {"answered_by": "machine_start"})
    assert record is not None and record.status == S.GAVE_UP and record.attempts == 3
    assert [e for e in events(callbacks, first) if e[0] != "dial_requested"] == [
        ("scheduled", "scheduled"),
        ("dial_placed", "dialing"),
        ("outcome", "busy"),
        ("retry", "retry"),
        ("dial_placed", "dialing"),
        ("outcome", "no_answer"),
        ("retry", "retry"),
        ("dial_placed", "dialing"),
        ("outcome", "machine"),
        ("gave_up", "gave_up"),
    ]
    assert callbacks.claim_due("w1", at(999), lease_seconds=60) == []


def test_failed_and_outcome_before_dial_placed(callbacks: CallbackStore) -> None:
    # The status webhook can beat the worker's own write of the sid.
    first = book(callbacks, max_attempts=1)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    callbacks.dial_requested(first, "w1", 1, at(0))
    record = callbacks.record_outcome(first, S.FAILED, at(0.1), sid="CA5")
    assert record is not None and (record.status, record.dial_sid) == (S.GAVE_UP, "CA5")
    late = callbacks.dial_placed(first, "CA5", at(0.2))
    assert late.status == S.GAVE_UP


def test_record_outcome_refuses_non_outcomes(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    with pytest.raises(ValueError):
        callbacks.record_outcome(first, S.RETRY, at(0))


def test_defer_keeps_the_promise(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    with pytest.raises(LeaseLost):
        callbacks.defer(first, at(600), at(0), "quiet_hours", worker_id="w2")
    record = callbacks.defer(first, at(600), at(0), "quiet_hours", worker_id="w1")
    assert (record.status, record.due_at, record.promised_at) == (S.SCHEDULED, at(600), at(0))
    assert record.lease_owner is None
    assert callbacks.claim_due("w1", at(599), lease_seconds=60) == []
    assert len(callbacks.claim_due("w1", at(600), lease_seconds=60)) == 1
    detail = callbacks.get(first).transitions[-1].detail  # type: ignore[union-attr]
    assert detail == {"reason": "quiet_hours", "until": at(600).isoformat()}


# -- concurrency and failure ----------------------------------------------------------------------


def test_claims_are_exclusive_between_threads(database: Database) -> None:
    stores = [CallbackStore(database.open(), RULES) for _ in range(4)]
    ids = {book(stores[0], number=f"+4477009{i:05d}", due_at=at(-(i % 7))) for i in range(120)}
    got: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        store = stores[i % len(stores)]
        while True:
            claims = store.claim_due(f"w{i}", at(0), lease_seconds=300, limit=3)
            if not claims:
                return
            for claim in claims:
                store.dial_requested(claim.callback.id, f"w{i}", 1, at(0))
                store.dial_placed(claim.callback.id, f"CA{claim.callback.id}", at(0))
            with lock:
                got.extend(c.callback.id for c in claims)

    run_threads(8, work)
    assert Counter(got).most_common(1)[0][1] == 1
    assert set(got) == ids


def test_concurrent_outcomes_and_cancels_keep_one_story(database: Database) -> None:
    stores = [CallbackStore(database.open(), RULES) for _ in range(2)]
    first = book(stores[0])
    dial(stores[0], first, at(0), sid="CA1")
    outcomes = [S.BUSY, S.NO_ANSWER, S.BUSY, S.FAILED]

    def work(i: int) -> None:
        stores[i % 2].record_outcome(first, outcomes[i], at(1), sid="CA1")

    run_threads(4, work)
    record = stores[0].get(first)
    assert record is not None and record.status == S.RETRY
    assert sum(1 for t in record.transitions if t.event == "outcome") == 1


def test_a_closed_store_raises_store_unavailable(store: Store) -> None:
    callbacks = CallbackStore(store, RULES)
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        book(callbacks)
    with pytest.raises(StoreUnavailable, match="closed"):
        callbacks.claim_due("w1", at(0), lease_seconds=60)


def test_dial_requested_renews_the_lease_for_the_request(callbacks: CallbackStore) -> None:
    first = book(callbacks)
    callbacks.claim_due("w1", at(0), lease_seconds=60)
    record = callbacks.dial_requested(first, "w1", 1, at(0.9), to="+1555", lease_seconds=60)
    assert (record.lease_until, record.dial_to) == (at(1.9), "+1555")
    assert callbacks.claim_due("w2", at(1.5), lease_seconds=60) == []
    [claim] = callbacks.claim_due("w2", at(1.9), lease_seconds=60)
    assert claim.recovering and claim.callback.dial_to == "+1555"
