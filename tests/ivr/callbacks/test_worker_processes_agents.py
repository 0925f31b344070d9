"""Real ``ivr worker`` processes killed with SIGKILL while agent-first callbacks ring agents.

Two agents, ann and ben, answer every callback; several callbacks share each agent's address,
so a worker recovering a lost request finds other calls to the same agent at Twilio: an
earlier callback's, a transfer's ``<Dial>`` leg. Two doomed workers each hold one request (to
ann, to ben) at the gate when they are killed; a rescuer takes both up. Each callback must end
with exactly one call at the emulator, adopted by the right callback; a third callback waits
while both agents are held, and is not rung at all.
"""

from __future__ import annotations

import shutil
import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from twilio_emulator.rest import TwilioRestEmulator

from bot.flow import load_flow
from ivr.callbacks.placed import PlacedCallbacks
from ivr.callbacks.policy import RULES
from ivr.callbacks.worker import CallbackWorker, WorkerSettings
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster
from ivr.people.staffing import Staffing
from ivr.store import AgentStates, CallbackStatus, CallbackStore
from ivr.telephony import CallStatus, LegStatusChanged, SecondLegAnswered
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from tests.fixtures.waiting import wait_for
from tests.fixtures.workers import ALWAYS_OPEN_FLOWS, PUBLIC, a_transfer_rings
from tests.ivr.callbacks.test_worker_processes import (
    Gate,
    Workers,
    callback_of,
    gate,
    get,
    twilio,
    workers,
)
from tests.ivr.store.conftest import Database

__all__ = ["gate", "twilio", "workers"]  # fixtures

ANN, BEN = "+441632960011", "+441632960012"
A_LEASE = 10  # seconds: see the test
PEOPLE = f"""\
version: 1
queues:
  general:
    label: {{en: "your call"}}
  billing:
    label: {{en: "your bill"}}
agents:
  ann:
    phone: "{ANN}"
    queues: [billing]
  ben:
    phone: "{BEN}"
    queues: [billing]
"""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """The always-open test line with two agents who are always on shift."""
    folder = tmp_path / "flows"
    shutil.copytree(ALWAYS_OPEN_FLOWS, folder)
    (folder / "people.yaml").write_text(PEOPLE)
    return folder


def an_earlier_callback_to_ann(
    callbacks: CallbackStore, states: AgentStates, twilio: TwilioRestEmulator, flows: Path
) -> str:
    """A callback placed to ann a moment ago and done; its call is at Twilio, under its sid."""
    flow = load_flow(flows)
    staffing = Staffing(flow, AgentDirectory({}), Roster(lambda: states, tolerant=False))
    now = datetime.now(UTC)
    earlier = callbacks.schedule(queue="billing", number="+447700900600", due_at=now, now=now).id
    ringer = TwilioRinger(TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url), PUBLIC)
    worker = CallbackWorker(
        callbacks, ringer, flow, staffing, WorkerSettings("setup", caller_id="+15005550006")
    )
    assert worker.tick() == ["placed"]
    placed = PlacedCallbacks(
        lambda: callbacks, lambda: flow, lambda: staffing, lambda: datetime.now(UTC)
    )
    placed.second_leg_answered(SecondLegAnswered(earlier, "customer"))
    sid = get(callbacks, earlier).dial_sid
    placed.first_leg_status(LegStatusChanged(earlier, CallStatus.COMPLETED, sid))
    assert get(callbacks, earlier).status == CallbackStatus.DONE
    assert states.busy(datetime.now(UTC)) == {}
    return earlier


def calls_by_callback(twilio: TwilioRestEmulator) -> Counter[str]:
    """How many calls the emulator created for each callback (the test's child leg is none)."""
    created = [
        r for r in twilio.requests_to("Calls.json", "POST") if r.fault != "fail" and r.get("Url")
    ]
    assert len(created) == len([c for c in twilio.calls if c.parent_call_sid is None])
    return Counter(callback_of(r.get("Url")) for r in created)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["before_request", "before_answer"])
def test_kill_9_with_agent_first_callbacks_in_flight_each_adopts_its_own_call(
    kill_at: str,
    database: Database,
    twilio: TwilioRestEmulator,
    gate: Gate,
    workers: Callable[[str], Workers],
    flows: Path,
) -> None:
    store = database.open()
    callbacks, states = CallbackStore(store, RULES), AgentStates(store)
    earlier = an_earlier_callback_to_ann(callbacks, states, twilio, flows)
    a_transfer_rings(twilio, ANN)

    now = datetime.now(UTC)
    a, b = (
        callbacks.schedule(
            queue="billing", number=number, agent_id="ann", due_at=now - age, now=now
        ).id
        for number, age in (("+447700900601", timedelta(seconds=2)), ("+447700900602", timedelta()))
    )
    group = workers(gate.url)
    group.env["IVR_FLOWS"] = str(flows)
    gate.mode = {"before_request": "request", "before_answer": "answer"}[kill_at]
    # a's lease outlasts doomed-b's start (seconds on a busy machine): with the group's 2 s
    # lease, doomed-b could find a's lease run out, recover a and hang at the gate instead.
    doomed = [group.start("doomed-a", "--batch", "1", IVR_CALLBACK_LEASE_SECONDS=str(A_LEASE))]
    wait_for("a's request", lambda: get(callbacks, a).dial_to == ANN and gate.seen.is_set())
    doomed.append(group.start("doomed-b", "--batch", "1"))  # b prefers ann, who is held
    wait_for("b's request", lambda: get(callbacks, b).dial_to == BEN)
    if kill_at == "before_answer":
        wait_for("both calls at Twilio", lambda: sum(calls_by_callback(twilio).values()) == 3)
    else:
        assert sum(calls_by_callback(twilio).values()) == 1  # only the earlier callback's
    for process in doomed:
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    gate.mode = "pass"
    held = states.busy(datetime.now(UTC))
    assert {agent: h.callback_id for agent, h in held.items()} == {"ann": a, "ben": b}

    # A third callback for ann, due now: both agents are held by lost requests, so it waits.
    waits = callbacks.schedule(
        queue="billing", number="+447700900603", agent_id="ann", due_at=now, now=now
    ).id
    rescuer = group.start("rescuer")
    wait_for(
        "both rescued",
        lambda: all(
            get(callbacks, i).dial_sid and not get(callbacks, i).lease_owner for i in (a, b)
        ),
    )
    # As in test_worker_processes: once a sentinel (customer first: it needs no agent) due
    # after every lease taken so far has its call, a double dial would be at the emulator.
    rescued = datetime.now(UTC)
    lease = timedelta(seconds=float(group.env["IVR_CALLBACK_LEASE_SECONDS"]) + 0.5)
    sentinel = callbacks.schedule(
        queue="billing",
        number="+447700900604",
        mode="customer_first",
        due_at=rescued + lease,
        now=rescued,
    ).id
    wait_for("the sentinel's call", lambda: get(callbacks, sentinel).dial_sid, timeout=60)
    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(timeout=10) == 0

    assert calls_by_callback(twilio) == {earlier: 1, a: 1, b: 1, sentinel: 1}
    for callback_id, address in ((a, ANN), (b, BEN)):
        record = get(callbacks, callback_id)
        [own] = [c for c in twilio.calls if c.url and callback_of(c.url) == callback_id]
        assert (record.dial_sid, record.dial_to, record.attempts) == (own.sid, address, 1)
        expected = {
            "before_request": ["recovered", "dial_requested", "dial_placed"],  # Twilio had none
            "before_answer": ["recovered", "adopted"],  # its own call, not another to ann
        }[kill_at]
        events = [t.event for t in record.transitions]
        assert events == ["scheduled", "dial_requested", *expected]
    waited = get(callbacks, waits)
    assert (waited.status, waited.attempts, waited.promised_at) == (
        CallbackStatus.SCHEDULED,
        0,
        now,
    )
    assert {t.detail.get("reason") for t in waited.transitions if t.event == "deferred"} == {
        "agents_busy"
    }
