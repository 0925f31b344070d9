"""Callback dispatch: how late and how fast ``ivr worker`` processes place due callbacks.

    .venv/bin/python bench/callbacks.py [--workers 4] [--callbacks 1000] [--write FILE.md]

Real parts: PostgreSQL (``$IVR_TEST_POSTGRES_URL``, a fresh schema, dropped afterwards), N
``ivr worker`` processes with the production settings (poll 1 s, batch 5, lease 120 s) and the
Twilio REST emulator, which records when each ``POST /Calls.json`` arrives. Lag is that arrival
minus the callback's due time. Two loads:

* steady: the callbacks fall due evenly over ``--spread`` seconds while the workers run;
* backlog: as many fall due at the same moment (after an outage, or 9:00 on a Monday).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
from common import command_line, machine, percentile, progress, publish, table
from psycopg import sql
from sqlalchemy.engine import make_url
from twilio_emulator.rest import TwilioRestEmulator

from ivr.callbacks.policy import RULES
from ivr.config import ROOT
from ivr.store import CallbackStore, Store

sys.path.insert(0, str(ROOT))  # the worker-process fixture lives with the tests
from tests.fixtures.workers import start_worker, worker_env

SECTION = "## Callback dispatch"
POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
LEAD_SECONDS = 15.0  # the first callback falls due this long after scheduling starts


def start_workers(count: int, db_url: str, twilio: TwilioRestEmulator, logs: Path) -> list[Any]:
    """``count`` worker processes with the production poll, lease and batch."""
    env = worker_env(db_url, twilio, IVR_LOG_LEVEL="WARNING")
    return [start_worker(f"bench{n}", env, logs) for n in range(count)]


def run_load(
    callbacks: CallbackStore, twilio: TwilioRestEmulator, count: int, spread: float, tag: str
) -> dict[str, float]:
    """Schedule ``count`` callbacks due over ``spread`` s (0: all at once); wait; measure."""
    start = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
    due: dict[str, float] = {}
    for i in range(count):
        at = start + timedelta(seconds=spread * i / count)
        booked = callbacks.schedule(
            queue="billing", number=f"+4477009{i:05d}", due_at=at, now=datetime.now(UTC)
        )
        due[booked.id] = at.timestamp()
    late = datetime.now(UTC) - start
    if late > timedelta(0):
        progress(f"{tag}: scheduling took {late.total_seconds():.1f} s past the first due time")
    progress(f"{tag}: {count} callbacks due from {start:%H:%M:%S} over {spread:.0f} s")
    deadline = time.monotonic() + LEAD_SECONDS + spread + 120
    arrivals: dict[str, float] = {}
    while len(arrivals) < count and time.monotonic() < deadline:
        time.sleep(1)
        for request in twilio.requests_to("Calls.json", "POST"):
            callback = parse_qs(urlparse(request.get("Url") or "").query).get("callback", [""])[0]
            if callback in due and callback not in arrivals:
                arrivals[callback] = request.at
        progress(f"{tag}: {len(arrivals)}/{count} placed")
    if len(arrivals) < count:
        raise SystemExit(f"{tag}: only {len(arrivals)} of {count} callbacks were placed")
    lags = [(arrivals[i] - due[i]) * 1000 for i in due]
    first, last = min(arrivals.values()), max(arrivals.values())
    return {
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
        "max": max(lags),
        "rate": count / max(last - min(due.values()), 1e-9) if spread == 0 else count / spread,
        "drain": last - min(due.values()),
        "span": last - first,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--callbacks", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds the steady load spans")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()

    schema = f"ivr_bench_{uuid.uuid4().hex[:12]}"
    libpq = make_url(POSTGRES_URL).set(drivername="postgresql")
    admin = libpq.render_as_string(hide_password=False)
    worker_url = (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    store = Store(POSTGRES_URL, schema=schema)
    processes = []
    try:
        with (
            TwilioRestEmulator() as twilio,
            tempfile.TemporaryDirectory(prefix="ivr-bench-") as logs,
        ):
            processes = start_workers(args.workers, worker_url, twilio, Path(logs))
            progress(f"{args.workers} workers started on PostgreSQL schema {schema}")
            callbacks = CallbackStore(store, RULES)
            steady = run_load(callbacks, twilio, args.callbacks, args.spread, "steady")
            backlog = run_load(callbacks, twilio, args.callbacks, 0.0, "backlog")
            posts = twilio.requests_to("Calls.json", "POST")
            if len(posts) != 2 * args.callbacks:
                raise SystemExit(f"{len(posts)} call requests for {2 * args.callbacks} callbacks")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        store.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    summary = [
        (
            f"dispatch lag p50 / p95, steady ({args.callbacks} over {args.spread:.0f} s)",
            f"{steady['p50']:.0f} / {steady['p95']:.0f} ms (max {steady['max']:.0f} ms)",
        ),
        (
            f"dispatch lag p50 / p95, backlog ({args.callbacks} due at once)",
            f"{backlog['p50']:.0f} / {backlog['p95']:.0f} ms (max {backlog['max']:.0f} ms)",
        ),
        (
            f"throughput, {args.workers} workers",
            f"{backlog['rate']:.0f} callbacks/s ({args.callbacks} placed in "
            f"{backlog['drain']:.1f} s)",
        ),
        ("calls per callback", "exactly 1 (counted at the emulator)"),
    ]
    section = (
        f"{SECTION}\n\n{machine()}.\nCommand: `{command_line('bench-callbacks')}`\n\n"
        f"{table(summary)}\n\n"
        f"{args.workers} `ivr worker` processes with the production settings (poll every 1 s,\n"
        "batch 5, lease 120 s) on PostgreSQL, placing callbacks through the official twilio\n"
        "client into the REST emulator on the same machine. Lag runs from a callback's due time\n"
        "to its `POST /Calls.json` reaching the emulator, so it includes the poll interval\n"
        "(a due callback waits up to 1 s for the next look; `IVR_WORKER_POLL_SECONDS` trades\n"
        "that against idle queries), the claim, `dial_requested` committed before the request,\n"
        "and the request itself. Every dispatch is three short transactions and one HTTP\n"
        "request; the workers, PostgreSQL and the emulator share the two cores.\n"
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
