"""The people side of a stored call: who answered, how fast, resolved or abandoned; history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.store import Store

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_time_to_a_person_and_the_wait_are_stored(store: Store) -> None:
    store.call_started("CA1", caller="+447700900001", called="+442079460000", started_at=at(0))
    store.set_outcome("CA1", outcome="transfer", queue="billing", reason="billing_question")
    store.person_rung("CA1", at=at(30))
    store.person_rung("CA1", at=at(50))  # the next agent: the first ring counts
    store.person_answered("CA1", agent="alice", at=at(42))
    store.person_answered("CA1", agent="bob", at=at(60))  # later answers change nothing
    store.call_ended("CA1", ended_at=at(300), status="completed")
    call = store.get_call("CA1")
    assert call is not None
    assert call.agent == "alice"
    assert call.time_to_person_seconds == pytest.approx(42)
    assert call.answer_wait_seconds == pytest.approx(12)
    assert call.resolved_by_bot is False
    assert call.abandoned is False


def test_a_goodbye_from_the_bot_is_resolved(store: Store) -> None:
    store.call_started("CA2", caller="+447700900002", called=None, started_at=at(0))
    store.set_outcome("CA2", outcome="hangup", reason="completed")
    store.call_ended("CA2", ended_at=at(40), status="completed")
    call = store.get_call("CA2")
    assert call is not None
    assert (call.resolved_by_bot, call.abandoned, call.time_to_person_seconds) == (
        True,
        False,
        None,
    )


def test_hanging_up_while_a_person_rings_is_abandonment(store: Store) -> None:
    store.call_started("CA3", caller="+447700900003", called=None, started_at=at(0))
    store.set_outcome("CA3", outcome="transfer", queue="faults", reason="outage")
    store.person_rung("CA3", at=at(20))
    store.call_ended("CA3", ended_at=at(35), status="completed")
    call = store.get_call("CA3")
    assert call is not None
    assert (call.resolved_by_bot, call.abandoned) == (False, True)


def test_a_callback_after_nobody_answered_is_not_abandonment(store: Store) -> None:
    store.call_started("CA4", caller="+447700900004", called=None, started_at=at(0))
    store.person_rung("CA4", at=at(20))
    store.set_outcome("CA4", outcome="callback", queue="faults", reason="dial_no_answer")
    store.call_ended("CA4", ended_at=at(90), status="completed")
    call = store.get_call("CA4")
    assert call is not None
    assert call.abandoned is False


def test_a_running_call_has_no_verdict_yet(store: Store) -> None:
    store.call_started("CA5", caller=None, called=None, started_at=at(0))
    call = store.get_call("CA5")
    assert call is not None
    assert (call.resolved_by_bot, call.abandoned) == (None, None)


def test_earlier_calls_from_a_number_newest_first(store: Store) -> None:
    for index, day in enumerate([10, 3, 1, 0]):
        store.call_started(
            f"CA{index}", caller="+447700900009", called=None, started_at=at(-day * 86400)
        )
    store.call_started("CAx", caller="+447700900010", called=None, started_at=at(-60))
    earlier = store.calls_from("+447700900009", since=at(-7 * 86400), exclude="CA3")
    assert [c.call_id for c in earlier] == ["CA2", "CA1"]


def test_answer_waits_of_a_queue(store: Store) -> None:
    for index, (wait, queue) in enumerate([(10, "billing"), (30, "billing"), (5, "faults")]):
        call_id = f"CA{index}"
        store.call_started(call_id, caller=None, called=None, started_at=at(index * 100))
        store.set_outcome(call_id, outcome="transfer", queue=queue, reason="x")
        store.person_rung(call_id, at=at(index * 100 + 1))
        store.person_answered(call_id, agent="a", at=at(index * 100 + 1 + wait))
    store.call_started("CAold", caller=None, called=None, started_at=at(-7200))
    store.set_outcome("CAold", outcome="transfer", queue="billing", reason="x")
    store.person_rung("CAold", at=at(-7200))
    store.person_answered("CAold", agent="a", at=at(-7000))
    waits = store.answer_waits("billing", since=at(-3600))
    assert waits == [pytest.approx(30), pytest.approx(10)]
