"""What "similar" means, shares, percentiles, the tables for CSV, and one window shared."""

from __future__ import annotations

import csv
import io

import pytest

from bot.flow import Flow
from ivr.callbacks.policy import ON_TIME_WINDOW as POLICY_WINDOW
from ivr.metrics import Distribution, Metrics, Period, Share, normalise, to_csv
from ivr.metrics.callbacks import ON_TIME_WINDOW
from ivr.store import Store
from tests.fixtures.seed_calls import NOW, TIMEZONE


@pytest.mark.parametrize(
    ("heard", "key"),
    [
        ("Um, my router is BLINKING!", "my router is blinking"),
        ("uh my router is blinking please", "my router is blinking"),
        ("CAFÉ, opening hours!", "cafe opening hours"),
        ("I I need the thing.", "i need the thing"),
        ("the fibre-box thing", "the fibre box thing"),
        ("don't", "don t"),
        ("um uh", "um uh"),  # nothing but fillers: they are what was said
        ("...", ""),
        ("인터넷이 안 돼요", "인터넷이 안 돼요"),  # Hangul stays composed
    ],
)
def test_similar_utterances_normalise_alike(heard: str, key: str) -> None:
    assert normalise(heard) == key


def test_shares_and_percentiles() -> None:
    assert Share(3, 4).value == 0.75 and Share(0, 0).value is None
    assert Share(1, 2) + Share(2, 3) == Share(3, 5)
    waits = Distribution.of([4.0, 1.0, 3.0, 2.0, 10.0], (0, 5))
    assert (waits.count, waits.p50, waits.p90) == (5, 3.0, 10.0)  # nearest rank
    assert [(b.label, b.count) for b in waits.buckets] == [("0-5 s", 4), ("5 s+", 1)]
    assert Distribution.of([], (0, 5)).p50 is None


def test_the_on_time_window_is_the_callback_policys() -> None:
    assert ON_TIME_WINDOW == POLICY_WINDOW


def test_every_table_exports_as_csv(seeded: Store, flow: Flow) -> None:
    report = Metrics(seeded).report(Period.last_7_days(NOW, TIMEZONE), flow=flow, now=NOW)
    live = Metrics(seeded).live(NOW, flow)
    tables = {**report.tables(), **live.tables()}
    assert set(tables) == {
        "summary", "queues", "time_to_person", "intents", "handover_reasons", "misunderstood",
        "agents_now", "queues_now",
    }  # fmt: skip
    for name, (header, rows) in tables.items():
        assert rows, name
        assert all(len(row) == len(header) for row in rows), name
        parsed = list(csv.reader(io.StringIO(to_csv((header, rows)))))
        assert parsed[0] == list(header) and len(parsed) == len(rows) + 1
    summary = {row[0]: row for row in tables["summary"][1]}
    assert summary["service_level"][1:] == (
        report.service_level.value,
        report.service_level.numerator,
        report.service_level.denominator,
    )
