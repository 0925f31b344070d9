"""The worker loop against the real REST emulator, the official client and both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.rest import RestRequest, TwilioRestEmulator

from bot.flow import Flow, load_flow
from bot.flow.model import (
    Agent,
    BusinessHours,
    CallbackMode,
    OpeningInterval,
    Queue,
    QueueCallbacks,
)
from ivr.callbacks.worker import CallbackWorker, WorkerSettings
from ivr.people.directory import AgentDirectory
from ivr.people.staffing import Staffing
from ivr.store import CallbackStatus, CallbackStore
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger

ROOT = Path(__file__).resolve().parents[3]
S = CallbackStatus
PUBLIC = "https://ivr.example.test"
ALICE, BOB, CAROL = "+441632960001", "+441632960002", "+441632960003"
CUSTOMER = "+447700900123"
# Monday 23 November 2026, 15:00 in London (UTC in winter).
MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
LONDON_DAY = BusinessHours(
    timezone="Europe/London",
    weekly={day: (OpeningInterval(time(8), time(20)),) for day in range(7)},
)


def shift(start: int, end: int) -> BusinessHours:
    return BusinessHours(
        timezone="Europe/London",
        weekly={day: (OpeningInterval(time(start), time(end)),) for day in range(7)},
    )


def people_flow(quiet: tuple[OpeningInterval, ...] = (), always: bool = False) -> Flow:
    """Billing open 08-20 London with Alice 08-14, Carol and Bob 08-20; ``always``: 24/7."""
    flow = load_flow(str(ROOT / "tests" / "nlu_flows" / "small"))
    billing = Queue(
        name="billing",
        label={"en": "your bill"},
        hours=BusinessHours() if always else LONDON_DAY,
        callbacks=QueueCallbacks(
            caller_id="+442079460000", quiet_hours=quiet, retry_after_minutes=(5,)
        ),
    )
    agents = {
        "alice": Agent("alice", "Alice", ALICE, ("billing",), shift(8, 14)),
        "carol": Agent("carol", "Carol", CAROL, ("billing",), shift(8, 20)),
        "bob": Agent("bob", "Bob", BOB, ("billing",), shift(8, 20)),
    }
    if always:
        agents = {name: dataclasses.replace(a, shift=BusinessHours()) for name, a in agents.items()}
    return dataclasses.replace(flow, queues={"billing": billing}, agents=agents)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_worker(
    callbacks: CallbackStore,
    twilio: TwilioRestEmulator,
    clock: Clock,
    flow: Flow | None = None,
    worker_id: str = "w1",
) -> CallbackWorker:
    flow = flow or people_flow()
    return CallbackWorker(
        callbacks,
        TwilioRinger(
            TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url, timeout=5), PUBLIC + "/"
        ),
        flow,
        Staffing(flow, AgentDirectory({})),
        WorkerSettings(worker_id=worker_id, caller_id="+15005550006"),
        clock=clock,
    )


def book(callbacks: CallbackStore, number: str = CUSTOMER, **fields: Any) -> str:
    # fields: any of CallbackStore.schedule's keyword arguments, passed on as given
    fields.setdefault("due_at", MONDAY)
    return callbacks.schedule(
        queue="billing", number=number, now=MONDAY - timedelta(hours=1), **fields
    ).id


def created(twilio: TwilioRestEmulator) -> list[RestRequest]:
    return twilio.requests_to("Calls.json", "POST")


def query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlparse(url).query)


def test_agent_first_rings_the_preferred_agent_with_our_urls(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    first = book(callbacks, agent_id="bob")  # Carol comes first in the queue
    worker = make_worker(callbacks, twilio, Clock(MONDAY))
    assert worker.tick(MONDAY) == ["placed"]
    [request] = created(twilio)
    assert request.get("To") == BOB
    assert request.get("From") == "+442079460000"  # the queue's caller id
    assert request.get("Url") == f"{PUBLIC}/twilio/callback/answer?callback={first}"
    assert request.get("StatusCallback") == f"{PUBLIC}/twilio/callback/status?callback={first}"
    assert request.get("MachineDetection") is None
    record = callbacks.get(first)
    assert record is not None
    assert (record.status, record.attempts, record.dial_to) == (S.DIALING, 1, BOB)
    assert record.dial_sid == twilio.calls[0].sid
    assert [t.event for t in record.transitions] == ["scheduled", "dial_requested", "dial_placed"]
    assert worker.tick(MONDAY) == []  # nothing more to do


def test_agent_first_falls_back_to_the_queue_when_the_agent_is_off_shift(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    book(callbacks, agent_id="alice")
    worker = make_worker(callbacks, twilio, Clock(MONDAY))  # 15:00: Alice left at 14:00
    worker.tick(MONDAY)
    assert [r.get("To") for r in created(twilio)] == [CAROL]


def test_customer_first_rings_the_customer_with_machine_detection(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    first = book(callbacks, mode=CallbackMode.CUSTOMER_FIRST, from_number="+442070000000")
    flow = people_flow()
    queue = dataclasses.replace(flow.queues["billing"], callbacks=QueueCallbacks())
    flow = dataclasses.replace(flow, queues={"billing": queue})
    make_worker(callbacks, twilio, Clock(MONDAY), flow).tick(MONDAY)
    [request] = created(twilio)
    assert request.get("To") == CUSTOMER
    assert request.get("From") == "+442070000000"  # the number the caller rang
    assert request.get("MachineDetection") == "DetectMessageEnd"
    assert query(request.get("Url")) == {"callback": [first]}


def test_quiet_hours_defer_without_a_request(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    quiet = (OpeningInterval(time(14, 30), time(16, 0)),)
    first = book(callbacks)
    clock = Clock(MONDAY)
    worker = make_worker(callbacks, twilio, clock, people_flow(quiet))
    worker.tick(MONDAY)
    assert created(twilio) == []
    record = callbacks.get(first)
    assert record is not None
    assert (record.status, record.due_at, record.promised_at) == (
        S.SCHEDULED,
        MONDAY + timedelta(hours=1),
        MONDAY,
    )
    assert record.transitions[-1].event == "deferred"
    clock.now = MONDAY + timedelta(hours=1)
    worker.tick(clock.now)
    assert len(created(twilio)) == 1


def test_nobody_on_shift_defers_to_the_next_shift(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    first = book(callbacks, due_at=MONDAY + timedelta(hours=6))  # 21:00: the queue is closed
    clock = Clock(MONDAY + timedelta(hours=6))
    make_worker(callbacks, twilio, clock).tick(clock.now)
    record = callbacks.get(first)
    assert record is not None and record.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert created(twilio) == []


def test_a_refused_request_is_a_failed_attempt_and_retries(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    first = book(callbacks, mode=CallbackMode.CUSTOMER_FIRST, number="not-a-number")
    make_worker(callbacks, twilio, Clock(MONDAY)).tick(MONDAY)
    record = callbacks.get(first)
    assert record is not None
    assert (record.status, record.attempts) == (S.RETRY, 1)
    assert record.due_at == MONDAY + timedelta(minutes=5)
    outcome = record.transitions[-2]
    assert (outcome.status, outcome.detail["http_status"]) == (S.FAILED, 400)
    assert twilio.calls == []


def test_a_dropped_response_adopts_the_call_twilio_made(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    # Twilio dates its calls by the real clock, which find_calls searches: real time here.
    now = datetime.now(UTC)
    first = book(callbacks, due_at=now)
    twilio.drop_next(method="POST")
    worker = make_worker(callbacks, twilio, Clock(now), people_flow(always=True))
    assert worker.tick(now) == ["adopted"]
    [call] = twilio.calls
    record = callbacks.get(first)
    assert record is not None and (record.status, record.dial_sid) == (S.DIALING, call.sid)
    assert record.transitions[-1].event == "adopted"
    assert len(created(twilio)) == 1  # asked once; the list request found it


def test_a_server_error_with_no_call_is_a_failed_attempt(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    now = datetime.now(UTC)
    first = book(callbacks, due_at=now)
    twilio.fail_next(method="POST")  # 500, nothing created
    worker = make_worker(callbacks, twilio, Clock(now), people_flow(always=True))
    assert worker.tick(now) == ["failed"]
    record = callbacks.get(first)
    assert record is not None and record.status == S.RETRY
    assert twilio.calls == []
    assert len(twilio.requests_to("Calls.json", "GET")) == 1  # it asked before giving up


def test_twilio_down_leaves_the_attempt_for_recovery(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    now = datetime.now(UTC)
    first = book(callbacks, due_at=now)
    twilio.fail_next(2)  # the create and the list both answer 500
    flow = people_flow(always=True)
    assert make_worker(callbacks, twilio, Clock(now), flow).tick(now) == ["unknown"]
    record = callbacks.get(first)
    assert record is not None and record.status == S.DIALING and record.dial_sid is None
    # After the lease, another worker asks again, finds nothing, and dials the same attempt.
    later = now + timedelta(minutes=3)
    other = make_worker(callbacks, twilio, Clock(later), flow, worker_id="w2")
    assert other.tick(later) == ["placed"]
    record = callbacks.get(first)
    assert record is not None and record.attempts == 1 and record.dial_sid == twilio.calls[0].sid


def test_a_recovered_placed_call_without_outcome_counts_as_failed(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    first = book(callbacks)
    make_worker(callbacks, twilio, Clock(MONDAY)).tick(MONDAY)
    later = MONDAY + timedelta(hours=1, minutes=1)
    assert make_worker(callbacks, twilio, Clock(later)).tick(later) == ["lost"]
    record = callbacks.get(first)
    assert record is not None and record.status == S.RETRY
    assert record.transitions[-2].detail == {"attempt": 1, "reason": "no_final_status"}


def test_outcomes_and_retries_until_gave_up(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    twilio.set_callee(CAROL, AgentBehaviour("busy"))
    first = book(callbacks, max_attempts=2, retry_after_minutes=[5])
    clock = Clock(MONDAY)
    worker = make_worker(callbacks, twilio, clock)
    worker.tick(MONDAY)
    sid = twilio.calls[0].sid
    assert twilio.call(sid).status == "busy"
    callbacks.record_outcome(first, S.BUSY, MONDAY, sid=sid)  # what the status webhook does
    clock.now = MONDAY + timedelta(minutes=5)
    worker.tick(clock.now)
    second = twilio.calls[1].sid
    record = callbacks.record_outcome(first, S.BUSY, clock.now, sid=second)
    assert record is not None and (record.status, record.attempts) == (S.GAVE_UP, 2)
    assert len(created(twilio)) == 2


def test_stop_gives_back_the_rest_of_the_batch(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    ids = [book(callbacks, number=f"+4477009001{i:02d}") for i in range(3)]
    worker = make_worker(callbacks, twilio, Clock(MONDAY))
    original = worker.dispatch

    def dispatch_then_stop(claim: object) -> str:
        worker.stop()
        return original(claim)  # type: ignore[arg-type]

    worker.dispatch = dispatch_then_stop  # type: ignore[method-assign]
    assert worker.tick(MONDAY) == ["placed", "released", "released"]
    assert len(created(twilio)) == 1
    left = [callbacks.get(i) for i in ids]
    assert sorted(r.status for r in left if r) == [S.DIALING, S.SCHEDULED, S.SCHEDULED]
    assert all(r.lease_owner is None for r in left if r and r.status == S.SCHEDULED)
    # Given back, not leased: another worker takes them at once.
    assert len(make_worker(callbacks, twilio, Clock(MONDAY), worker_id="w2").tick(MONDAY)) == 2
