"""The store's fixtures (a SQLite file and a PostgreSQL schema per test), for callbacks too."""

from __future__ import annotations

from tests.ivr.store.conftest import database, store

__all__ = ["database", "store"]
