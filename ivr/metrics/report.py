"""A period's figures (:class:`Report`) and their tables for CSV (:meth:`Report.tables`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.metrics.figures import (
    Distribution,
    IntentCount,
    Misunderstood,
    QueueFigures,
    ReasonCount,
    Share,
)
from ivr.metrics.period import Period

#: A table: its header and its rows (numbers stay numbers; ``None`` is an empty cell).
Table = tuple[tuple[str, ...], list[tuple[object, ...]]]


@dataclass(frozen=True)
class Report:
    """Every figure of the supervisor dashboard over ``period``, for ``queue`` or all calls.

    Formulas: docs/metrics.md. Figures about the bot alone (``containment``,
    ``not_repeated``, ``hung_up_with_bot``) are ``None`` for one queue: calls reach a queue
    only when the bot passes them on. ``queues`` has a row per queue the period's calls or
    callbacks reached.
    """

    period: Period
    queue: str | None
    calls: int
    service_level: Share
    time_to_person: Distribution  # call start to a person answering
    time_to_person_after_handover: Distribution  # a person rung to a person answering
    containment: Share | None
    not_repeated: Share | None  # of contained calls, no call again within 24 h
    abandoned: Share  # hung up waiting for a person, of the calls handed to one
    short_abandons: int
    hung_up_with_bot: Share | None
    callbacks_on_time: Share
    intents: tuple[IntentCount, ...]
    handover_reasons: tuple[ReasonCount, ...]
    misunderstood: tuple[Misunderstood, ...]
    queues: tuple[QueueFigures, ...]

    def tables(self) -> dict[str, Table]:
        """Every table of the report by name, ready for CSV (see :func:`to_csv`)."""
        return {
            "summary": (("figure", "value", "numerator", "denominator"), self._summary()),
            "queues": _queues_table(self.queues),
            "time_to_person": _histogram_table(
                self.time_to_person, self.time_to_person_after_handover
            ),
            "intents": (
                ("intent", "calls", "resolved_by_bot", "handed_over"),
                [(i.intent, i.calls, i.resolved_by_bot, i.handed_over) for i in self.intents],
            ),
            "handover_reasons": (
                ("reason", "transfers", "callbacks", "total"),
                [(r.reason, r.transfers, r.callbacks, r.total) for r in self.handover_reasons],
            ),
            "misunderstood": (
                ("text", "example", "turns", "calls", "asked_for_person", "call_ids"),
                [
                    (m.text, m.example, m.turns, m.calls, m.asked_for_person, " ".join(m.call_ids))
                    for m in self.misunderstood
                ],
            ),
        }

    def _summary(self) -> list[tuple[object, ...]]:
        shares: list[tuple[str, Share | None]] = [
            ("service_level", self.service_level),
            ("containment", self.containment),
            ("contained_not_repeated_24h", self.not_repeated),
            ("abandoned_waiting_for_person", self.abandoned),
            ("hung_up_with_bot", self.hung_up_with_bot),
            ("callbacks_on_time", self.callbacks_on_time),
        ]
        rows: list[tuple[object, ...]] = [("calls", self.calls, None, None)]
        rows += [_share_row(name, share) for name, share in shares if share is not None]
        rows.append(("short_abandons", self.short_abandons, None, None))
        for name, dist in (
            ("time_to_person", self.time_to_person),
            ("time_to_person_after_handover", self.time_to_person_after_handover),
        ):
            rows += [(f"{name}_p50_seconds", dist.p50, None, None)]
            rows += [(f"{name}_p90_seconds", dist.p90, None, None)]
        return rows


def _share_row(name: str, share: Share) -> tuple[object, ...]:
    return (name, share.value, share.numerator, share.denominator)


def _queues_table(queues: Sequence[QueueFigures]) -> Table:
    header = (
        "queue", "calls", "handed_over", "answered", "service_level", "service_level_met",
        "service_level_calls", "abandoned", "abandoned_share", "short_abandons",
        "wait_p50_seconds", "wait_p90_seconds", "callbacks_on_time", "callbacks_kept",
        "callbacks_promised",
    )  # fmt: skip
    rows: list[tuple[object, ...]] = [_queue_row(q) for q in queues]
    return header, rows


def _queue_row(q: QueueFigures) -> tuple[object, ...]:
    sl, gone, kept = q.service_level, q.abandoned, q.callbacks_on_time
    return (
        q.queue, q.calls, q.handed_over, q.answered, sl.value, sl.numerator, sl.denominator,
        gone.numerator, gone.value, q.short_abandons, q.wait_p50, q.wait_p90, kept.value,
        kept.numerator, kept.denominator,
    )  # fmt: skip


def _histogram_table(start: Distribution, handover: Distribution) -> Table:
    rows: list[tuple[object, ...]] = [
        ("from_call_start", b.label, b.low, b.high, b.count) for b in start.buckets
    ]
    rows += [("from_handover", b.label, b.low, b.high, b.count) for b in handover.buckets]
    return ("measured", "bucket", "from_seconds", "to_seconds", "calls"), rows


def to_csv(table: Table) -> str:
    """One table as CSV text (``None`` as an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header, rows = table
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return out.getvalue()
