"""The reference's raw material: every row of the tables, and the small helpers of its formulas.

Part of the reference computation (:mod:`tests.ivr.metrics.reference`): written from
docs/metrics.md, independently of ``ivr.metrics``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from ivr.metrics import Bucket, Distribution
from ivr.store import Store

# The constants of docs/metrics.md, written out again.
HANDOVER_BARS = [0, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300]
START_BARS = [0, 15, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600]
NOT_UNDERSTOOD = {
    "clarify",
    "clarify_failed",
    "misunderstood",
    "booking:misunderstood",
    "booking:unclear",
}
FILLER_WORDS = {
    *("um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "eh", "hm", "hmm", "mm", "mmm", "oh"),
    *("well", "like", "so", "just", "actually", "basically", "please", "okay", "ok"),
}
DAY = timedelta(hours=24)
ON_TIME = timedelta(minutes=2)
HOUR = timedelta(hours=1)
HANDED = ("transfer", "callback")
OPEN = ("scheduled", "retry", "claimed")
STALE = timedelta(hours=4)


@dataclass
class Tables:
    """Every row of the tables the figures read, as dicts with aware datetimes and bools."""

    calls: list[dict[str, Any]]
    turns: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    presence: list[dict[str, Any]]
    busy: list[dict[str, Any]]


TIMES = {
    "started_at",
    "ended_at",
    "transferred_at",
    "answered_at",
    "at",
    "promised_at",
    "due_at",
    "created_at",
    "changed_at",
    "since",
    "until",
}
FLAGS = {"resolved_by_bot", "abandoned", "on_time"}


def read(store: Store) -> Tables:
    """``SELECT`` the columns of each table, nothing else."""
    columns = {
        "calls": "call_id, caller, started_at, ended_at, outcome, queue, reason, transferred_at, "
        "answered_at, resolved_by_bot, abandoned, stage, intent",
        "turns": "id, call_id, turn_index, at, kind, text, confidence, decision",
        "callbacks": "id, call_id, queue, status, promised_at, due_at, on_time, created_at",
        "agent_presence": "agent, status, changed_at",
        "agent_busy": "agent, kind, call_id, since, until",
    }
    found = {}
    with store.database.connect("reference") as conn:
        for table, names in columns.items():
            rows = conn.execute(text(f"SELECT {names} FROM {table}")).mappings()
            found[table] = [{k: _value(k, v) for k, v in row.items()} for row in rows]
    return Tables(
        found["calls"],
        found["turns"],
        found["callbacks"],
        found["agent_presence"],
        found["agent_busy"],
    )


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in TIMES:
        if isinstance(value, str):  # SQLite keeps UTC text
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if name in FLAGS:
        return bool(value)
    return value


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def nearest_rank(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]


def distribution(values: list[float], bars: list[int]) -> Distribution:
    tops: list[float | None] = [*bars[1:], None]
    buckets = tuple(
        Bucket(low, top, sum(1 for v in values if v >= low and (top is None or v < top)))
        for low, top in zip(bars, tops, strict=True)
    )
    return Distribution(len(values), nearest_rank(values, 50), nearest_rank(values, 90), buckets)


def simplify(words: str) -> str:
    """docs/metrics.md's normalisation, written again."""
    no_marks = "".join(
        ch for ch in unicodedata.normalize("NFKD", words) if unicodedata.category(ch) != "Mn"
    )
    folded = unicodedata.normalize("NFC", no_marks).casefold()
    tokens = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    meaningful = [t for t in tokens if t not in FILLER_WORDS] or tokens
    out: list[str] = []
    for token in meaningful:
        if not out or out[-1] != token:
            out.append(token)
    return " ".join(out)
