"""Busy means busy for placed callbacks: one callback per free agent, the rest wait.

Real parts on SQLite and PostgreSQL: the callback worker (in this process, with a clock the
test moves) places calls through the official client at the REST emulator; the web app on a
port takes the status webhooks the test sends as Twilio would (signed), and frees the agent
when a callback ends. The emulator ends each call at once without calling back, so "the
callback ends" is exactly when the test posts its webhooks.

The demo line (flows/people.yaml) at Monday 10:00 in London: alice and bob answer
``general``; a ``faults`` callback is customer first and rings bob.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

import pytest
from twilio_emulator.rest import TwilioRestEmulator

from ivr.callbacks.policy import RULES
from ivr.callbacks.worker import AGENTS_BUSY_WAIT, CallbackWorker, WorkerSettings
from ivr.nlu.service import free_port
from ivr.people.roster import Roster
from ivr.people.staffing import Staffing
from ivr.store import (
    AgentStates,
    BusyKind,
    CallbackRecord,
    CallbackStatus,
    CallbackStore,
    Presence,
)
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from tests.fixtures.live_server import LiveServer
from tests.ivr.callbacks.test_worker_processes import process_url
from tests.ivr.store.conftest import Database
from tests.ivr.web.test_app import post, verbs

S = CallbackStatus
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 10:00 in London
ALICE, BOB = "+441632960001", "sip:bob@pbx.acme.example"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Line:
    """The web app, the worker and the emulator on one database, at a clock the test moves."""

    def __init__(self, server: LiveServer, twilio: TwilioRestEmulator, database: Database) -> None:
        self.server, self.twilio = server, twilio
        store = database.open()
        self.callbacks = CallbackStore(store, RULES)
        self.states = AgentStates(store)
        self.clock = Clock(OPEN)
        flow = server.services.flow
        self.worker = CallbackWorker(
            self.callbacks,
            TwilioRinger(
                TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url, timeout=5),
                server.public_url,
            ),
            flow,
            Staffing(flow, server.services.directory, Roster(lambda: self.states, tolerant=False)),
            WorkerSettings(worker_id="w1", caller_id="+15005550006", batch=5),
            clock=self.clock,
        )

    def book(self, number: str, queue: str = "general", **fields: Any) -> str:
        # fields: any of CallbackStore.schedule's keyword arguments, passed on as given
        fields.setdefault("due_at", OPEN)
        return self.callbacks.schedule(
            queue=queue, number=number, now=OPEN - timedelta(hours=1), **fields
        ).id

    def tick(self, after: timedelta = timedelta()) -> Counter[str]:
        """Move the clock on by ``after`` and run one pass of the worker: what it did."""
        self.clock.now += after
        return Counter(self.worker.tick())

    def get(self, callback_id: str) -> CallbackRecord:
        record = self.callbacks.get(callback_id)
        assert record is not None
        return record

    def rung(self) -> list[tuple[str, str]]:
        """(callback, address) of every call requested at the emulator, in order."""
        return [
            (parse_qs(urlparse(r.get("Url") or "").query)["callback"][0], r.get("To") or "")
            for r in self.twilio.requests_to("Calls.json", "POST")
        ]

    def webhook(self, path: str, record: CallbackRecord, **fields: str) -> str:
        form = {
            "CallSid": record.dial_sid or "",
            "AccountSid": self.twilio.account_sid,
            "From": "+15005550006",
            "To": record.dial_to or "",
            "Direction": "outbound-api",
            "CallStatus": "in-progress",
            **fields,
        }
        response = post(self.server, f"/twilio/callback/{path}?callback={record.id}", form)
        assert response.status_code in (200, 204), response.text
        return response.text

    def agent_answers(self, callback_id: str) -> None:
        """The agent picks up (the whisper), then the customer (the opening): connected."""
        record = self.get(callback_id)
        self.webhook("answer", record)
        self.webhook("greet", record, To=record.number)
        assert self.get(callback_id).status == S.CONNECTED

    def ends(self, callback_id: str) -> None:
        """The connected callback's call completes: done."""
        self.webhook("status", self.get(callback_id), CallStatus="completed")
        assert self.get(callback_id).status == S.DONE

    def busy(self) -> dict[str, tuple[str | None, BusyKind]]:
        return {
            agent: (held.callback_id, held.kind)
            for agent, held in self.states.busy(self.clock.now).items()
        }


@pytest.fixture
def line(live_server: Callable[..., LiveServer], database: Database) -> Iterator[Line]:
    server = live_server(
        clock=lambda: OPEN,
        DATABASE_URL=process_url(database),
        NLU_URL=f"http://127.0.0.1:{free_port()}",
    )
    with TwilioRestEmulator(auth_token=server.auth_token) as twilio:
        yield Line(server, twilio, database)


def test_five_due_together_go_out_one_per_free_agent_and_the_rest_wait(line: Line) -> None:
    """Tried from outside: five callbacks due at once rang one agent five times at once."""
    dues = [OPEN - timedelta(seconds=5 - i) for i in range(5)]  # the claim's order is fixed
    promised = {line.book(f"+4477009001{i:02d}", due_at=due): due for i, due in enumerate(dues)}
    ids = list(promised)
    assert line.tick() == {"placed": 2, "deferred": 3}
    assert line.rung() == [(ids[0], ALICE), (ids[1], BOB)]  # one each, in the queue's order
    assert line.busy() == {
        "alice": (ids[0], BusyKind.RINGING),
        "bob": (ids[1], BusyKind.RINGING),
    }
    for waiting in map(line.get, ids[2:]):
        assert (waiting.status, waiting.attempts) == (S.SCHEDULED, 0)  # still waiting
        assert waiting.due_at == OPEN + AGENTS_BUSY_WAIT
        assert waiting.promised_at == promised[waiting.id]  # the promise stays as it was
        assert waiting.transitions[-1].detail["reason"] == "agents_busy"

    # Both agents' phones ring, then alice talks: nobody else is rung meanwhile.
    assert line.tick(AGENTS_BUSY_WAIT) == {"deferred": 3}
    line.agent_answers(ids[0])
    assert line.busy()["alice"] == (ids[0], BusyKind.ON_CALL)
    assert line.tick(AGENTS_BUSY_WAIT) == {"deferred": 3}
    assert len(line.rung()) == 2

    # As each agent's callback ends, the next one goes out to that agent.
    line.ends(ids[0])
    assert "alice" not in line.busy()
    assert line.tick(AGENTS_BUSY_WAIT) == {"placed": 1, "deferred": 2}
    assert [to for _, to in line.rung()[2:]] == [ALICE]
    line.agent_answers(ids[1])
    line.ends(ids[1])
    assert line.tick(AGENTS_BUSY_WAIT) == {"placed": 1, "deferred": 1}
    assert [to for _, to in line.rung()[3:]] == [BOB]
    line.agent_answers(line.rung()[2][0])
    line.ends(line.rung()[2][0])
    assert line.tick(AGENTS_BUSY_WAIT) == {"placed": 1}
    assert [to for _, to in line.rung()[4:]] == [ALICE]
    for callback_id, _ in line.rung()[3:]:
        line.agent_answers(callback_id)
        line.ends(callback_id)

    # Every callback was placed exactly once, and kept its promise time.
    assert Counter(callback for callback, _ in line.rung()) == dict.fromkeys(ids, 1)
    assert len(line.twilio.calls) == 5
    assert {r.status for r in map(line.get, ids)} == {S.DONE}
    assert {r.id: r.promised_at for r in map(line.get, ids)} == promised
    assert line.busy() == {}


def test_an_agent_away_in_the_console_gets_no_callback_and_its_preferred_agent_is_skipped(
    line: Line,
) -> None:
    line.states.set_presence("alice", Presence.AWAY, OPEN)
    line.states.set_presence("bob", Presence.AVAILABLE, OPEN)
    first = line.book("+447700900201", agent_id="alice")  # alice answered this caller before
    assert line.tick() == {"placed": 1}
    assert line.rung() == [(first, BOB)]
    line.states.set_presence("bob", Presence.OFFLINE, OPEN)
    second = line.book("+447700900202")
    assert line.tick() == {"deferred": 1}  # both on shift, neither here: wait, briefly
    assert line.get(second).transitions[-1].detail["reason"] == "agents_busy"
    line.states.set_presence("alice", Presence.AVAILABLE, OPEN)
    assert line.tick(AGENTS_BUSY_WAIT) == {"placed": 1}
    assert line.rung()[-1] == (second, ALICE)


def test_an_attempt_that_fails_frees_its_agent_for_the_next_callback(line: Line) -> None:
    first = line.book("+447700900301", due_at=OPEN - timedelta(seconds=1))
    second = line.book("+447700900302")
    third = line.book("+447700900303")
    assert line.tick() == {"placed": 2, "deferred": 1}
    line.webhook("status", line.get(first), CallStatus="no-answer")  # alice did not answer
    assert line.get(first).status == S.RETRY
    assert "alice" not in line.busy()
    assert line.tick(AGENTS_BUSY_WAIT) == {"placed": 1}
    assert line.rung() == [(first, ALICE), (second, BOB), (third, ALICE)]


def test_customer_first_reserves_the_agent_it_rings_and_a_busy_one_is_not_rung(
    line: Line,
) -> None:
    """faults is customer first; bob is its only agent at 10:00."""
    first = line.book("+447700900401", queue="faults", mode="customer_first")
    second = line.book("+447700900402", queue="faults", mode="customer_first")
    assert line.tick() == {"placed": 2}  # customers are rung: no agent is held yet
    assert line.busy() == {}
    answered = line.webhook("answer", line.get(first), To="+447700900401", AnsweredBy="human")
    target = ElementTree.fromstring(answered)[1][0]
    assert (target.text or "").strip() == BOB
    assert line.busy() == {"bob": (first, BusyKind.RINGING)}

    # The second customer answers while bob is rung for the first: no agent to give them.
    refused = line.webhook("answer", line.get(second), To="+447700900402", AnsweredBy="human")
    assert [e.tag for e in ElementTree.fromstring(refused)] == ["Say", "Hangup"]
    failed = line.get(second)
    assert failed.status == S.RETRY
    assert failed.transitions[-2].detail["why"] == "no_agent_free"

    # bob answers the first: on the call until its outcome frees him.
    whisper = (target.get("url") or "").removeprefix(line.server.public_url)
    record = line.get(first)
    response = post(line.server, whisper, {"CallSid": "CA" + "9" * 32, "To": BOB})
    assert verbs(response) == ["Say"]
    assert line.busy() == {"bob": (first, BusyKind.ON_CALL)}
    line.webhook("status", record, CallStatus="completed")
    assert line.get(first).status == S.DONE and line.busy() == {}
