"""The store's fixtures (a SQLite file and a PostgreSQL schema per test), for the roster."""

from __future__ import annotations

from tests.ivr.store.conftest import database, postgres_proxy, store

__all__ = ["database", "postgres_proxy", "store"]
