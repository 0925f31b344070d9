"""The callback queue: due and upcoming callbacks, and what an agent can do with each.

    GET  /console/callbacks                     the queue, soonest first
    POST /console/callbacks/<id>/claim          take it to handle by hand (the worker leaves it)
    POST /console/callbacks/<id>/complete       done, with an outcome (and whether reached)
    POST /console/callbacks/<id>/unclaim        give it back
    POST /console/callbacks/<id>/cancel         cancel it
    POST /console/callbacks/<id>/move           a new time, in words ("tomorrow at 10am")

The same store and rules as the JSON API: a callback being placed cannot be claimed, cancelled
or moved, and of two agents claiming one, one wins (the other is told who has it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ivr.callbacks.policy import RULES
from ivr.callbacks.texts import read_time, spoken_when
from ivr.console.users import user
from ivr.parts import Parts
from ivr.store import CallbackError, CallbackRecord, CallbackStatus, CallbackStore
from ivr.store.live import LiveReads
from ivr.wiring import use

log = logging.getLogger(__name__)

blueprint = Blueprint("callbacks", __name__, url_prefix="/callbacks")


@blueprint.get("")
def queue() -> str:
    """Callbacks not placed yet, soonest first, each with its promise in its queue's time."""
    parts = use(Parts)
    now, flow = parts.clock(), parts.flow
    rows = [
        {
            "record": record,
            "due": record.due_at <= now,
            "when": spoken_when(flow, record, now),
            "promised": record.promised_at.astimezone(flow.queue_hours(record.queue).zone),
        }
        for record in LiveReads(parts.call_store()).open_callbacks()
    ]
    return render_template("callbacks.html", rows=rows, me=user().name)


class _Refused(Exception):
    """An action the console refuses before asking the store, with the words to show."""


Change = Callable[[CallbackStore, CallbackRecord, datetime], object]


def _act(callback_id: str, what: str, done: str, change: Change) -> Response:
    """Apply ``change`` to the callback and say how it went; every refusal is flashed.

    Raises:
        werkzeug.exceptions.NotFound: no callback has that id.
    """
    parts = use(Parts)
    store = CallbackStore(parts.call_store(), RULES)
    record = store.get(callback_id)
    if record is None:
        abort(404, f"There is no callback {callback_id!r}.")
    try:
        change(store, record, parts.clock())
    except _Refused as refusal:
        return _back(str(refusal), "error")
    except CallbackError as error:
        log.info(
            "console callback action refused",
            extra={"callback_id": callback_id, "error": str(error)},
        )
        return _back(f"Could not {what}: {_why(store.get(callback_id))}", "error")
    return _back(done, "info")


def _back(message: str, category: str) -> Response:
    """To the queue, with ``message`` shown on it."""
    flash(message, category)
    return redirect(url_for("console.callbacks.queue"), code=303)


def _not_someone_elses(record: CallbackRecord, what: str) -> None:
    """Claimed by another agent, only they (or a supervisor) may cancel or move it."""
    me = user()
    if record.claimed_by not in (None, me.name) and not me.is_supervisor:
        raise _Refused(
            f"Could not {what}: {record.claimed_by} has claimed it (ask them, or a supervisor)."
        )


def _why(record: CallbackRecord | None) -> str:
    """Why a callback cannot be changed, in words."""
    if record is None:
        return "it no longer exists."
    if record.claimed_by:
        return f"{record.claimed_by} has claimed it."
    if record.status in (CallbackStatus.DIALING, CallbackStatus.CONNECTED):
        return "it is being placed right now."
    if record.lease_owner:
        return "a worker is placing it right now."
    return f"it is {record.status.replace('_', ' ')}."


@blueprint.post("/<callback_id>/claim")
def claim(callback_id: str) -> Response:
    """The agent takes it."""
    return _act(
        callback_id,
        "claim it",
        "Callback claimed: it is yours to handle; the worker will not place it.",
        lambda store, _, now: store.claim(callback_id, user().name, now),
    )


@blueprint.post("/<callback_id>/complete")
def complete(callback_id: str) -> Response:
    """The agent who took it finished."""
    outcome = request.form.get("outcome", "").strip()[:200] or "done"
    reached = request.form.get("reached") == "yes"
    return _act(
        callback_id,
        "complete it",
        "Callback completed.",
        lambda store, _, now: store.complete(
            callback_id, user().name, outcome, now, reached=reached
        ),
    )


@blueprint.post("/<callback_id>/unclaim")
def unclaim(callback_id: str) -> Response:
    """The agent gives it back."""
    return _act(
        callback_id,
        "give it back",
        "Callback given back: the worker places it when it is due.",
        lambda store, _, now: store.unclaim(callback_id, user().name, now),
    )


@blueprint.post("/<callback_id>/cancel")
def cancel(callback_id: str) -> Response:
    """Cancel it (an agent cannot cancel a callback another agent has claimed)."""

    def change(store: CallbackStore, record: CallbackRecord, now: datetime) -> object:
        _not_someone_elses(record, "cancel it")
        return store.cancel(callback_id, now, by=f"console:{user().name}")

    return _act(callback_id, "cancel it", "Callback cancelled.", change)


@blueprint.post("/<callback_id>/move")
def move(callback_id: str) -> Response:
    """Move it to a time given in words, read like a caller's, in its queue's hours."""
    when = request.form.get("when", "").strip()[:200]

    def change(store: CallbackStore, record: CallbackRecord, now: datetime) -> object:
        _not_someone_elses(record, "move it")
        flow = use(Parts).flow
        answer = read_time(flow, when, record.queue, flow.default_language, now) if when else None
        if answer is None or answer.at is None:
            raise _Refused(f"Could not read a future time in {when!r}: try 'tomorrow at 10am'.")
        return store.move(callback_id, answer.at, now, by=f"console:{user().name}")

    return _act(callback_id, "move it", "Callback moved.", change)
