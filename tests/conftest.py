"""Shared fixtures. The real Rasa service is a session fixture: trained once, cached by
content hash across runs (see tests/fixtures/rasa.py)."""

import os
from collections.abc import Iterator

import pytest

pytest_plugins = [
    "tests.fixtures.rasa",
    "tests.fixtures.speech",
    "tests.fixtures.live_server",
    "tests.fixtures.ko_line",
    "tests.fixtures.postgres",
    "tests.fixtures.browser",
]


@pytest.fixture(scope="session", autouse=True)
def own_callback_spool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Servers started by tests (in process or not) never touch a developer's real spool.

    A server stores what it finds in the spool at start; a real one holds promised callbacks.
    """
    before = os.environ.get("IVR_SPOOL_DIR")
    os.environ["IVR_SPOOL_DIR"] = str(tmp_path_factory.mktemp("spool"))
    yield
    if before is None:
        os.environ.pop("IVR_SPOOL_DIR", None)
    else:
        os.environ["IVR_SPOOL_DIR"] = before
