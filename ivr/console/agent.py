"""An agent's home: their presence, the calls in progress, and their phone ringing.

GET  /console/            presence, live calls (kept live by /console/events/live)
POST /console/presence    available | away | offline
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ivr.console.users import user
from ivr.console.views import live_call_json, live_calls
from ivr.parts import Parts
from ivr.store import AgentStates, Presence
from ivr.wiring import use

blueprint = Blueprint("agent", __name__)

PRESENCE_TEXT = {
    Presence.AVAILABLE: "Available: callers are put through to you.",
    Presence.AWAY: "Away: callers go to your colleagues, or are offered a callback.",
    Presence.OFFLINE: "Offline: you take no calls.",
}


@blueprint.get("/")
def home() -> str:
    """The agent's (or supervisor's) start page."""
    parts = use(Parts)
    me = user()
    presence = (
        AgentStates(parts.call_store()).presence().get(me.name) if me.role == "agent" else None
    )
    now = parts.clock()
    calls = [live_call_json(live, now) for live in live_calls(parts)]
    agent_known = me.name in parts.flow.agents
    return render_template(
        "home.html",
        presence=presence,
        presence_text=PRESENCE_TEXT.get(presence) if presence else None,
        choices=list(Presence),
        calls=calls,
        agent_known=agent_known,
    )


@blueprint.post("/presence")
def set_presence() -> Response:
    """Set the logged-in agent's presence; routing reads it on the next call."""
    me = user()
    if me.role != "agent":
        abort(403, "only agents have a presence")
    try:
        presence = Presence(request.form.get("presence", ""))
    except ValueError:
        abort(400, "presence must be available, away or offline")
    parts = use(Parts)
    AgentStates(parts.call_store()).set_presence(me.name, presence, parts.clock())
    flash(PRESENCE_TEXT[presence], "info")
    return redirect(url_for("console.agent.home"))
