"""Replies to the callback confirmation text: ``CANCEL``, or a new time in words.

    POST /twilio/sms   Twilio's incoming-message webhook (signed); answers with ``<Message>``

The reply acts on the sender's next waiting callback. A time is read like a caller's words
("tomorrow at 10am"), in the queue's time zone and snapped into its hours.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from ivr.callbacks.desk import read_time, sms_text, spoken_when
from ivr.store import StoreUnavailable
from ivr.store.callbacks import CallbackError
from ivr.web.services import Services

log = logging.getLogger(__name__)

_CANCEL = re.compile(r"^\s*(cancel|don'?t call|no thanks?)\b", re.IGNORECASE)


def register(app: Flask, services: Services) -> None:
    """Add the SMS webhook to ``app``."""

    def reply(text: str) -> Response:
        response = MessagingResponse()
        response.message(text)
        return Response(str(response), mimetype="text/xml")

    @app.post("/twilio/sms")
    def incoming_sms() -> Response:
        sender = request.form.get("From", "")
        body = request.form.get("Body", "").strip()
        flow, now = services.flow, services.clock()
        try:
            callbacks = services.desk.callbacks()
            waiting = callbacks.pending_for_number(sender)
        except StoreUnavailable as error:
            log.error("sms reply not handled: database down", extra={"error": str(error)})
            return reply("Sorry, we can't change your callback right now. Please call us.")
        if not waiting:
            return reply(f"{flow.name}: you have no callback booked with us.")
        booked = waiting[0]
        log_extra = {"callback_id": booked.id, "call_id": booked.call_id}
        try:
            if _CANCEL.match(body):
                callbacks.cancel(booked.id, now, by="sms")
                log.info("callback cancelled by sms", extra=log_extra)
                return reply(f"{flow.name}: your callback is cancelled. Call us any time.")
            language = booked.language or flow.default_language
            answer = read_time(flow, body, booked.queue, language, now)
            if answer.at is None:  # not a time: say again what the confirmation said
                return reply(sms_text(flow, booked, now))
            moved = callbacks.move(booked.id, answer.at, now, by="sms")
        except (StoreUnavailable, CallbackError) as error:
            log.warning("sms reply not applied", extra={**log_extra, "error": str(error)})
            return reply("Sorry, that callback can no longer be changed.")
        when = spoken_when(flow, moved, now)
        log.info("callback moved by sms", extra={**log_extra, "due_at": moved.due_at.isoformat()})
        return reply(f"{flow.name}: done, we'll call you back {when}.")
