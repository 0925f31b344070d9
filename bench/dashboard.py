"""The supervisor dashboard: how long its figures take over 100,000 stored calls.

    .venv/bin/python bench/dashboard.py [--calls 100000] [--histories 365,30] [--runs 15]
                                        [--backends sqlite,postgresql] [--write FILE.md]

For each history length, seeds ``--calls`` calls spread over that many days before now (the
seed of the metrics tests, ``tests/fixtures/seed_calls.py``, with their turns, callbacks and
agents; bulk-inserted) into a fresh SQLite file and a fresh PostgreSQL schema
(``$IVR_TEST_POSTGRES_URL``, dropped after), then times each measured function ``--runs`` times
after one warm-up run: median and p95. A year of history is a line with ~275 calls a day; 30
days puts all of them in the 30-day report (~3,600 calls a day).

What is timed comes from :data:`PAGES`: each entry takes the seeded :class:`Backend` and
returns named functions to time: the figures alone (``Metrics``), and the console's pages as a
logged-in supervisor's browser asks for them (the whole Flask request: session, queries,
template), through the app's WSGI interface in the same process, so no network is timed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import psycopg
from common import command_line, machine, percentile, progress, publish
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.flow import Flow
from ivr.config import ROOT, load_config
from ivr.console.passwords import hash_password
from ivr.metrics import Metrics, Period
from ivr.nlu.service import free_port
from ivr.parts import build_parts
from ivr.store import AccountStore, Store
from ivr.web import create_app

sys.path.insert(0, str(ROOT))  # the seed lives with the tests
from tests.fixtures.seed_calls import TIMEZONE, Seed, plan, seed_flow
from tests.fixtures.seed_store import bulk_insert

SECTION = "## Dashboard figures"
POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Backend:
    """A seeded database: its store, the flow and the moment the seed calls now."""

    name: str
    store: Store
    flow: Flow
    now: datetime


@dataclass(frozen=True)
class Timed:
    """One function to time, under the name the results table shows."""

    name: str
    run: Callable[[], object]


def metrics_figures(backend: Backend) -> list[Timed]:
    """``Metrics.report`` for today, 7 and 30 days (all queues, and one), and ``live``."""
    metrics, flow, now = Metrics(backend.store), backend.flow, backend.now
    periods = {
        "today": Period.today(now, TIMEZONE),
        "7 days": Period.last_7_days(now, TIMEZONE),
        "30 days": Period.last_30_days(now, TIMEZONE),
    }
    timed = [
        Timed(f"report(), {label}", partial(metrics.report, period, flow=flow, now=now))
        for label, period in periods.items()
    ]
    timed.append(
        Timed(
            "report(), 30 days, queue billing",
            partial(metrics.report, periods["30 days"], "billing", flow=flow, now=now),
        )
    )
    timed.append(Timed("live()", partial(metrics.live, now, flow)))
    return timed


#: The console's pages a supervisor opens, as the browser asks for them.
CONSOLE_PAGES = {
    "page /dashboard, today": "/console/dashboard?range=today",
    "page /dashboard, 7 days": "/console/dashboard?range=7d",
    "page /dashboard, 30 days": "/console/dashboard?range=30d",
    "page /dashboard, 30 days, queue billing": "/console/dashboard?range=30d&queue=billing",
    "page /dashboard.csv, 30 days, every figure": "/console/dashboard.csv?table=summary&range=30d",
    "page /wall": "/console/wall",
    "page / (live calls)": "/console/",
}


def console_pages(backend: Backend) -> list[Timed]:
    """Each of :data:`CONSOLE_PAGES` rendered by the real app over the seeded store."""
    folder = tempfile.mkdtemp(prefix="ivr-bench-console-")
    config = load_config(
        {
            "DATABASE_URL": f"sqlite:///{folder}/unused.db",  # replaced by the seeded store
            "SPOOL_DIR": f"{folder}/spool",
            "NLU_URL": f"http://127.0.0.1:{free_port()}",  # pages never ask the NLU
            "ASR_WARM_RECOGNIZERS": 0,
            "SECRET_KEY": "bench-console-secret",
            "PUBLIC_URL": "https://ivr.example.test",
            "TWILIO_AUTH_TOKEN": "bench-auth-token",
        }
    )
    parts = build_parts(config)
    parts.store, parts.clock = backend.store, lambda: backend.now
    AccountStore(backend.store).add(
        "bench", "supervisor", hash_password("bench password 1"), backend.now
    )
    client = create_app(config, parts).test_client()
    form = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token is not None, "no CSRF token on the log-in page"
    answer = client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "name": "bench", "password": "bench password 1"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()

    return [Timed(name, partial(get, path)) for name, path in CONSOLE_PAGES.items()]


#: What the bench times, page by page.
PAGES: list[Callable[[Backend], list[Timed]]] = [metrics_figures, console_pages]


def measure(timed: Timed, runs: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``runs`` runs after a warm-up."""
    timed.run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        timed.run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 95)


@contextmanager
def sqlite_store(seed: Seed) -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'ivr.db'}")
        try:
            bulk_insert(seed, store)
            yield store
        finally:
            store.close()


@contextmanager
def postgres_store(seed: Seed) -> Iterator[Store]:
    schema = f"ivr_bench_{uuid.uuid4().hex[:12]}"
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    store = Store(POSTGRES_URL, schema=schema)
    try:
        bulk_insert(seed, store)
        with store.database.write("analyze") as session:
            session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
        yield store
    finally:
        store.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


STORES = {"sqlite": sqlite_store, "postgresql": postgres_store}


def run_backend(name: str, seed: Seed, flow: Flow, runs: int) -> list[tuple[str, float, float]]:
    """Seed ``name``'s database and time every page's functions on it."""
    started = time.perf_counter()
    with STORES[name](seed) as store:
        progress(f"{name}: seeded in {time.perf_counter() - started:.1f} s")
        backend = Backend(name, store, flow, seed.now)
        results = []
        for page in PAGES:
            for timed in page(backend):
                median, p95 = measure(timed, runs)
                progress(f"{name}: {timed.name}: median {median:.1f} ms, p95 {p95:.1f} ms")
                results.append((timed.name, median, p95))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--histories", default="365,30", help="days the calls are spread over")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()

    flow = seed_flow()
    rows, sizes = [], []
    for days in map(int, args.histories.split(",")):
        seed = plan(count=args.calls, days=days)
        turns = sum(len(call.turns) for call in seed.calls)
        sizes.append(
            f"- {days} days: {len(seed.calls):,} calls, {turns:,} turns, "
            f"{len(seed.callbacks):,} callbacks"
        )
        progress(sizes[-1])
        for name in args.backends.split(","):
            for what, median, p95 in run_backend(name, seed, flow, args.runs):
                rows.append(f"| {days} days | {what} | {name} | {median:.1f} | {p95:.1f} |")
    section = (
        f"{SECTION}\n\n{machine()}.\nCommand: `{command_line('bench-dashboard')}`\n\n"
        f"{args.calls:,} planned calls, with the seed's follow-ups and live calls, spread "
        "over each\n"
        "history before the seed's now and bulk-inserted by the metrics tests' seed:\n\n"
        + "\n".join(sizes)
        + f"\n\nEach function runs {args.runs} times after one warm-up, in one process on the\n"
        "same machine as the database. PostgreSQL is analysed after the load (as autovacuum\n"
        "would be); the SQLite file is not. Over 30 days of history the 30-day report holds\n"
        "every call: the cost follows the calls in the period, not the calls stored. A\n"
        "`page` row is the whole request of a logged-in supervisor (session, queries,\n"
        "template), through the app's WSGI interface in the same process.\n\n"
        "| history | measured | database | median ms | p95 ms |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
