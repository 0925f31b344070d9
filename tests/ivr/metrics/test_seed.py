"""The seed covers every case, and its bulk rows give the same figures as its API writes."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from bot.flow import Flow
from ivr.metrics import Metrics, Period
from ivr.store import Store
from tests.fixtures.postgres import POSTGRES_URL, admin_execute
from tests.fixtures.seed_calls import NOW, QUEUES, SCENARIOS, TIMEZONE, Seed, plan
from tests.fixtures.seed_store import bulk_insert


def test_the_plan_is_the_same_every_time() -> None:
    assert plan() == plan()
    assert plan(seed=8) != plan()


def test_the_seed_covers_every_case(seed: Seed) -> None:
    assert len(seed.calls) >= 500
    scenarios = Counter(call.scenario for call in seed.calls)
    assert set(SCENARIOS) | {"repeat", "live"} == set(scenarios)
    assert min(scenarios[s] for s in SCENARIOS) >= 20
    assert {call.queue for call in seed.calls} == {*QUEUES, None}
    assert len({call.started_at.date() for call in seed.calls}) >= 10
    assert Counter(cb.fate for cb in seed.callbacks).keys() == {
        "kept", "late", "unreached", "gave_up", "cancelled", "waiting", "claimed",
    }  # fmt: skip
    assert any(call.caller is None for call in seed.calls)
    stages = {call.stage for call in seed.calls if call.ended_after is None}
    assert stages == {"bot", "booking", "ringing", "agent"}


@pytest.fixture
def bulk(seeded: Store, tmp_path: Path) -> Iterator[Store]:
    """A second database of the same kind, filled by :func:`bulk_insert`."""
    if not seeded.database.is_postgres:
        store = Store(f"sqlite:///{tmp_path}/bulk.db")
        bulk_insert(plan(), store)
        yield store
        store.close()
        return
    schema = f"ivr_test_{uuid.uuid4().hex[:16]}"
    store = Store(POSTGRES_URL, schema=schema)
    try:
        bulk_insert(plan(), store)
        yield store
    finally:
        store.close()
        admin_execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_bulk_rows_give_the_same_figures_as_the_apis(
    seeded: Store, bulk: Store, flow: Flow
) -> None:
    for period in (Period.last_7_days(NOW, TIMEZONE), Period.last_30_days(NOW, TIMEZONE)):
        for queue in (None, "billing"):
            expected = Metrics(seeded).report(period, queue, flow=flow, now=NOW)
            assert Metrics(bulk).report(period, queue, flow=flow, now=NOW) == expected
    assert Metrics(bulk).live(NOW, flow) == Metrics(seeded).live(NOW, flow)
