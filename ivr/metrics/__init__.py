"""The supervisor dashboard's figures, each defined once (formulas: docs/metrics.md).

Usage::

    metrics = Metrics(store)
    period = Period.last_7_days(now, "Europe/London")   # or today, last_30_days, days(...)
    report = metrics.report(period, queue=None, flow=flow, now=now)
    report.service_level.value, report.service_level.numerator, report.queues, ...
    for name, table in report.tables().items(): to_csv(table)
    live = metrics.live(now, flow)                       # calls, agents, callbacks right now

Read-only SQL over the store's tables (:mod:`ivr.store.schema`), a few aggregate queries per
report, in SQLite and PostgreSQL alike. Above the store, below the callbacks and the console.
"""

from ivr.metrics.figures import (
    Bucket,
    Distribution,
    IntentCount,
    Misunderstood,
    QueueFigures,
    ReasonCount,
    Share,
)
from ivr.metrics.live import AgentNow, AgentState, Live, QueueNow, Waiting
from ivr.metrics.metrics import Metrics
from ivr.metrics.period import Period
from ivr.metrics.report import Report, Table, to_csv
from ivr.metrics.targets import Targets
from ivr.metrics.utterances import normalise

__all__ = [
    "AgentNow",
    "AgentState",
    "Bucket",
    "Distribution",
    "IntentCount",
    "Live",
    "Metrics",
    "Misunderstood",
    "Period",
    "QueueFigures",
    "QueueNow",
    "ReasonCount",
    "Report",
    "Share",
    "Table",
    "Targets",
    "Waiting",
    "normalise",
    "to_csv",
]
