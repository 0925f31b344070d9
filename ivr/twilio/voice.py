"""The voice webhooks of an incoming call: answer, after the stream, whisper, transfer, status.

    POST /twilio/voice           a call arrives: open the stream (or apologise and transfer)
    POST /twilio/connect-action  the stream closed: transfer, callback or goodbye
    POST /twilio/whisper         what the agent hears before being bridged (they answered)
    POST /twilio/dial-action     how the transfer went: done, the next agent, or a callback
    POST /twilio/status          call status callbacks (the call ended)

Each handler translates the form (:mod:`ivr.twilio.forms`), asks the switchboard, and renders
the route it answers with as TwiML.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ivr.call.switchboard import Goodbye, Route, Switchboard, ToBot, ToPerson
from ivr.twilio import forms, twiml
from ivr.twilio.urls import PublicUrls
from ivr.wiring import use

blueprint = Blueprint("voice", __name__)

#: Endpoint names (for :class:`~ivr.twilio.urls.PublicUrls`).
AFTER_STREAM = "twilio.voice.after_stream"
WHISPER = "twilio.voice.whisper"
AFTER_DIAL = "twilio.voice.after_dial"
STREAM = "twilio.stream.media"


@blueprint.post("/voice")
def incoming_call() -> Response:
    """A call arrived."""
    return render(use(Switchboard).arrived(forms.call_arrived(request.form)))


@blueprint.post("/connect-action")
def after_stream() -> Response:
    """The bot's stream closed."""
    return render(use(Switchboard).stream_ended(forms.stream_ended(request.form)))


@blueprint.post("/whisper")
def whisper() -> Response:
    """The person answered: they hear who is calling and why."""
    event = forms.person_answered(request.form, request.args)
    return xml(twiml.speak(use(Switchboard).person_answered(event)))


@blueprint.post("/dial-action")
def after_dial() -> Response:
    """Ringing people for a transfer ended."""
    return render(use(Switchboard).dial_ended(forms.dial_ended(request.form, request.args)))


@blueprint.post("/status")
def call_status() -> Response:
    """The call's status changed."""
    event = forms.status_changed(request.form)
    if event is not None:
        use(Switchboard).status_changed(event)
    return Response(status=204)


def render(route: Route) -> Response:
    """The TwiML for ``route``, with our routes' public URLs."""
    urls = use(PublicUrls)
    match route:
        case ToBot(parameters=parameters):
            return xml(twiml.stream(urls.socket(STREAM), urls(AFTER_STREAM), parameters))
        case ToPerson():
            tried = ",".join(route.tried) or None
            dial_action = urls(AFTER_DIAL, queue=route.queue or "", tried=tried)
            return xml(
                twiml.to_person(
                    route, dial_action, urls(WHISPER, call=route.call_id, agent=route.agent)
                )
            )
        case Goodbye():
            return xml(twiml.goodbye(route))
    raise TypeError(f"not a route: {route!r}")


def xml(document: str) -> Response:
    """A TwiML answer."""
    return Response(document, mimetype="text/xml")
