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

from flask import Flask, Response, jsonify, request

from bot.engine.actions import ScheduleCallback
from bot.flow.people import PHONE
from ivr.callbacks.desk import callback_json, read_time
from ivr.store import StoreUnavailable
from ivr.store.callbacks import CallbackNotFound, CallbackStateError, CallbackStatus
from ivr.web.services import Services

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An API request we refuse: ``status`` and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def register(app: Flask, services: Services, token: str | None) -> None:
    """Add the API routes to ``app``; ``token`` is the bearer token (``None``: API disabled)."""

    @app.before_request
    def authenticate() -> tuple[Response, int] | None:
        if not request.path.startswith("/api/"):
            return None
        if token is None:
            return jsonify(error="the API is disabled: set IVR_API_TOKEN"), 403
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = jsonify(error="a valid 'Authorization: Bearer <IVR_API_TOKEN>' is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="ivr"'
            return response, 401
        return None

    @app.errorhandler(ApiError)
    def refused(error: ApiError) -> tuple[Response, int]:
        return jsonify(error=error.message), error.status

    @app.errorhandler(StoreUnavailable)
    def database_down(error: StoreUnavailable) -> tuple[Response, int]:
        log.error("api: database unavailable", extra={"error": str(error)})
        return jsonify(error="the database is unavailable; try again shortly"), 503

    @app.get("/api/calls/<call_id>/context")
    def call_context(call_id: str) -> Response:
        context = services.context.as_json(call_id, services.handover(call_id))
        if context is None:
            raise ApiError(404, f"no call {call_id}")
        return jsonify(context)

    @app.get("/api/callbacks")
    def list_callbacks() -> Response:
        status = request.args.get("status") or None
        if status is not None and status not in set(CallbackStatus):
            raise ApiError(400, f"status must be one of {', '.join(CallbackStatus)}")
        limit = _int(request.args.get("limit", "50"), "limit")
        found = services.desk.callbacks().list(
            CallbackStatus(status) if status else None, limit=limit
        )
        return jsonify(callbacks=[callback_json(record) for record in found])

    @app.post("/api/callbacks")
    def book_callback() -> tuple[Response, int]:
        body = _body()
        number = str(body.get("number") or "")
        if not PHONE.match(number):
            raise ApiError(400, "'number' must be an E.164 number like +447700900123")
        flow = services.flow
        queue = str(body.get("queue") or flow.escalation.person_queue)
        if flow.queues and queue not in flow.queues:
            raise ApiError(400, f"unknown queue {queue!r}")
        due = _due(services, body, queue)
        action = ScheduleCallback(str(body.get("reason") or "api"), queue, at=due.isoformat())
        record = services.desk.book(
            action, call_id=None, caller=number, called=None, language=flow.default_language
        )
        if record is None:  # logged by the desk with everything needed to book it by hand
            raise ApiError(503, "the callback could not be stored; try again shortly")
        return jsonify(callback_json(record)), 201

    @app.get("/api/callbacks/<callback_id>")
    def get_callback(callback_id: str) -> Response:
        record = services.desk.callbacks().get(callback_id)
        if record is None:
            raise ApiError(404, f"no callback {callback_id}")
        return jsonify(callback_json(record))

    @app.patch("/api/callbacks/<callback_id>")
    def move_callback(callback_id: str) -> Response:
        store = services.desk.callbacks()
        record = store.get(callback_id)
        if record is None:
            raise ApiError(404, f"no callback {callback_id}")
        due = _due(services, _body(), record.queue)
        try:
            store.move(callback_id, due, services.clock(), by="api")
        except CallbackStateError as error:
            raise ApiError(409, str(error)) from None
        return jsonify(callback_json(store.get(callback_id) or record))

    @app.delete("/api/callbacks/<callback_id>")
    def cancel_callback(callback_id: str) -> Response:
        store = services.desk.callbacks()
        try:
            cancelled = store.cancel(callback_id, services.clock(), by="api")
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


def _due(services: Services, body: dict[str, Any], queue: str) -> datetime:
    """The moment a request asks for: ``due_at`` (ISO with offset) or ``when`` (words)."""
    now = services.clock()
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
    flow = services.flow
    answer = read_time(flow, when, queue, flow.default_language, now)
    if answer.at is None:
        raise ApiError(400, f"could not read a future time in {when!r}")
    return answer.at
