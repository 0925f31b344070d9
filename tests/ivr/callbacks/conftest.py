"""The store's fixtures (a SQLite file and a PostgreSQL schema per test), for callbacks too, and
the callback store and Twilio's REST API that the callback tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio_emulator import TwilioRestEmulator

from ivr.callbacks.policy import RULES
from ivr.store import CallbackStore, Store
from tests.ivr.store.conftest import database, store

__all__ = ["callbacks", "database", "store", "twilio"]


@pytest.fixture
def twilio() -> Iterator[TwilioRestEmulator]:
    """Twilio's REST API, emulated on a local port."""
    with TwilioRestEmulator() as emulator:
        yield emulator


@pytest.fixture
def callbacks(store: Store) -> CallbackStore:
    """The callback store over the test's database."""
    return CallbackStore(store, RULES)
