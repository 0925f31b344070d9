"""The booking spool against real SQLite and PostgreSQL stores: kept on disk, stored once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr.callbacks.policy import RULES
from ivr.callbacks.spool import BookingSpool, SpoolError
from ivr.store import CallbackStatus, CallbackStore, Store

BOOKED_AT = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def booking(callback_id: str = "cb-1", **fields: Any) -> dict[str, Any]:
    return {
        "callback_id": callback_id,
        "queue": "billing",
        "number": "+447700900123",
        "due_at": DUE,
        "now": BOOKED_AT,
        "reason": "asked_for_person",
        "call_id": "CA-spooled",
        "from_number": "+442079460000",
        "mode": "agent_first",
        "language": "en",
        "context": {"summary": "Bill too high.", "slots": {"account_number": "44128890"}},
        "sms": True,
        "max_attempts": 3,
        "retry_after_minutes": [5, 15, 60],
        "replaces": None,
        **fields,
    }


@pytest.fixture
def spool(tmp_path: Path) -> BookingSpool:
    return BookingSpool(tmp_path / "spool")


@pytest.fixture
def callbacks(store: Store) -> CallbackStore:
    return CallbackStore(store, RULES)


def test_a_spooled_booking_is_stored_as_it_was_made(
    spool: BookingSpool, callbacks: CallbackStore
) -> None:
    path = spool.put(booking())
    assert path.name == "cb-1.json" and spool.pending() == [path]
    assert [p.name for p in spool.directory.iterdir()] == ["cb-1.json"]  # no partial left

    (record,) = spool.replay(callbacks.schedule)

    assert record.id == "cb-1"
    assert (record.due_at, record.promised_at) == (DUE, DUE)
    assert (record.call_id, record.queue, record.sms) == ("CA-spooled", "billing", True)
    assert record.context["slots"] == {"account_number": "44128890"}
    stored = callbacks.get("cb-1")
    assert stored is not None and stored.status == CallbackStatus.SCHEDULED
    assert stored.transitions[0].at == BOOKED_AT  # when the caller was promised it
    assert spool.pending() == []


def test_while_the_database_is_down_everything_stays_on_disk(
    spool: BookingSpool, store: Store
) -> None:
    spool.put(booking("cb-1"))
    spool.put(booking("cb-2"))
    callbacks = CallbackStore(store, RULES)
    store.close()  # every query now raises StoreUnavailable

    assert spool.replay(callbacks.schedule) == []
    assert sorted(p.name for p in spool.pending()) == ["cb-1.json", "cb-2.json"]


def test_a_booking_already_stored_is_not_stored_twice(
    spool: BookingSpool, callbacks: CallbackStore
) -> None:
    """A process that stored it but died before deleting the file, or two replaying at once."""
    path = spool.put(booking())
    spool.replay(callbacks.schedule)
    spool.put(booking())  # the same booking on disk again

    assert spool.replay(callbacks.schedule) == []
    assert not path.exists()
    assert [r.id for r in callbacks.list()] == ["cb-1"]


def test_a_moved_booking_replaces_the_old_one(
    spool: BookingSpool, callbacks: CallbackStore
) -> None:
    old = callbacks.schedule(queue="billing", number="+447700900123", due_at=DUE, now=BOOKED_AT)
    spool.put(booking(due_at=DUE + timedelta(hours=1), replaces=old.id))

    (new,) = spool.replay(callbacks.schedule)

    cancelled = callbacks.get(old.id)
    assert cancelled is not None and cancelled.status == CallbackStatus.CANCELLED
    assert new.due_at == DUE + timedelta(hours=1)


def test_a_move_whose_old_booking_was_dialed_meanwhile_still_stands(
    spool: BookingSpool, callbacks: CallbackStore, caplog: pytest.LogCaptureFixture
) -> None:
    old = callbacks.schedule(queue="billing", number="+447700900123", due_at=DUE, now=BOOKED_AT)
    callbacks.claim_due("w1", DUE, lease_seconds=60)
    callbacks.dial_requested(old.id, "w1", 1, DUE)
    spool.put(booking(due_at=DUE + timedelta(hours=1), replaces=old.id))

    (new,) = spool.replay(callbacks.schedule)

    assert new.status == CallbackStatus.SCHEDULED
    dialing = callbacks.get(old.id)
    assert dialing is not None and dialing.status == CallbackStatus.DIALING
    assert "stored on its own" in caplog.text


def test_an_unreadable_booking_is_set_aside_and_logged_with_its_content(
    spool: BookingSpool, callbacks: CallbackStore, caplog: pytest.LogCaptureFixture
) -> None:
    spool.directory.mkdir(parents=True)
    (spool.directory / "broken.json").write_text('{"format": 1, "booking": {"queue": "bil')
    (spool.directory / "future.json").write_text(json.dumps({"format": 99, "booking": {}}))
    spool.put(booking("cb-good"))

    stored = spool.replay(callbacks.schedule)

    assert [r.id for r in stored] == ["cb-good"]  # one bad file holds nothing else up
    rejected = spool.directory / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == ["broken.json", "future.json"]
    assert spool.pending() == []
    messages = [r for r in caplog.records if r.getMessage() == "spooled callback rejected"]
    assert {m.content for m in messages} >= {'{"format": 1, "booking": {"queue": "bil'}  # type: ignore[attr-defined]
    assert any("format 99" in m.error for m in messages)  # type: ignore[attr-defined]


def test_a_spool_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(SpoolError, match="not-a-folder"):
        BookingSpool(blocker / "spool").put(booking())
