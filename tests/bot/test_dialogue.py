"""The Dialogue stage with the real engine, the real flow and the real Rasa server."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dialogue import Dialogue
from bot.engine import Engine, Transfer
from bot.flow import load_flow
from bot.nlu.rasa import RasaNLU
from ivr.commands.common import unreachable_nlu
from ivr.config import ROOT

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow(ROOT / "flows"))


@pytest.mark.rasa
def test_every_turn_is_logged_with_the_call_id(
    engine: Engine, rasa_nlu: RasaNLU, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.dialogue")
    dialogue = Dialogue(engine, rasa_nlu, "CA-log-1")
    dialogue.start(MONDAY, caller="+447700900123")
    reply = dialogue.hear("i want to cancel my contract", MONDAY)
    assert any(isinstance(a, Transfer) for a in reply.actions)
    dialogue.hang_up(MONDAY)
    records = [r for r in caplog.records if r.name == "bot.dialogue"]
    assert [r.getMessage() for r in records] == ["call started", "turn", "call ended"]
    assert {getattr(r, "call_id", None) for r in records} == {"CA-log-1"}
    turn = records[1]
    assert turn.intent == "cancel_contract"  # type: ignore[attr-defined]
    assert turn.decision == "route:retention_agent"  # type: ignore[attr-defined]
    assert turn.nlu_ms > 0  # type: ignore[attr-defined]


def test_nlu_down_is_logged_and_the_caller_reaches_a_person(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.dialogue")
    with unreachable_nlu() as down:
        dialogue = Dialogue(engine, down, "CA-log-2")
        dialogue.start(MONDAY)
        reply = dialogue.hear("my broadband is down", MONDAY)
    assert reply.nlu is None and reply.nlu_error and "ConnectError" in reply.nlu_error
    transfer = next(a for a in reply.actions if isinstance(a, Transfer))
    assert (transfer.queue, transfer.reason) == ("general", "nlu_unavailable")
    [turn] = [r for r in caplog.records if r.getMessage() == "turn"]
    assert turn.call_id == "CA-log-2"  # type: ignore[attr-defined]
    assert "ConnectError" in turn.nlu_error  # type: ignore[attr-defined]
