"""The listening-cost bench hears every question, each way, and reports against the floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import load
from voice.asr import VoskRecognizer

listening_cost = load("listening_cost")


@pytest.mark.slow
def test_each_way_hears_the_calls_three_questions_and_uses_cpu(model_path: Path) -> None:
    question = listening_cost.question_audio()
    call = listening_cost.the_call(question)
    recognizer = VoskRecognizer(model_path)
    for way in ("in a loop", "at once"):  # real time takes the call's 13 s: the bench's part
        cost = listening_cost.measure(call, recognizer, way)
        assert cost.turns == listening_cost.TURNS
        assert cost.total_s > 0
        assert (cost.recognising_s > 0) == (way != "in a loop")  # its own thread, or none


def test_the_report_gives_each_way_its_range_and_ratio_to_the_floor() -> None:
    Cost = listening_cost.Cost
    costs = [
        Cost("in a loop", 0.40, 0.0, 3),
        Cost("in a loop", 0.44, 0.0, 3),
        Cost("at once", 0.05, 0.30, 3),
        Cost("at once", 0.05, 0.30, 3),
        Cost("in real time", 0.10, 0.40, 3),
        Cost("in real time", 0.12, 0.42, 3),
        Cost("held, in real time", 0.04, 0.30, 3),
    ]
    table = listening_cost.report(costs, floors=[0.40, 0.44])
    assert "0.40 to 0.44 s" in table.splitlines()[0]
    assert "| in a loop | 0.40 to 0.44 s | 0.00 s | 0.40 to 0.44 s | 1.00 x |" in table
    assert "| at once | 0.05 s | 0.30 s | 0.35 s | 0.83 x |" in table
    assert "| in real time | 0.10 to 0.12 s | 0.40 to 0.42 s | 0.50 to 0.54 s | 1.24 x |" in table
    assert "| held, in real time | 0.04 s | 0.30 s | 0.34 s | 0.81 x |" in table


def test_a_way_not_measured_is_left_out_of_the_report() -> None:
    table = listening_cost.report([listening_cost.Cost("at once", 0.05, 0.30, 3)], floors=[0.35])
    assert "| at once |" in table
    assert "in a loop" not in table and "held" not in table
