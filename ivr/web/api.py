"""The JSON API for agents' tools and admins: call context and callbacks. Bearer token auth.

    GET    /api/calls/<id>/context   what the agent should know (transcript, slots, history)
    GET    /api/callbacks            callbacks by due time (?status=scheduled&limit=50)
    POST   /api/callbacks            book one: {"number", "queue", "when" | "due_at", "reason"}
    GET    /api/callbacks/<id>       one callback with its life cycle
    PATCH  /api/callbacks/<id>       move it: {"when": "tomorrow at 10am"} or {"due_at": ISO}
    DELETE /api/callbacks/<id>       cancel it

Times given in words are resolved like a caller's ("tomorrow after three") in the queue's time
zone and snapped into its hours; ``due_at`` is taken as given (it must carry an offset).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from bot.engine.actions import ScheduleCallback
from bot.flow.people import PHONE
from ivr.call.context import CallContext
from ivr.call.switchboard import Switchboard
from ivr.callbacks.desk import CallbackDesk
from ivr.callbacks.texts import read_time
from ivr.parts import Parts
from ivr.store import (
    CallbackNotFound,
    CallbackRecord,
    CallbackStateError,
    CallbackStatus,
    StoreUnavailable,
)
from ivr.wiring import provide, use

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An API request we refuse: ``status`` and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


blueprint = Blueprint("api", __name__, url_prefix="/api")


class ApiToken(str):
    """The bearer token the API takes (an empty one: the API is disabled)."""


def init_app(app: Flask, token: str | None) -> None:
    """Serve the API on ``app``; ``token`` is the bearer token (``None``: the API is disabled)."""
    provide(app, ApiToken(token or ""))
    app.register_blueprint(blueprint)


@blueprint.before_request
def authenticate() -> tuple[Response, int] | None:
    """Only the bearer token opens the API (not a Twilio signature, not a console session)."""
    token = str(use(ApiToken))
    if not token:
        return jsonify(error="the API is disabled: set IVR_API_TOKEN"), 403
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = jsonify(error="a valid 'Authorization: Bearer <IVR_API_TOKEN>' is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="ivr"'
        return response, 401
    return None


@blueprint.errorhandler(ApiError)
def refused(error: ApiError) -> tuple[Response, int]:
    """A request we refuse: its status and why."""
    return jsonify(error=error.message), error.status


@blueprint.errorhandler(StoreUnavailable)
def database_down(error: StoreUnavailable) -> tuple[Response, int]:
    """The database is down: 503, try again."""
    log.error("api: database unavailable", extra={"error": str(error)})
    return jsonify(error="the database is unavailable; try again shortly"), 503


@blueprint.get("/calls/<call_id>/context")
def call_context(call_id: str) -> Response:
    """What the agent should know about a call."""
    handover = use(Switchboard).handover(call_id)
    context = use(CallContext).as_json(call_id, handover)
    if context is None:
        raise ApiError(404, f"no call {call_id}")
    return jsonify(context)


@blueprint.get("/callbacks")
def list_callbacks() -> Response:
    """Callbacks by due time, of one status or all."""
    status = request.args.get("status") or None
    if status is not None and status not in set(CallbackStatus):
        raise ApiError(400, f"status must be one of {', '.join(CallbackStatus)}")
    limit = _int(request.args.get("limit", "50"), "limit")
    found = (
        use(CallbackDesk).callbacks().list(CallbackStatus(status) if status else None, limit=limit)
    )
    return jsonify(callbacks=[callback_json(record) for record in found])


@blueprint.post("/callbacks")
def book_callback() -> tuple[Response, int]:
    """Book a callback."""
    body = _body()
    number = str(body.get("number") or "")
    if not PHONE.match(number):
        raise ApiError(400, "'number' must be an E.164 number like +447700900123")
    flow = use(Parts).flow
    queue = str(body.get("queue") or flow.escalation.person_queue)
    if flow.queues and queue not in flow.queues:
        raise ApiError(400, f"unknown queue {queue!r}")
    due = _due(body, queue)
    action = ScheduleCallback(str(body.get("reason") or "api"), queue, at=due.isoformat())
    record = use(CallbackDesk).book(
        action, call_id=None, caller=number, called=None, language=flow.default_language
    )
    if record is None:  # logged by the desk with everything needed to book it by hand
        raise ApiError(503, "the callback could not be stored; try again shortly")
    return jsonify(callback_json(record)), 201


@blueprint.get("/callbacks/<callback_id>")
def get_callback(callback_id: str) -> Response:
    """One callback with its life cycle."""
    record = use(CallbackDesk).callbacks().get(callback_id)
    if record is None:
        raise ApiError(404, f"no callback {callback_id}")
    return jsonify(callback_json(record))


@blueprint.patch("/callbacks/<callback_id>")
def move_callback(callback_id: str) -> Response:
    """Move a waiting callback to another time."""
    store = use(CallbackDesk).callbacks()
    record = store.get(callback_id)
    if record is None:
        raise ApiError(404, f"no callback {callback_id}")
    due = _due(_body(), record.queue)
    try:
        store.move(callback_id, due, use(Parts).clock(), by="api")
    except CallbackStateError as error:
        raise ApiError(409, str(error)) from None
    return jsonify(callback_json(store.get(callback_id) or record))


@blueprint.delete("/callbacks/<callback_id>")
def cancel_callback(callback_id: str) -> Response:
    """Cancel a waiting callback."""
    store = use(CallbackDesk).callbacks()
    try:
        cancelled = store.cancel(callback_id, use(Parts).clock(), by="api")
    except CallbackNotFound:
        raise ApiError(404, f"no callback {callback_id}") from None
    except CallbackStateError as error:
        raise ApiError(409, str(error)) from None
    return jsonify(callback_json(store.get(callback_id) or cancelled))


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _int(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"'{name}' must be a whole number") from None
    if not 0 <= value <= 1000:
        raise ApiError(400, f"'{name}' must be between 0 and 1000")
    return value


def _due(body: dict[str, Any], queue: str) -> datetime:
    """The moment a request asks for: ``due_at`` (ISO with offset) or ``when`` (words)."""
    now = use(Parts).clock()
    if body.get("due_at"):
        try:
            due = datetime.fromisoformat(str(body["due_at"]))
        except ValueError:
            raise ApiError(
                400, "'due_at' must be ISO 8601, e.g. 2026-11-24T15:00:00+00:00"
            ) from None
        if due.tzinfo is None:
            raise ApiError(400, "'due_at' needs a UTC offset, e.g. 2026-11-24T15:00:00+00:00")
        if due <= now:
            raise ApiError(400, "'due_at' is in the past")
        return due
    when = str(body.get("when") or "")
    if not when:
        raise ApiError(400, "give 'when' (words, e.g. 'tomorrow at 10am') or 'due_at' (ISO 8601)")
    flow = use(Parts).flow
    answer = read_time(flow, when, queue, flow.default_language, now)
    if answer.at is None:
        raise ApiError(400, f"could not read a future time in {when!r}")
    return answer.at


def callback_json(record: CallbackRecord) -> dict[str, Any]:
    """A callback as the API shows it."""
    return {
        "id": record.id,
        "call_id": record.call_id,
        "queue": record.queue,
        "reason": record.reason,
        "number": record.number,
        "status": str(record.status),
        "due_at": record.due_at.isoformat(),
        "promised_at": record.promised_at.isoformat(),
        "mode": record.mode,
        "attempts": record.attempts,
        "max_attempts": record.max_attempts,
        "on_time": record.on_time,
        "transitions": [
            {
                "at": t.at.isoformat(),
                "status": str(t.status),
                "event": t.event,
                "detail": dict(t.detail),
            }
            for t in record.transitions
        ],
    }
