"""Call storage: calls, their turns and events, and callbacks, in SQLite (default) or PostgreSQL.

``Store(database_url(...))`` is the one entry point; it returns the plain records of
:mod:`ivr.store.records` and raises :class:`StoreUnavailable` when the database fails, and
:class:`SchemaOutOfDate` when its tables are behind the code (``ivr db upgrade`` migrates them).

Inside: :mod:`~ivr.store.database` (URL, engine, sessions, errors turned into
``StoreUnavailable``), :mod:`~ivr.store.schema` (the tables), :mod:`~ivr.store.migrate` and
``migrations/`` (their versions, with Alembic), the repositories :mod:`~ivr.store.calls` and
:mod:`~ivr.store.callbacks`, the console's :mod:`~ivr.store.accounts`,
:mod:`~ivr.store.agents` (presence, busy agents) and :mod:`~ivr.store.notes`, and
:mod:`~ivr.store.records`. Nothing here imports the rest of
``ivr``: what callbacks need from the policy comes in as :class:`AttemptRules`.
"""

from ivr.store.accounts import Account, AccountError, AccountStore
from ivr.store.agents import AgentStates, Busy, BusyKind, Presence
from ivr.store.callbacks import AttemptRules, CallbackStore
from ivr.store.calls import Store
from ivr.store.database import data_dir, database_url
from ivr.store.errors import (
    CallbackError,
    CallbackExists,
    CallbackNotFound,
    CallbackStateError,
    LeaseLost,
    SchemaOutOfDate,
    StoreUnavailable,
    TurnExists,
    UnknownSchema,
)
from ivr.store.notes import Note, NoteStore
from ivr.store.records import (
    CallbackRecord,
    CallbackStatus,
    CallbackTransition,
    CallRecord,
    Claim,
    EventRecord,
    TurnRecord,
)

__all__ = [
    "Account",
    "AccountError",
    "AccountStore",
    "AgentStates",
    "AttemptRules",
    "Busy",
    "BusyKind",
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
    "Note",
    "NoteStore",
    "Presence",
    "SchemaOutOfDate",
    "Store",
    "StoreUnavailable",
    "TurnExists",
    "TurnRecord",
    "UnknownSchema",
    "data_dir",
    "database_url",
]
