"""The supervisor's dashboard and the wall screen, from the figures of :mod:`ivr.metrics`.

    GET /console/dashboard        figures over a period (today, 7 days, 30 days, custom),
                                  in total or for one queue, with charts
    GET /console/dashboard.csv    any of its tables (``?table=``) as CSV, same period and queue
    GET /console/wall             the line right now, large, for a wall screen (refreshes itself)

Every number comes from :class:`~ivr.metrics.Metrics` (formulas: docs/metrics.md); this module
only chooses the period and lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request

from ivr.console.users import supervisor_only
from ivr.metrics import Metrics, Period, Report, Share, to_csv
from ivr.metrics.live import LIVE_TABLES, AgentState
from ivr.parts import Parts
from ivr.wiring import use

blueprint = Blueprint("dashboard", __name__)

RANGES = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom"}


@dataclass(frozen=True)
class Choice:
    """The period and queue a page shows, as chosen in its form."""

    range: str
    period: Period
    queue: str | None
    first: date
    last: date


#: The longest custom range (a year, and a leap day).
MAX_DAYS = 366


def choice(parts: Parts) -> Choice:
    """The period and queue from the query string (``range``, ``from``, ``to``, ``queue``).

    Raises:
        werkzeug.exceptions.BadRequest: a custom range without valid dates, or an unknown queue.
    """
    now, zone = parts.clock(), line_zone(parts)
    chosen = request.args.get("range", "today")
    if chosen not in RANGES:
        abort(400, f"range must be one of {', '.join(RANGES)}")
    if chosen == "custom":
        try:
            first = date.fromisoformat(request.args.get("from", ""))
            last = date.fromisoformat(request.args.get("to", ""))
            if (last - first).days >= MAX_DAYS:
                abort(400, f"a custom range is at most {MAX_DAYS} days")
            period = Period.days(first, last, zone)
        except (ValueError, OverflowError) as error:
            abort(400, f"a custom range needs 'from' and 'to' dates (YYYY-MM-DD): {error}")
    else:
        period = {
            "today": Period.today,
            "7d": Period.last_7_days,
            "30d": Period.last_30_days,
        }[chosen](now, zone)
    queue = request.args.get("queue") or None
    if queue is not None and queue not in parts.flow.queues:
        abort(400, f"unknown queue {queue!r}")
    local = ZoneInfo(zone)
    first = period.start.astimezone(local).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(local).date()
    return Choice(chosen, period, queue, first, last)


def line_zone(parts: Parts) -> str:
    """The line's time zone: days start at its midnight."""
    return parts.flow.queue_hours(None).timezone


def report(parts: Parts, chosen: Choice) -> Report:
    """The figures for the chosen period and queue."""
    return Metrics(parts.call_store()).report(
        chosen.period, chosen.queue, flow=parts.flow, now=parts.clock()
    )


@blueprint.get("/dashboard")
@supervisor_only
def show() -> str:
    """The dashboard."""
    parts = use(Parts)
    chosen = choice(parts)
    figures = report(parts, chosen)
    live = Metrics(parts.call_store()).live(parts.clock(), parts.flow)
    return render_template(
        "dashboard.html",
        chosen=chosen,
        ranges=RANGES,
        queues=list(parts.flow.queues),
        report=figures,
        live=live,
        states=AgentState,
        charts=charts(figures),
        tables=figures.tables(),
        zone=line_zone(parts),
    )


@blueprint.get("/dashboard.csv")
@supervisor_only
def csv() -> Response:
    """One table of the dashboard (``?table=``), for the same period and queue, as CSV."""
    parts = use(Parts)
    chosen = choice(parts)
    name = request.args.get("table", "summary")
    if name in LIVE_TABLES:  # the line now: the period's report is not needed
        tables = Metrics(parts.call_store()).live(parts.clock(), parts.flow).tables()
    else:
        tables = report(parts, chosen).tables()
    if name not in tables:
        abort(400, f"table must be one of {', '.join([*tables, *LIVE_TABLES])}")
    filename = (
        f"ivr-{name}-{chosen.first}-{chosen.last}{'-' + chosen.queue if chosen.queue else ''}.csv"
    )
    return Response(
        to_csv(tables[name]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.get("/wall")
@supervisor_only
def wall() -> str:
    """The line now, for a wall screen: it reloads itself every few seconds."""
    parts = use(Parts)
    now, metrics = parts.clock(), Metrics(parts.call_store())
    live = metrics.live(now, parts.flow)
    today = metrics.report(Period.today(now, line_zone(parts)), flow=parts.flow, now=now)
    return render_template("wall.html", live=live, today=today, states=AgentState, now=now)


@blueprint.app_template_filter("percent")
def percent(share: Share | None) -> str:
    """``87 %``, or a dash when there is nothing to count."""
    if share is None or share.value is None:
        return "—"
    return f"{share.value * 100:.0f} %"


@blueprint.app_template_filter("seconds")
def seconds(value: float | None) -> str:
    """``42 s`` or ``3 min 5 s``; a dash for none."""
    if value is None:
        return "—"
    whole = round(value)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


def charts(figures: Report) -> dict[str, object]:
    """The charts' data, for the page's script (labels and counts only)."""
    return {
        "time_to_person": {
            "labels": [b.label for b in figures.time_to_person_after_handover.buckets],
            "after_handover": [b.count for b in figures.time_to_person_after_handover.buckets],
        },
        "intents": {
            "labels": [i.intent or "(none)" for i in figures.intents],
            "calls": [i.calls for i in figures.intents],
        },
        "reasons": {
            "labels": [r.reason or "(none)" for r in figures.handover_reasons],
            "calls": [r.total for r in figures.handover_reasons],
        },
        "queues": {
            "labels": [q.queue for q in figures.queues],
            "service_level": [
                round(q.service_level.value * 100, 1) if q.service_level.value is not None else None
                for q in figures.queues
            ],
        },
    }


@blueprint.app_template_filter("clock")
def _clock_filter(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value else "—"
