"""Presence and busy agents in routing, read from a real database (SQLite and PostgreSQL).

The demo line's people (flows/people.yaml) at Monday 10:00 in London: alice and bob answer
``general`` in English, in that order; bob is a returning caller's agent when the caller had him.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.flow import load_flow
from ivr.config import ROOT
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster
from ivr.people.staffing import LastAgent, Staffing
from ivr.store import AgentStates, Presence, Store, StoreUnavailable
from tests.fixtures.postgres import POSTGRES_URL
from tests.ivr.store.conftest import TcpProxy

OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 in London
NIGHT = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # nobody's shift
FLOW = load_flow(ROOT / "flows")


def staffing_over(states: AgentStates | None, *, tolerant: bool = False) -> Staffing:
    """For an English call (the demo line's Czech, Polish and Latvian agents are not rung)."""
    roster = Roster(lambda: states, tolerant=tolerant)
    return Staffing(FLOW, AgentDirectory({}), roster).speaking("en")


def addresses(
    staffing: Staffing, now: datetime = OPEN, last: LastAgent | None = None
) -> list[str | None]:
    """The agent ids ``staffing`` would try for ``general``, in order."""
    return [person.agent for person in staffing.candidates("general", now, last)]


def test_away_and_offline_agents_are_not_rung_and_phone_only_agents_are(store: Store) -> None:
    states = AgentStates(store)
    staffing = staffing_over(states)
    assert addresses(staffing) == ["alice", "bob"]  # nobody ever logged in: as before
    states.set_presence("alice", Presence.AWAY, OPEN)
    assert staffing.unavailable(OPEN) == {"alice"}
    assert addresses(staffing) == ["bob"]
    states.set_presence("alice", Presence.OFFLINE, OPEN)
    states.set_presence("bob", Presence.AVAILABLE, OPEN)
    assert addresses(staffing) == ["bob"]
    states.set_presence("alice", Presence.AVAILABLE, OPEN)
    assert addresses(staffing) == ["alice", "bob"]
    first = staffing.first("general", OPEN)
    assert first is not None and (first.address, first.agent) == ("+441632960001", "alice")


def test_busy_agents_are_not_rung_until_released_or_run_out(store: Store) -> None:
    states = AgentStates(store)
    staffing = staffing_over(states)
    until = OPEN + timedelta(seconds=50)
    assert states.reserve("alice", OPEN, until, call_id="CA1")
    assert addresses(staffing) == ["bob"]
    assert staffing.next("general", OPEN, ()) == staffing.first("general", OPEN)
    assert states.reserve("bob", OPEN, until, callback_id="cb1")
    assert addresses(staffing) == [] and staffing.first("general", OPEN) is None
    states.release(call_id="CA1")
    assert addresses(staffing) == ["alice"]
    assert addresses(staffing, until) == ["alice", "bob"]  # bob's reservation ran out


def test_a_returning_callers_agent_who_is_away_is_skipped_for_the_queues_next(
    store: Store,
) -> None:
    states = AgentStates(store)
    staffing = staffing_over(states)
    bob = LastAgent("bob", 1.0)
    assert addresses(staffing, last=bob) == ["bob", "alice"]
    states.set_presence("bob", Presence.AWAY, OPEN)
    assert addresses(staffing, last=bob) == ["alice"]


def test_future_ring_times_ask_shifts_only(store: Store) -> None:
    states = AgentStates(store)
    staffing = staffing_over(states)
    for agent in ("alice", "bob"):
        states.set_presence(agent, Presence.OFFLINE, OPEN)
    assert staffing.first("general", OPEN) is None
    assert staffing.staffed("general", OPEN)  # they are on shift: later they may be back
    assert not staffing.staffed("general", NIGHT)


def test_excluded_agents_are_skipped_for_this_decision_only(store: Store) -> None:
    staffing = staffing_over(AgentStates(store))
    assert addresses(staffing.excluding({"alice"})) == ["bob"]
    assert addresses(staffing) == ["alice", "bob"]


def test_with_the_database_down_routing_goes_on_as_if_everyone_were_free(
    postgres_proxy: TcpProxy, postgres_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(POSTGRES_URL).set(
        drivername="postgresql+psycopg", host="127.0.0.1", port=postgres_proxy.port
    )
    with Store(url.render_as_string(hide_password=False), schema=postgres_schema) as store:
        states = AgentStates(store)
        states.set_presence("alice", Presence.AWAY, OPEN)
        assert states.reserve("bob", OPEN, OPEN + timedelta(minutes=1), call_id="CA1")
        tolerant, strict = staffing_over(states, tolerant=True), staffing_over(states)
        assert addresses(tolerant) == []
        postgres_proxy.stop()
        with caplog.at_level(logging.WARNING, logger="ivr.people.roster"):
            assert addresses(tolerant) == ["alice", "bob"]  # unknown: everyone is free
            assert tolerant.roster is not None
            assert tolerant.roster.reserve("alice", OPEN, OPEN, call_id="CA2")
            tolerant.roster.release(call_id="CA1")
        assert "everyone counts as free" in caplog.text
        assert "not reserved" in caplog.text
        with pytest.raises(StoreUnavailable):
            strict.unavailable(OPEN)  # the worker's roster says so instead
        assert strict.roster is not None
        with pytest.raises(StoreUnavailable):
            strict.roster.reserve("alice", OPEN, OPEN, callback_id="cb1")
        postgres_proxy.start()
        assert addresses(tolerant) == []  # back: alice away, bob busy again


def test_not_connected_yet_is_a_failure_like_any_other() -> None:
    assert addresses(staffing_over(None, tolerant=True)) == ["alice", "bob"]
    with pytest.raises(StoreUnavailable, match="not connected"):
        staffing_over(None).unavailable(OPEN)
