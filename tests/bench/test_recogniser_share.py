"""The recogniser-share bench decodes real audio both ways and reports against one recogniser."""

from __future__ import annotations

import pytest

from tests.bench import load

recogniser_share = load("recogniser_share")


@pytest.mark.slow
def test_both_ways_decode_the_question_on_every_recogniser() -> None:
    turn = recogniser_share.the_turn()
    assert all(len(piece) == recogniser_share.PIECE_BYTES for piece in turn[:-1])
    recognisers = recogniser_share.warmed(2, turn)
    for way in recogniser_share.WAYS:
        assert recogniser_share.ms_per_second(recognisers, turn, way, rounds=2) > 0
    words = [each.FinalResult() for each in recognisers]
    assert all('"text"' in result for result in words)


def test_the_report_sets_each_count_against_one_recogniser() -> None:
    table = recogniser_share.report(
        {
            1: {"turn after turn": [50.0, 52.0], "side by side": [48.0, 49.0]},
            16: {"turn after turn": [75.0, 78.0], "side by side": [72.0, 72.0]},
        }
    )
    lines = table.splitlines()
    assert lines[0].startswith("| recognisers | turn after turn, ms per s of audio |")
    assert lines[2] == "| 1 | 50.0 to 52.0 (1.00 x) | 48.0 to 49.0 (1.00 x) |"
    assert lines[3] == "| 16 | 75.0 to 78.0 (1.50 x) | 72.0 to 72.0 (1.50 x) |"
