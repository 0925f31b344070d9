"""Call storage: calls, their turns and events, and callbacks, in SQLite (default) or PostgreSQL.

``Store(database_url(...))`` is the one entry point; it returns the plain records of
:mod:`ivr.store.records` and raises :class:`StoreUnavailable` when the database fails.
"""

from ivr.store.callbacks import (
    CallbackError,
    CallbackExists,
    CallbackNotFound,
    CallbackRecord,
    CallbackStateError,
    CallbackStatus,
    CallbackStore,
    CallbackTransition,
    Claim,
    LeaseLost,
)
from ivr.store.records import CallRecord, EventRecord, TurnRecord
from ivr.store.store import Store, StoreUnavailable, TurnExists, data_dir, database_url

__all__ = [
    "CallRecord",
    "CallbackError",
    "CallbackExists",
    "CallbackNotFound",
    "CallbackRecord",
    "CallbackStateError",
    "CallbackStatus",
    "CallbackStore",
    "CallbackTransition",
    "Claim",
    "EventRecord",
    "LeaseLost",
    "Store",
    "StoreUnavailable",
    "TurnExists",
    "TurnRecord",
    "data_dir",
    "database_url",
]
