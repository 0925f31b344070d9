"""The dashboard's figures computed a second way, from docs/metrics.md, without ``ivr.metrics``.

Plain Python over every row of the tables, read with ``SELECT <columns> FROM <table>``
(:mod:`tests.ivr.metrics.reference_rows`): no SQL arithmetic, no grouping, no index. Only the
result types are shared with ``ivr.metrics`` (so a whole report compares with ``==``); every
number is computed here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bot.flow import Flow
from ivr.metrics import (
    AgentNow,
    AgentState,
    IntentCount,
    Live,
    Misunderstood,
    Period,
    QueueFigures,
    QueueNow,
    ReasonCount,
    Report,
    Share,
    Waiting,
)
from tests.ivr.metrics.reference_rows import (
    DAY,
    HANDED,
    HANDOVER_BARS,
    HOUR,
    NOT_UNDERSTOOD,
    ON_TIME,
    OPEN,
    STALE,
    START_BARS,
    Tables,
    distribution,
    nearest_rank,
    read,
    seconds,
    simplify,
)

__all__ = ["Reference", "Tables", "read"]


class Reference:
    """The figures of docs/metrics.md over ``tables``, for ``flow``'s targets, at ``now``."""

    def __init__(self, tables: Tables, flow: Flow, now: datetime) -> None:
        self.t, self.flow, self.now = tables, flow, now

    def target(self, queue: str | None) -> tuple[int, int]:
        declared = self.flow.queues.get(queue or "")
        if declared is None:
            return 25, 5
        return declared.service_level_seconds, declared.short_abandon_seconds

    def report(self, period: Period, queue: str | None) -> Report:
        calls = [
            c
            for c in self.t.calls
            if period.start <= c["started_at"] < period.end
            and (queue is None or c["queue"] == queue)
        ]
        whole = queue is None
        ended = [c for c in calls if c["ended_at"] is not None]
        resolved = [c for c in ended if c["resolved_by_bot"]]
        known = [c for c in resolved if c["caller"] is not None]
        kept = self.kept(period, queue)
        answered = [c for c in calls if c["answered_at"] and c["transferred_at"]]
        return Report(
            period=period,
            queue=queue,
            calls=len(calls),
            service_level=self.service_level(calls),
            time_to_person=distribution(
                [seconds(c["answered_at"], c["started_at"]) for c in answered], START_BARS
            ),
            time_to_person_after_handover=distribution(
                [seconds(c["answered_at"], c["transferred_at"]) for c in answered], HANDOVER_BARS
            ),
            containment=Share(len(resolved), len(ended)) if whole else None,
            not_repeated=Share(sum(not self.called_again(c) for c in known), len(known))
            if whole
            else None,
            abandoned=self.abandoned(calls),
            short_abandons=sum(self.short(c) for c in calls),
            hung_up_with_bot=Share(
                sum(c["outcome"] is None and c["transferred_at"] is None for c in ended), len(ended)
            )
            if whole
            else None,
            callbacks_on_time=Share(
                sum(k.numerator for k in kept.values()), sum(k.denominator for k in kept.values())
            ),
            intents=self.intents(calls),
            handover_reasons=self.reasons(calls),
            misunderstood=self.misunderstood(period, queue),
            queues=self.queues(calls, kept),
        )

    # -- calls ------------------------------------------------------------------------------

    def booked(self, call: dict[str, Any]) -> bool:
        return any(cb["call_id"] == call["call_id"] for cb in self.t.callbacks)

    def short(self, call: dict[str, Any]) -> bool:
        if not call["abandoned"]:
            return False
        return seconds(call["ended_at"], call["transferred_at"]) < self.target(call["queue"])[1]

    def service_level(self, calls: list[dict[str, Any]]) -> Share:
        counted = met = 0
        for c in calls:
            if c["transferred_at"] is None or self.booked(c):
                continue
            if c["answered_at"] is not None:
                counted += 1
                wait = seconds(c["answered_at"], c["transferred_at"])
                met += wait <= self.target(c["queue"])[0]
            elif c["abandoned"] and not self.short(c):
                counted += 1
        return Share(met, counted)

    def abandoned(self, calls: list[dict[str, Any]]) -> Share:
        handed = [c for c in calls if c["transferred_at"] is not None]
        return Share(sum(bool(c["abandoned"]) for c in handed), len(handed))

    def called_again(self, call: dict[str, Any]) -> bool:
        return any(
            other["caller"] == call["caller"]
            and call["started_at"] < other["started_at"] <= call["started_at"] + DAY
            for other in self.t.calls
        )

    def intents(self, calls: list[dict[str, Any]]) -> tuple[IntentCount, ...]:
        names = {c["intent"] for c in calls}
        rows = [
            IntentCount(
                name,
                sum(c["intent"] == name for c in calls),
                sum(c["intent"] == name and bool(c["resolved_by_bot"]) for c in calls),
                sum(
                    c["intent"] == name and c["outcome"] in ("transfer", "callback") for c in calls
                ),
            )
            for name in names
        ]
        return tuple(sorted(rows, key=lambda r: (-r.calls, r.intent is None, r.intent or "")))

    def reasons(self, calls: list[dict[str, Any]]) -> tuple[ReasonCount, ...]:
        handed = [c for c in calls if c["outcome"] in HANDED]
        rows = [
            ReasonCount(
                reason,
                sum(c["reason"] == reason and c["outcome"] == "transfer" for c in handed),
                sum(c["reason"] == reason and c["outcome"] == "callback" for c in handed),
            )
            for reason in {c["reason"] for c in handed}
        ]
        return tuple(sorted(rows, key=lambda r: (-r.total, r.reason is None, r.reason or "")))

    def kept(self, period: Period, queue: str | None) -> dict[str, Share]:
        due = [
            cb
            for cb in self.t.callbacks
            if period.start <= cb["promised_at"] < period.end
            and cb["promised_at"] + ON_TIME <= self.now
            and cb["status"] != "cancelled"
            and (queue is None or cb["queue"] == queue)
        ]
        return {
            q: Share(
                sum(cb["queue"] == q and cb["on_time"] is True for cb in due),
                sum(cb["queue"] == q for cb in due),
            )
            for q in {cb["queue"] for cb in due}
        }

    def queues(
        self, calls: list[dict[str, Any]], kept: dict[str, Share]
    ) -> tuple[QueueFigures, ...]:
        rows = []
        for name in sorted({c["queue"] for c in calls if c["queue"]} | set(kept)):
            mine = [c for c in calls if c["queue"] == name]
            waits = [
                seconds(c["answered_at"], c["transferred_at"])
                for c in mine
                if c["answered_at"] and c["transferred_at"]
            ]
            rows.append(
                QueueFigures(
                    queue=name,
                    calls=len(mine),
                    handed_over=sum(c["transferred_at"] is not None for c in mine),
                    answered=sum(c["answered_at"] is not None for c in mine),
                    service_level=self.service_level(mine),
                    abandoned=self.abandoned(mine),
                    short_abandons=sum(self.short(c) for c in mine),
                    wait_p50=nearest_rank(waits, 50),
                    wait_p90=nearest_rank(waits, 90),
                    callbacks_on_time=kept.get(name, Share(0, 0)),
                )
            )
        return tuple(rows)

    # -- turns ------------------------------------------------------------------------------

    def misunderstood(self, period: Period, queue: str | None) -> tuple[Misunderstood, ...]:
        turn_at = {(t["call_id"], t["turn_index"]): t for t in self.t.turns}
        queue_of = {c["call_id"]: c["queue"] for c in self.t.calls}
        threshold = self.flow.escalation.confidence_threshold
        groups: dict[str, dict[str, Any]] = {}
        for t in sorted(self.t.turns, key=lambda t: t["id"]):
            if not period.start <= t["at"] < period.end or t["kind"] != "speech" or not t["text"]:
                continue
            if queue is not None and queue_of.get(t["call_id"]) != queue:
                continue
            after = turn_at.get((t["call_id"], t["turn_index"] + 1))
            asked = (
                after is not None
                and after["decision"] == "global:person"
                and period.start <= after["at"] < period.end + HOUR
            )
            low = t["confidence"] is not None and t["confidence"] < threshold
            if not (low or t["decision"] in NOT_UNDERSTOOD or asked):
                continue
            key = simplify(t["text"])
            if not key:
                continue
            group = groups.setdefault(
                key, {"turns": 0, "asked": 0, "heard": Counter(), "calls": {}}
            )
            group["turns"] += 1
            group["asked"] += asked
            group["heard"][t["text"]] += 1
            group["calls"][t["call_id"]] = t["id"]  # turns go by id: the last one is the newest
        ranked = sorted(groups.items(), key=lambda kv: (-kv[1]["turns"], -kv[1]["asked"], kv[0]))
        found = []
        for key, group in ranked[:100]:
            most = max(group["heard"].values())
            newest = sorted(group["calls"], key=lambda call: -group["calls"][call])
            found.append(
                Misunderstood(
                    text=key,
                    example=min(t for t, n in group["heard"].items() if n == most),
                    turns=group["turns"],
                    calls=len(group["calls"]),
                    asked_for_person=group["asked"],
                    call_ids=tuple(newest[:25]),
                )
            )
        return tuple(found)

    # -- now --------------------------------------------------------------------------------

    def live(self) -> Live:
        now = self.now
        going = [
            c
            for c in self.t.calls
            if c["ended_at"] is None and now - STALE <= c["started_at"] <= now
        ]
        stages = Counter(c["stage"] for c in going)
        agents = self.agents()
        due = [cb for cb in self.t.callbacks if cb["status"] in OPEN and cb["due_at"] < now + HOUR]
        ringing = [c for c in going if c["stage"] == "ringing" and c["transferred_at"] is not None]
        first = min(ringing, key=lambda c: (c["transferred_at"], c["call_id"]), default=None)
        oldest = None
        if first is not None:
            since = first["transferred_at"]
            oldest = Waiting(first["call_id"], first["queue"], since, seconds(now, since))
        names = set(self.flow.queues) | {c["queue"] for c in going if c["queue"]}
        queues = []
        for name in sorted(names | {cb["queue"] for cb in due}):
            waiting = [c for c in going if c["queue"] == name and c["stage"] == "ringing"]
            since = [c["transferred_at"] for c in waiting if c["transferred_at"] is not None]
            queues.append(
                QueueNow(
                    queue=name,
                    waiting=len(waiting),
                    oldest_wait_seconds=seconds(now, min(since)) if since else None,
                    with_agent=sum(c["queue"] == name and c["stage"] == "agent" for c in going),
                    agents_available=sum(
                        a.state is AgentState.AVAILABLE and name in a.queues for a in agents
                    ),
                    callbacks_due_soon=sum(cb["queue"] == name for cb in due),
                )
            )
        return Live(
            at=now,
            with_bot=stages["bot"] + stages["booking"],
            booking=stages["booking"],
            waiting=stages["ringing"],
            with_agent=stages["agent"],
            agents=agents,
            callbacks_due_soon=len(due),
            callbacks_overdue=sum(cb["due_at"] < now for cb in due),
            oldest_waiting=oldest,
            queues=tuple(queues),
        )

    def agents(self) -> tuple[AgentNow, ...]:
        said = {p["agent"]: p for p in self.t.presence}
        busy = {b["agent"]: b for b in self.t.busy if b["until"] > self.now}
        found = []
        for agent in self.flow.agents.values():
            if agent.id in busy:
                b = busy[agent.id]
                state = AgentState.RINGING if b["kind"] == "ringing" else AgentState.ON_CALL
                found.append(
                    AgentNow(agent.id, agent.name, agent.queues, state, b["since"], b["call_id"])
                )
                continue
            p = said.get(agent.id)
            status = p["status"] if p else ""
            if status in ("away", "offline"):
                state = AgentState.AWAY if status == "away" else AgentState.OFFLINE
            elif agent.on_shift(self.now):
                state = AgentState.AVAILABLE
            else:
                state = AgentState.OFF_SHIFT
            found.append(
                AgentNow(
                    agent.id, agent.name, agent.queues, state, p["changed_at"] if p else None, None
                )
            )
        return tuple(found)
