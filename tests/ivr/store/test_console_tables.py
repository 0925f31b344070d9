"""The console's tables on both databases: accounts and failed log-ins, presence and busy
agents (one reservation per agent, across threads), notes, callbacks claimed by agents, and the
live stage and intent of calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.callbacks.policy import RULES
from ivr.store import (
    AccountError,
    AccountStore,
    AgentStates,
    BusyKind,
    CallbackStateError,
    CallbackStatus,
    CallbackStore,
    NoteStore,
    Presence,
    Store,
    TurnRecord,
)
from ivr.store.live import LiveReads
from tests.ivr.store.conftest import run_threads

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_accounts_are_created_listed_disabled_and_given_new_passwords(store: Store) -> None:
    accounts = AccountStore(store)
    alice = accounts.add("alice", "agent", "hash-1", NOW)
    accounts.add("sam", "supervisor", "hash-2", NOW)
    assert (alice.name, alice.role, alice.disabled, alice.is_supervisor) == (
        "alice", "agent", False, False,
    )  # fmt: skip
    assert [a.name for a in accounts.list()] == ["alice", "sam"]
    assert accounts.by_id(alice.id) == alice
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("alice", "agent", "other", NOW)
    with pytest.raises(AccountError, match="role must be one of agent, supervisor"):
        accounts.add("bob", "admin", "x", NOW)
    assert accounts.set_disabled("alice", True, NOW).disabled
    assert accounts.set_password("alice", "hash-3", NOW).password_hash == "hash-3"
    with pytest.raises(AccountError, match="no account named 'nobody'"):
        accounts.set_disabled("nobody", True, NOW)


def test_failed_logins_are_counted_per_account_and_address(store: Store) -> None:
    accounts = AccountStore(store)
    for minute in range(3):
        accounts.login_failed("alice", "10.0.0.1", NOW + timedelta(minutes=minute))
    accounts.login_failed("bob", "10.0.0.1", NOW)
    accounts.login_failed("alice", "10.0.0.2", NOW)
    since = NOW - timedelta(minutes=15)
    assert accounts.failures_since(since, name="alice", address="10.0.0.1") == (4, 4)
    assert accounts.failures_since(NOW + timedelta(minutes=1), name="alice", address="x") == (2, 0)
    accounts.login_succeeded("alice")
    assert accounts.failures_since(since, name="alice", address="10.0.0.1") == (0, 1)


def test_presence_is_stored_and_replaced(store: Store) -> None:
    states = AgentStates(store)
    assert states.presence() == {}
    states.set_presence("alice", Presence.AWAY, NOW)
    states.set_presence("bob", Presence.AVAILABLE, NOW)
    states.set_presence("alice", Presence.OFFLINE, NOW + timedelta(minutes=1))
    assert states.presence() == {"alice": Presence.OFFLINE, "bob": Presence.AVAILABLE}


def test_an_agent_is_reserved_once_until_released_or_expired(store: Store) -> None:
    states = AgentStates(store)
    until = NOW + timedelta(seconds=40)
    assert states.reserve("alice", NOW, until, call_id="CA1")
    assert not states.reserve("alice", NOW, until, callback_id="cb1")  # busy: not rung twice
    assert states.reserve("alice", NOW, until + timedelta(seconds=5), call_id="CA1")  # renewed
    busy = states.busy(NOW)["alice"]
    assert (busy.kind, busy.call_id, busy.until) == (
        BusyKind.RINGING,
        "CA1",
        until + timedelta(seconds=5),
    )
    states.on_call("alice", NOW, NOW + timedelta(hours=4), call_id="CA1")
    assert states.busy(NOW)["alice"].kind == BusyKind.ON_CALL
    states.release(call_id="CA1")
    assert states.busy(NOW) == {}
    assert states.reserve("alice", NOW, until, callback_id="cb1")
    later = until + timedelta(seconds=1)
    assert states.busy(later) == {}  # a dead process's reservation runs out
    assert states.reserve("alice", later, later + timedelta(seconds=40), call_id="CA2")


def test_eight_threads_reserving_one_agent_get_it_once(store: Store) -> None:
    states = AgentStates(store)
    won: list[str] = []

    def reserve(i: int) -> None:
        if states.reserve("alice", NOW, NOW + timedelta(minutes=1), callback_id=f"cb{i}"):
            won.append(f"cb{i}")

    run_threads(8, reserve)
    assert len(won) == 1
    assert states.busy(NOW)["alice"].callback_id == won[0]


def test_notes_are_kept_per_number_newest_first(store: Store) -> None:
    notes = NoteStore(store)
    notes.add("+447700900123", "alice", "Prefers mornings.", NOW, call_id="CA1")
    notes.add(
        "+447700900123", "bob", "  Asked about the March bill.  ", NOW + timedelta(hours=1), None
    )
    notes.add("+447700900999", "bob", "Someone else.", NOW, None)
    found = notes.for_number("+447700900123")
    assert [(n.author, n.text) for n in found] == [
        ("bob", "Asked about the March bill."),
        ("alice", "Prefers mornings."),
    ]
    with pytest.raises(ValueError, match="empty"):
        notes.add("+447700900123", "bob", "   ", NOW, None)
    with pytest.raises(ValueError, match="at most 2000"):
        notes.add("+447700900123", "bob", "x" * 2001, NOW, None)


def book(callbacks: CallbackStore, due: datetime = NOW) -> str:
    return callbacks.schedule(queue="billing", number="+447700900123", due_at=due, now=NOW).id


def test_an_agent_claims_a_callback_and_completes_it(store: Store) -> None:
    callbacks = CallbackStore(store, RULES)
    booked = book(callbacks)
    claimed = callbacks.claim(booked, "alice", NOW)
    assert (claimed.status, claimed.claimed_by) == (CallbackStatus.CLAIMED, "alice")
    assert callbacks.claim_due("w1", NOW, lease_seconds=60) == []  # the worker leaves it
    with pytest.raises(CallbackStateError, match="claim it"):
        callbacks.claim(booked, "bob", NOW)
    with pytest.raises(CallbackStateError, match="claimed by alice"):
        callbacks.complete(booked, "bob", "reached them", NOW, reached=True)
    done = callbacks.complete(
        booked, "alice", "sorted the bill", NOW + timedelta(minutes=1), reached=True
    )
    assert (done.status, done.on_time, done.connected_at) == (
        CallbackStatus.DONE, True, NOW + timedelta(minutes=1),
    )  # fmt: skip
    found = callbacks.get(booked)
    assert found is not None
    assert [t.event for t in found.transitions] == ["scheduled", "claimed", "completed"]
    assert found.transitions[-1].detail == {
        "by": "alice",
        "outcome": "sorted the bill",
        "reached": True,
    }


def test_a_claimed_callback_can_be_given_back_moved_or_cancelled(store: Store) -> None:
    callbacks = CallbackStore(store, RULES)
    first, second = book(callbacks), book(callbacks)
    callbacks.claim(first, "alice", NOW)
    back = callbacks.unclaim(first, "alice", NOW)
    assert (back.status, back.claimed_by) == (CallbackStatus.SCHEDULED, None)
    due = callbacks.claim_due("w1", NOW, lease_seconds=60)
    assert {c.callback.id for c in due} == {first, second}  # the worker may place it again
    with pytest.raises(CallbackStateError, match="a worker holds it"):
        callbacks.claim(first, "bob", NOW)  # not while a worker holds it
    third = callbacks.schedule(
        queue="billing", number="+447700900555", due_at=NOW + timedelta(hours=2), now=NOW
    ).id
    callbacks.claim(third, "bob", NOW)
    assert [c.id for c in callbacks.pending_for_number("+447700900555")] == [third]
    moved = callbacks.move(third, NOW + timedelta(hours=3), NOW, by="bob")
    assert (moved.status, moved.claimed_by) == (CallbackStatus.SCHEDULED, None)
    callbacks.claim(third, "bob", NOW)
    assert callbacks.cancel(third, NOW, by="bob").status == CallbackStatus.CANCELLED


def test_two_agents_claiming_one_callback_one_wins(store: Store) -> None:
    callbacks = CallbackStore(store, RULES)
    booked = book(callbacks)
    winners: list[str] = []

    def claim(i: int) -> None:
        try:
            callbacks.claim(booked, f"agent{i}", NOW)
            winners.append(f"agent{i}")
        except CallbackStateError:
            pass

    run_threads(8, claim)
    assert len(winners) == 1
    found = callbacks.get(booked)
    assert found is not None and found.claimed_by == winners[0]


def test_a_call_records_its_stage_and_the_intent_the_bot_acted_on(store: Store) -> None:
    store.call_started("CA1", caller="+1", called="+2", started_at=NOW)
    assert store.get_call("CA1").stage == "bot"  # type: ignore[union-attr]
    for index, (intent, decision) in enumerate(
        [("billing", "misunderstood"), ("billing", "clarify"), ("faults", "route:faults"),
         ("billing", "route:billing")]
    ):  # fmt: skip
        store.add_turn(
            "CA1",
            TurnRecord(index, NOW, "menu", "speech", "words", intent=intent, decision=decision),
        )
    store.set_stage("CA1", "booking")
    call = store.get_call("CA1")
    assert call is not None and (call.stage, call.intent) == ("booking", "faults")
    store.person_rung("CA1", at=NOW)
    assert store.get_call("CA1").stage == "ringing"  # type: ignore[union-attr]
    store.person_answered("CA1", agent="alice", at=NOW)
    assert store.get_call("CA1").stage == "agent"  # type: ignore[union-attr]
    store.call_ended("CA1", ended_at=NOW, status="completed")
    store.set_stage("CA1", "bot")  # too late: the call is over
    assert store.get_call("CA1").stage == "ended"  # type: ignore[union-attr]


def test_live_reads_give_each_call_in_progress_its_own_newest_turn(store: Store) -> None:
    said = {"CA-long": ["one", "two", "three"], "CA-short": ["hello"], "CA-quiet": []}
    for number, (call_id, lines) in enumerate(said.items()):
        store.call_started(call_id, caller=f"+4477009001{number:02}", called="+442079460000",
                           started_at=NOW + timedelta(seconds=number))  # fmt: skip
        for index, text in enumerate(lines):
            store.add_turn(call_id, TurnRecord(index, NOW, f"step-{index}", "speech", text))
    store.call_started("CA-over", caller="+447700900199", called="+442079460000", started_at=NOW)
    store.call_ended("CA-over", ended_at=NOW + timedelta(minutes=1), status="completed")

    live = LiveReads(store).in_progress(NOW - timedelta(hours=1))
    assert [(c.call.call_id, c.last_words, c.turns, c.step) for c in live] == [
        ("CA-quiet", None, 0, None),
        ("CA-short", "hello", 1, "step-0"),  # index 0 is also CA-long's oldest: not its newest
        ("CA-long", "three", 3, "step-2"),
    ]
