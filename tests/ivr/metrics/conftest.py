"""The seeded history (tests/fixtures/seed_calls.py), stored once per database kind.

Writing ~650 calls through the real APIs takes seconds, so each database (a SQLite file, a
PostgreSQL schema dropped afterwards) is seeded once per session and only read by the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from psycopg import sql

from bot.flow import Flow
from ivr.store import Store
from tests.fixtures.postgres import POSTGRES_URL, admin_execute, require_postgres
from tests.fixtures.seed_calls import Seed, plan, seed_flow
from tests.fixtures.seed_store import write
from tests.ivr.metrics.reference import Reference, read

SEED = plan()


@pytest.fixture(scope="session")
def flow() -> Flow:
    """The repository's flow with the seed's extra agents and per-queue targets."""
    return seed_flow()


@pytest.fixture(scope="session")
def seed() -> Seed:
    return SEED


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store holding :data:`SEED`, written through the APIs (read-only for the tests)."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('metrics')}/seed.db")
        try:
            write(SEED, store)
            yield store
        finally:
            store.close()
        return
    require_postgres()
    schema = f"ivr_test_{uuid.uuid4().hex[:16]}"
    store = Store(POSTGRES_URL, schema=schema)
    try:
        write(SEED, store)
        yield store
    finally:
        store.close()
        admin_execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="session")
def reference(seeded: Store, flow: Flow) -> Reference:
    """The figures computed the other way, over the same rows."""
    return Reference(read(seeded), flow, SEED.now)
