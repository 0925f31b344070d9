"""Server-sent events that keep the console live without reloading a page.

    GET /console/events/live           the calls in progress, and the agent's phone ringing
    GET /console/events/calls/<id>     one call's new turns and its stage, as they happen

Each stream looks at the database about once a second and sends only what changed (every web
process sees the same database, so a page may be served by any of them). A stream ends after
a few minutes; the browser's EventSource reconnects by itself, carrying on where it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, request, stream_with_context

from ivr.call.switchboard import Switchboard
from ivr.console.users import user
from ivr.console.views import STAGES, live_call_json, live_calls
from ivr.parts import Parts
from ivr.store import AgentStates, BusyKind, StoreUnavailable, TurnRecord
from ivr.store.live import LiveReads
from ivr.wiring import use

blueprint = Blueprint("events", __name__, url_prefix="/events")

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event (with an ``id`` the browser sends back when it reconnects)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream(events: Iterator[str]) -> Response:
    """A response that sends ``events`` as they come (and tells proxies not to buffer it)."""
    response = Response(stream_with_context(events), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def polled(snapshot: Any) -> Iterator[str]:
    """Call ``snapshot()`` every poll; yield what it returns when it changed, else keep-alives."""
    started = last_sent = time.monotonic()
    previous: str | None = None
    while time.monotonic() - started < STREAM_SECONDS:
        try:
            events = snapshot()
        except StoreUnavailable:
            events = [sse("problem", {"text": "The database is not answering; retrying."})]
        text = "".join(events)
        if text and text != previous:
            previous, last_sent = text, time.monotonic()
            yield text
        elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)


@blueprint.get("/live")
def live() -> Response:
    """The live calls board and, for an agent, their phone ringing with a call."""
    parts, switchboard, me = use(Parts), use(Switchboard), user()
    whispers: dict[str, str] = {}

    def snapshot() -> list[str]:
        now = parts.clock()
        calls = [live_call_json(call, now) for call in live_calls(parts)]
        ringing = _ringing(parts, switchboard, me.name, whispers) if me.role == "agent" else None
        return [sse("calls", calls), sse("ringing", ringing)]

    return stream(polled(snapshot))


def _ringing(
    parts: Parts, switchboard: Switchboard, agent: str, whispers: dict[str, str]
) -> dict[str, str] | None:
    """The call ringing ``agent``'s phone now, with what the whisper tells them."""
    busy = AgentStates(parts.call_store()).busy(parts.clock()).get(agent)
    if busy is None or busy.kind is not BusyKind.RINGING or busy.call_id is None:
        return None
    call_id = busy.call_id
    if call_id not in whispers:
        whispers[call_id] = parts.context.whisper(call_id, switchboard.handover(call_id))
    return {"call_id": call_id, "whisper": whispers[call_id]}


@blueprint.get("/calls/<call_id>")
def call(call_id: str) -> Response:
    """A call's turns after ``?after=N`` (its turn number), and its stage when it changes.

    A reconnecting browser sends the last turn it got as ``Last-Event-ID``: it carries on from
    there instead of getting the turns since the page was loaded again.
    """
    parts = use(Parts)
    try:
        after = [max(int(request.args.get("after") or -1),
                     int(request.headers.get("Last-Event-ID") or -1))]  # fmt: skip
    except ValueError:
        abort(400, "after and Last-Event-ID are turn numbers")
    if parts.call_store().get_call(call_id) is None:
        abort(404, f"There is no call {call_id!r}.")
    stage: list[str | None] = [None]

    def snapshot() -> list[str]:
        record, turns = LiveReads(parts.call_store()).turns_after(call_id, after[0])
        events = [sse("turn", turn_json(turn), turn.index) for turn in turns]
        if turns:
            after[0] = turns[-1].index
        if record is not None and record.stage != stage[0]:
            stage[0] = record.stage
            text = STAGES.get(record.stage or "", record.stage or "")
            events.append(sse("stage", {"stage": record.stage, "text": text}))
        return events

    return stream(polled(snapshot))


def turn_json(turn: TurnRecord) -> dict[str, Any]:
    """A turn as the call page's script shows it."""
    return {
        "index": turn.index,
        "at": turn.at.isoformat(),
        "kind": turn.kind,
        "text": turn.text,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "asr_confidence": turn.asr_confidence,
        "decision": turn.decision,
        "bot": list(turn.actions),
    }
