"""Recovering a lost agent-first request when many callbacks ring the same agent.

A recovering worker asks Twilio for calls to the agent's address since the attempt began. Other
calls to that address are there too: an earlier callback's (whose sid a later attempt of it no
longer keeps on its row) and a transfer's ``<Dial>`` leg. The worker must adopt exactly the
call its own request made, or none. Real parts on SQLite and PostgreSQL: the worker, the REST
emulator and the official client (Twilio dates its calls by the real clock, so the worker's
clock is real time here, moved on past a lease by the test), and the placed-callback events the
web app's webhooks run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from twilio_emulator.rest import TwilioRestEmulator

from bot.flow import Flow
from ivr.callbacks.placed import PlacedCallbacks
from ivr.callbacks.policy import RULES
from ivr.callbacks.worker import CallbackWorker, WorkerSettings
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster
from ivr.people.staffing import Staffing
from ivr.store import AgentStates, CallbackRecord, CallbackStatus, CallbackStore, Store
from ivr.telephony import (
    CallStatus,
    DialOutcome,
    LegStatusChanged,
    SecondLegAnswered,
    SecondLegEnded,
)
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from tests.fixtures.workers import a_transfer_rings
from tests.ivr.callbacks.test_worker import ALICE, CAROL, PUBLIC, Clock, people_flow

S = CallbackStatus
LEASE = 120.0
CUSTOMERS = [f"+4477009005{i:02d}" for i in range(4)]


class Team:
    """Workers, the web app's callback events and the emulator, on one database."""

    def __init__(self, store: Store, twilio: TwilioRestEmulator, now: datetime) -> None:
        self.twilio = twilio
        self.callbacks = CallbackStore(store, RULES)
        self.states = AgentStates(store)
        self.flow: Flow = people_flow(always=True)  # alice, carol, bob: always on shift
        self.clock = Clock(now)
        self.staffing = Staffing(
            self.flow, AgentDirectory({}), Roster(lambda: self.states, tolerant=False)
        )
        self.placed = PlacedCallbacks(
            lambda: self.callbacks, lambda: self.flow, lambda: self.staffing, self.clock
        )

    def worker(self, name: str) -> CallbackWorker:
        ringer = TwilioRinger(
            TwilioDialer(self.twilio.account_sid, self.twilio.auth_token, self.twilio.url),
            PUBLIC + "/",
        )
        settings = WorkerSettings(worker_id=name, caller_id="+15005550006", lease_seconds=LEASE)
        return CallbackWorker(
            self.callbacks, ringer, self.flow, self.staffing, settings, self.clock
        )

    def book(self, number: str, *, agent: str = "carol", due: datetime | None = None) -> str:
        return self.callbacks.schedule(
            queue="billing",
            number=number,
            agent_id=agent,
            due_at=due or self.clock.now,
            now=self.clock.now - timedelta(minutes=1),
        ).id

    def get(self, callback_id: str) -> CallbackRecord:
        record = self.callbacks.get(callback_id)
        assert record is not None
        return record

    def calls_for(self) -> Counter[str]:
        """How many calls the emulator created for each callback (its answer URL names it)."""
        return Counter(
            parse_qs(urlparse(call.url or "").query)["callback"][0]
            for call in self.twilio.calls
            if call.url
        )

    def rang_out(self, callback_id: str) -> None:
        """The callback's call was not answered (the status webhook): retry, agent free."""
        record = self.get(callback_id)
        self.placed.first_leg_status(
            LegStatusChanged(callback_id, CallStatus.NO_ANSWER, record.dial_sid)
        )

    def done(self, callback_id: str) -> None:
        """Both sides talked, then hung up (the webhooks): done, agent free."""
        record = self.get(callback_id)
        self.placed.second_leg_answered(SecondLegAnswered(callback_id, "customer"))
        self.placed.first_leg_status(
            LegStatusChanged(callback_id, CallStatus.COMPLETED, record.dial_sid)
        )


@pytest.fixture
def team(store: Store) -> Iterator[Team]:
    with TwilioRestEmulator() as twilio:
        yield Team(store, twilio, datetime.now(UTC))


def lose_the_request(team: Team, at_twilio: bool) -> None:
    """The next request is lost (``at_twilio``: after Twilio made the call) and so is the list."""
    if at_twilio:
        team.twilio.drop_next(1, method="POST")  # carried out, no answer
        team.twilio.fail_next(1, method="GET")  # and Twilio cannot be asked at once either
    else:
        team.twilio.fail_next(2)  # the create and the list: 500, nothing created


@pytest.mark.parametrize("at_twilio", [False, True], ids=["never_reached", "call_made"])
def test_recovery_takes_only_the_call_its_own_request_made(team: Team, at_twilio: bool) -> None:
    first = team.worker("w1")
    # P rings carol and she does not answer: P will retry, carol is free.
    p = team.book(CUSTOMERS[0])
    assert first.tick() == ["placed"]
    earlier = team.get(p).dial_sid
    team.rang_out(p)
    assert team.get(p).status == S.RETRY and team.states.busy(team.clock.now) == {}
    a_transfer_rings(team.twilio, CAROL)  # meanwhile a transfer rings carol

    # A's request to carol is lost: A holds carol, and is left for a worker to recover.
    a = team.book(CUSTOMERS[1])
    lose_the_request(team, at_twilio)
    assert first.tick() == ["unknown"]
    lost = team.get(a)
    assert (lost.status, lost.dial_to, lost.dial_sid) == (S.DIALING, CAROL, None)
    assert team.states.busy(team.clock.now)["carol"].callback_id == a

    # P's next attempt cannot have carol (A holds her): it rings alice, and its row no longer
    # keeps the sid of its call to carol.
    team.callbacks.move(p, team.clock.now, team.clock.now)
    assert first.tick() == ["placed"]
    assert (team.get(p).dial_to, team.get(p).attempts) == (ALICE, 2)
    assert team.get(p).dial_sid != earlier

    # After A's lease another worker recovers it. Twilio lists P's first call, the transfer's
    # leg and (if it got that far) A's own call to carol: only A's own is A's.
    team.clock.now += timedelta(seconds=LEASE + 1)
    assert team.worker("w2").tick() == ["adopted" if at_twilio else "placed"]
    recovered = team.get(a)
    [own] = [c for c in team.twilio.calls if c.url and f"callback={a}" in c.url]
    assert (recovered.dial_sid, recovered.dial_to, recovered.attempts) == (own.sid, CAROL, 1)
    assert team.calls_for() == {p: 2, a: 1}
    events = [t.event for t in recovered.transitions]
    expected = ["adopted"] if at_twilio else ["dial_requested", "dial_placed"]
    assert events == ["scheduled", "dial_requested", "recovered", *expected]
    assert team.states.busy(team.clock.now)["carol"].callback_id == a  # still A's, ringing


def test_recovery_waits_while_another_callback_holds_the_agent(team: Team) -> None:
    """A's reservation ran out (no worker came in time) and C took carol: A waits for C."""
    first = team.worker("w1")
    a = team.book(CUSTOMERS[1])
    lose_the_request(team, at_twilio=True)
    assert first.tick() == ["unknown"]
    start = team.clock.now

    # Past A's whole reservation (lease, ring and margin): C, due earlier, is claimed first
    # and takes carol; A's recovery then finds carol held by C.
    team.clock.now = start + timedelta(seconds=LEASE + 20 + 61)
    c = team.book(CUSTOMERS[2], due=start - timedelta(minutes=1))
    assert first.tick() == ["placed", "waiting"]
    assert team.get(c).dial_to == CAROL and team.get(a).dial_sid is None
    assert team.states.busy(team.clock.now)["carol"].callback_id == c

    # C ends; at A's next recovery carol is free and C's call is C's: A adopts its own.
    team.done(c)
    assert team.states.busy(team.clock.now) == {}
    team.clock.now += timedelta(seconds=LEASE + 1)
    assert team.worker("w2").tick() == ["adopted"]
    [own] = [call for call in team.twilio.calls if call.url and f"callback={a}" in call.url]
    assert team.get(a).dial_sid == own.sid
    assert team.calls_for() == {a: 1, c: 1}


@pytest.mark.parametrize("leg", ["agent", "customer"])
def test_a_webhook_names_the_call_a_dead_worker_never_stored(team: Team, leg: str) -> None:
    """The worker lost the answer, then Twilio reports the attempt's end before any recovery:
    the agent's phone rang out (its status), or the customer did not answer (the dial action).
    """
    first = team.worker("w1")
    a = team.book(CUSTOMERS[1])
    lose_the_request(team, at_twilio=True)
    assert first.tick() == ["unknown"]
    [call] = team.twilio.calls
    assert team.get(a).dial_sid is None
    if leg == "agent":
        team.placed.first_leg_status(LegStatusChanged(a, CallStatus.NO_ANSWER, call.sid))
    else:
        team.placed.second_leg_ended(SecondLegEnded(a, DialOutcome.NO_ANSWER, call.sid))
    retried = team.get(a)
    assert (retried.status, retried.dial_sid) == (S.RETRY, call.sid)
    assert retried.transitions[-2].detail["sid"] == call.sid
    assert team.states.busy(team.clock.now) == {}  # the attempt is over: carol is free

    # Its next attempt clears the row's sid; the call is still known as A's.
    team.callbacks.move(a, team.clock.now, team.clock.now)
    assert first.tick() == ["placed"]
    assert team.get(a).dial_sid != call.sid
    assert team.callbacks.sids_in_use([call.sid]) == {call.sid}
