"""Shared fixtures. The real Rasa service is a session fixture: trained once, cached by
content hash across runs (see tests/fixtures/rasa.py)."""

pytest_plugins = [
    "tests.fixtures.rasa",
    "tests.fixtures.speech",
    "tests.fixtures.live_server",
    "tests.fixtures.ko_line",
]
