"""The conversation tests admins write in flows/tests/, run by pytest against the real NLU.

Each YAML test is one pytest item, so a failure names the test and the file:line of the turn.
"""

from __future__ import annotations

import pytest

from bot.convtest import ConversationTest, load_tests, run_test
from bot.engine import Engine
from bot.flow import load_flow
from bot.nlu.rasa import RasaNLU
from ivr.commands.common import unreachable_nlu
from ivr.config import ROOT

TESTS = load_tests(ROOT / "flows" / "tests")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow(ROOT / "flows"))


def test_there_are_enough_conversation_tests() -> None:
    assert len(TESTS) >= 25


@pytest.mark.rasa
@pytest.mark.parametrize("conversation", TESTS, ids=lambda t: f"{t.where.file}:{t.where.line}")
def test_conversation(conversation: ConversationTest, engine: Engine, rasa_nlu: RasaNLU) -> None:
    with unreachable_nlu() as down:
        outcome = run_test(conversation, engine, rasa_nlu, down)
    assert outcome.passed, "\n".join([*outcome.failures, "transcript:", *outcome.transcript])
