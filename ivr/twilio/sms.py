"""Replies to the callback confirmation text.

POST /twilio/sms   Twilio's incoming-message webhook (signed); answers with ``<Message>``
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ivr.callbacks.replies import TextReplies
from ivr.twilio import forms, twiml
from ivr.wiring import use

blueprint = Blueprint("sms", __name__)


@blueprint.post("/sms")
def incoming_sms() -> Response:
    """A text came in: cancel or move the sender's callback, and say so."""
    event = forms.text_received(request.form)
    answer = use(TextReplies).answer(event.sender, event.body)
    return Response(twiml.message(answer), mimetype="text/xml")
