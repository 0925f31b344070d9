"""The one place the dashboard's figures are computed: :class:`Metrics` over the store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.flow.model import Flow
from ivr.metrics import calls
from ivr.metrics.callbacks import callbacks_on_time
from ivr.metrics.figures import NONE, QueueFigures, Share
from ivr.metrics.live import Live, live_view
from ivr.metrics.period import Period
from ivr.metrics.report import Report
from ivr.metrics.targets import Targets
from ivr.metrics.utterances import group_utterances, misunderstood_turns
from ivr.metrics.waits import Waits, answered_waits
from ivr.store import Store
from ivr.store.database import Database, aware

#: Groups of misunderstood utterances a report keeps (the largest).
UTTERANCE_GROUPS = 100


class Metrics:
    """The supervisor dashboard's figures, read from ``store``'s database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    def report(
        self,
        period: Period,
        queue: str | None = None,
        *,
        flow: Flow | None = None,
        now: datetime | None = None,
        utterance_groups: int = UTTERANCE_GROUPS,
    ) -> Report:
        """Every figure over ``period``, for all calls or ``queue``'s.

        ``flow`` gives each queue's service-level targets and the confidence threshold (the
        defaults without it); ``now`` (default: the clock) decides which promised callbacks
        are due already.
        """
        now = aware(now or datetime.now(UTC), "now")
        targets = Targets.of(flow)
        with self._db.read("metrics report") as session:
            _no_jit(session, self._db)
            groups = calls.count_calls(session, period, queue, targets)
            booked = calls.booked_counts(session, period, queue, targets)
            repeats = calls.repeated(session, period) if queue is None else 0
            waits = answered_waits(session, period, queue)
            kept = callbacks_on_time(session, period, queue, now)
            turns = misunderstood_turns(session, period, queue, targets.confidence)
        counts = calls.total(groups).without(sum(booked.values(), NONE))
        bot_only = queue is None
        not_repeated = Share(counts.resolved_known_caller - repeats, counts.resolved_known_caller)
        return Report(
            period=period,
            queue=queue,
            calls=counts.calls,
            service_level=counts.service_level,
            time_to_person=waits.from_start(),
            time_to_person_after_handover=waits.from_handover(),
            containment=counts.containment if bot_only else None,
            not_repeated=not_repeated if bot_only else None,
            abandoned=counts.abandoned_share,
            short_abandons=counts.short_abandons,
            hung_up_with_bot=counts.hung_up_with_bot_share if bot_only else None,
            callbacks_on_time=sum(kept.values(), NONE),
            intents=calls.intents(groups),
            handover_reasons=calls.reasons(groups),
            misunderstood=group_utterances(turns, utterance_groups),
            queues=_queues(calls.by_queue(groups), booked, waits, kept),
        )

    def live(self, now: datetime, flow: Flow) -> Live:
        """The line now: calls with the bot and waiting, the flow's agents, callbacks due."""
        now = aware(now, "now")
        with self._db.read("metrics live") as session:
            return live_view(session, now, flow)


def _no_jit(session: Session, database: Database) -> None:
    """PostgreSQL: no JIT compiling in this transaction.

    A report's aggregates look costly enough to PostgreSQL to compile them, which takes longer
    (tens of milliseconds) than running them does.
    """
    if database.is_postgres:
        session.execute(text("SET LOCAL jit = off"))


def _queues(
    counts: dict[str, calls.CallCounts],
    booked: dict[str | None, Share],
    waits: Waits,
    kept: dict[str, Share],
) -> tuple[QueueFigures, ...]:
    rows = []
    for name in sorted(set(counts) | set(kept)):
        c = counts.get(name, calls.CallCounts()).without(booked.get(name, NONE))
        wait = waits.from_handover(name)
        rows.append(
            QueueFigures(
                queue=name,
                calls=c.calls,
                handed_over=c.handed_over,
                answered=c.answered,
                service_level=c.service_level,
                abandoned=c.abandoned_share,
                short_abandons=c.short_abandons,
                wait_p50=wait.p50,
                wait_p90=wait.p90,
                callbacks_on_time=kept.get(name, NONE),
            )
        )
    return tuple(rows)
