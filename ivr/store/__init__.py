"""Call storage: calls, their turns and events, in SQLite (default) or PostgreSQL.

``Store(database_url(...))`` is the one entry point; it returns the plain records of
:mod:`ivr.store.records` and raises :class:`StoreUnavailable` when the database fails.
"""

from ivr.store.records import CallRecord, EventRecord, TurnRecord
from ivr.store.store import Store, StoreUnavailable, TurnExists, database_url

__all__ = [
    "CallRecord",
    "EventRecord",
    "Store",
    "StoreUnavailable",
    "TurnExists",
    "TurnRecord",
    "database_url",
]
