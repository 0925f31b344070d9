"""Real ``ivr worker`` processes against the REST emulator: kill -9 mid-dispatch, 4 at once.

The emulator counts the calls: whatever happens to a worker, every callback must end up with
exactly one call created at the emulator, and the sid stored against it. A gate between the
worker and the emulator holds the request or its answer so the kill lands exactly there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy.engine import make_url
from twilio_emulator.rest import TwilioRestEmulator

from ivr.callbacks.policy import RULES
from ivr.store import CallbackRecord, CallbackStatus, CallbackStore
from tests.fixtures.waiting import wait_for
from tests.fixtures.workers import start_worker, worker_env
from tests.ivr.store.conftest import Database

ROOT = Path(__file__).resolve().parents[3]


class Gate:
    """A TCP forwarder to the emulator that can hold a new connection's request or its answer.

    ``mode`` is read when a connection is accepted: ``pass`` forwards both ways, ``request``
    forwards nothing (the request never reaches Twilio), ``answer`` forwards the request and
    swallows the answer (Twilio acted, the worker never hears), ``hold`` keeps the request
    until :meth:`release` and then passes both ways.
    """

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.mode = "pass"
        self.seen = threading.Event()  # a held connection carried bytes from the client
        self.released = threading.Event()  # ``hold`` connections may forward from now on
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            mode = self.mode
            self._spawn(self._pump, client, upstream if mode != "request" else None, mode)
            self._spawn(self._pump, upstream, client if mode in ("pass", "hold") else None, mode)

    def _pump(self, source: socket.socket, sink: socket.socket | None, mode: str) -> None:
        source.settimeout(0.05)
        while not self._stop.is_set():
            try:
                chunk = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                if sink is not None:
                    sink.close()
                return
            if mode != "pass":
                self.seen.set()
            while mode == "hold" and not (self.released.is_set() or self._stop.is_set()):
                self.released.wait(0.05)
            if sink is not None:
                sink.sendall(chunk)

    def release(self) -> None:
        """Let held requests (and their answers) through."""
        self.released.set()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def twilio() -> Iterator[TwilioRestEmulator]:
    with TwilioRestEmulator() as emulator:
        yield emulator


@pytest.fixture
def gate(twilio: TwilioRestEmulator) -> Iterator[Gate]:
    gate = Gate(int(twilio.url.rsplit(":", 1)[1]))
    try:
        yield gate
    finally:
        gate.close()


def process_url(database: Database) -> str:
    """The database URL a worker process is given (PostgreSQL: the test's schema)."""
    if database.schema is None:
        return database.url
    url = make_url(database.url).update_query_dict({"options": f"-csearch_path={database.schema}"})
    return url.render_as_string(hide_password=False)


class Workers:
    """``ivr worker`` processes on one database and one REST endpoint; all stopped at the end."""

    def __init__(
        self, database: Database, api_url: str, twilio: TwilioRestEmulator, logs: Path
    ) -> None:
        self.logs = logs
        self.env = worker_env(
            process_url(database),
            twilio,
            api_url,
            IVR_CALLBACK_LEASE_SECONDS="2",
            IVR_WORKER_POLL_SECONDS="0.1",
            IVR_LOG_FORMAT="json",
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """``ivr worker --id name [args]``, with ``env`` over the group's environment."""
        process = start_worker(name, {**self.env, **env}, self.logs, *args)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(
    database: Database, twilio: TwilioRestEmulator, tmp_path: Path
) -> Iterator[Callable[[str], Workers]]:
    made: list[Workers] = []

    def make(api_url: str) -> Workers:
        made.append(Workers(database, api_url, twilio, tmp_path))
        return made[-1]

    try:
        yield make
    finally:
        for group in made:
            group.stop_all()


def calls_by_callback(twilio: TwilioRestEmulator) -> Counter[str]:
    """How many calls the emulator created for each callback (from the call's answer URL)."""
    created = [
        r for r in twilio.requests_to("Calls.json", "POST") if r.fault != "fail" and r.get("Url")
    ]
    assert len(created) == len(twilio.calls)
    return Counter(callback_of(r.get("Url")) for r in created)


def get(callbacks: CallbackStore, callback_id: str) -> CallbackRecord:
    record = callbacks.get(callback_id)
    assert record is not None
    return record


def callback_of(url: str | None) -> str:
    """The callback a placed call is for (its answer URL names it)."""
    return parse_qs(urlparse(url or "").query)["callback"][0]


def dialled_by(record: CallbackRecord) -> list[str]:
    """The workers that requested a call for ``record``, in order."""
    return [t.detail["worker"] for t in record.transitions if t.event == "dial_requested"]


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["before_request", "before_answer", "after_placed"])
def test_kill_9_mid_dispatch_loses_nothing_and_dials_once(
    kill_at: str,
    database: Database,
    twilio: TwilioRestEmulator,
    gate: Gate,
    workers: Callable[[str], Workers],
) -> None:
    callbacks = CallbackStore(database.open(), RULES)
    booked = callbacks.schedule(
        queue="billing", number="+447700900123", due_at=datetime.now(UTC), now=datetime.now(UTC)
    ).id
    gate.mode = {"before_request": "request", "before_answer": "answer"}.get(kill_at, "pass")
    group = workers(gate.url)
    first = group.start("doomed")
    if kill_at == "before_request":
        wait_for("the held request", gate.seen.is_set)
        assert twilio.requests == []  # Twilio never heard of it
    elif kill_at == "before_answer":
        wait_for("the call at Twilio", lambda: len(twilio.calls) == 1)
        assert gate.seen.is_set()
    else:
        wait_for("the stored sid", lambda: get(callbacks, booked).dial_sid is not None)
    before = get(callbacks, booked)
    assert before.status == CallbackStatus.DIALING
    assert (before.dial_sid is None) == (kill_at != "after_placed")
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    gate.mode = "pass"

    second = group.start("rescuer")
    wait_for(
        "the rescue",
        lambda: (
            get(callbacks, booked).dial_sid is not None
            and (kill_at == "after_placed" or get(callbacks, booked).lease_owner is None)
        ),
    )
    # A second dial needs a lease taken so far to expire first. A sentinel callback due only
    # after every such lease has expired is placed by a pass of the rescuer that would have
    # claimed the booked callback too, and dispatched it first (the most overdue goes first):
    # once the sentinel's call exists, a double dial would be at the emulator.
    rescued = datetime.now(UTC)
    lease = timedelta(seconds=float(group.env["IVR_CALLBACK_LEASE_SECONDS"]) + 0.5)
    sentinel = callbacks.schedule(
        queue="billing", number="+447700900124", due_at=rescued + lease, now=rescued
    ).id
    wait_for(
        "the sentinel's call", lambda: get(callbacks, sentinel).dial_sid is not None, timeout=60
    )
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0

    record = get(callbacks, booked)
    assert calls_by_callback(twilio) == {booked: 1, sentinel: 1}
    [call] = [c for c in twilio.calls if callback_of(c.url) == booked]
    assert (record.status, record.dial_sid, record.attempts) == (
        CallbackStatus.DIALING,
        call.sid,
        1,
    )
    events = [t.event for t in record.transitions]
    expected = {
        "before_request": ["recovered", "dial_requested", "dial_placed"],  # Twilio had nothing
        "before_answer": ["recovered", "adopted"],  # Twilio had the call: no second request
        "after_placed": ["dial_placed"],  # by the first worker; nothing left to do
    }[kill_at]
    assert events == ["scheduled", "dial_requested", *expected]


@pytest.mark.slow
def test_sigterm_finishes_and_exits_cleanly(
    database: Database,
    twilio: TwilioRestEmulator,
    gate: Gate,
    workers: Callable[[str], Workers],
) -> None:
    """SIGTERM mid-batch: the dispatch in hand is placed, the rest handed back and placed later.

    The gate holds the worker's first request, so SIGTERM lands while it has one callback in
    hand and 19 more claimed, every time.
    """
    callbacks = CallbackStore(database.open(), RULES)
    now = datetime.now(UTC)
    ids = [
        callbacks.schedule(queue="billing", number=f"+4477009002{i:02d}", due_at=now, now=now).id
        for i in range(20)
    ]
    gate.mode = "hold"
    group = workers(gate.url)
    process = group.start("polite", "--batch", "20")
    wait_for("the first request, held at the gate", gate.seen.is_set)
    claimed = {i: get(callbacks, i) for i in ids}
    assert {r.lease_owner for r in claimed.values()} == {"polite"}  # one claim took all 20
    [in_hand] = [i for i, r in claimed.items() if r.status == CallbackStatus.DIALING]
    process.send_signal(signal.SIGTERM)
    gate.mode = "pass"
    gate.release()
    assert process.wait(timeout=15) == 0

    # The dispatch in hand finished: its call placed, its sid stored. Nothing else was dialled.
    assert calls_by_callback(twilio) == {in_hand: 1}
    done = get(callbacks, in_hand)
    assert done.status == CallbackStatus.DIALING and done.dial_sid == twilio.calls[0].sid
    # The other 19 were given back at once: a write after the claim cleared the lease (one
    # that merely expired would still name "polite"), and none was requested.
    rest = [i for i in ids if i != in_hand]
    for callback_id in rest:
        record = get(callbacks, callback_id)
        assert (record.status, record.lease_owner, record.lease_until) == (
            CallbackStatus.SCHEDULED,
            None,
            None,
        )
        assert record.version == claimed[callback_id].version + 1
        assert (record.attempts, [t.event for t in record.transitions]) == (0, ["scheduled"])

    # Another worker dials each of them later, once.
    heir = group.start("heir")
    wait_for(
        "the 19 given back, placed by another worker",
        lambda: all(get(callbacks, i).dial_sid for i in rest),
    )
    heir.send_signal(signal.SIGTERM)
    assert heir.wait(timeout=15) == 0
    assert calls_by_callback(twilio) == dict.fromkeys(ids, 1)
    assert dialled_by(get(callbacks, in_hand)) == ["polite"]
    assert all(dialled_by(get(callbacks, i)) == ["heir"] for i in rest)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_four_workers_dial_a_thousand_callbacks_exactly_once(
    database: Database,
    twilio: TwilioRestEmulator,
    workers: Callable[[str], Workers],
) -> None:
    callbacks = CallbackStore(database.open(), RULES)
    now = datetime.now(UTC)
    ids = {
        callbacks.schedule(
            queue="billing",
            number=f"+44770090{i:04d}",
            due_at=now - timedelta(seconds=i % 60),
            now=now,
        ).id
        for i in range(1000)
    }
    group = workers(twilio.url)
    group.env["IVR_CALLBACK_LEASE_SECONDS"] = "120"
    processes = [group.start(f"w{n}", "--batch", "10") for n in range(4)]
    wait_for("1,000 calls", lambda: len(twilio.calls) >= 1000, timeout=120)
    time.sleep(0.5)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=15) for p in processes] == [0, 0, 0, 0]
    counts = calls_by_callback(twilio)
    assert set(counts) == ids
    assert set(counts.values()) == {1}
    placed = callbacks.list(CallbackStatus.DIALING, limit=2000)
    assert len(placed) == 1000 and all(r.dial_sid for r in placed)
    by_worker = Counter(
        t.detail["worker"]
        for r in placed[:200]
        for t in get(callbacks, r.id).transitions
        if t.event == "dial_requested"
    )
    assert len(by_worker) == 4, by_worker  # all four took part


def test_worker_without_an_account_says_which_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TWILIO_ACCOUNT_SID"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'ivr.db'}"
    env["IVR_FLOWS"] = str(ROOT / "tests" / "nlu_flows" / "small")
    result = subprocess.run(
        [sys.executable, "-m", "ivr", "worker", "--once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "TWILIO_ACCOUNT_SID is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_once_places_what_is_due_and_exits(
    database: Database, twilio: TwilioRestEmulator, workers: Callable[[str], Workers]
) -> None:
    callbacks = CallbackStore(database.open(), RULES)
    now = datetime.now(UTC)
    ids = [
        callbacks.schedule(queue="billing", number=f"+4477009003{i:02d}", due_at=now, now=now).id
        for i in range(7)
    ]
    callbacks.schedule(
        queue="billing", number="+447700900399", due_at=now + timedelta(hours=1), now=now
    )
    process = workers(twilio.url).start("cron", "--once", "--batch", "3")
    assert process.wait(timeout=60) == 0
    assert calls_by_callback(twilio) == dict.fromkeys(ids, 1)


def test_in_development_a_worker_without_an_account_waits_instead_of_stopping_make_run(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_ACCOUNT_SID", "IVR_MODE")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'ivr.db'}"
    env["IVR_FLOWS"] = str(ROOT / "tests" / "nlu_flows" / "small")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ivr", "worker"], env=env, cwd=ROOT, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 30
            while "booked but not placed" not in log.read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text()
                time.sleep(0.1)
            time.sleep(0.5)
            assert worker.poll() is None, "honcho stops every process when one exits"
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(10) == 0
    assert "TWILIO_ACCOUNT_SID is not set" in log.read_text()
