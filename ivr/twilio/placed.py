"""The webhooks of the callbacks ``ivr worker`` places (all signed, ``?callback=<id>``).

    POST /twilio/callback/answer       the first leg answered: what it hears, whom it rings
    POST /twilio/callback/greet        the customer answered the agent's dial: the opening
    POST /twilio/callback/whisper      the agent answered the customer's dial: the context
    POST /twilio/callback/dial-action  how the second leg went
    POST /twilio/callback/status       the first leg's status callbacks

What each side hears and what it leads to is decided by
:class:`~ivr.callbacks.placed.PlacedCallbacks`; this module translates and renders.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ivr.callbacks.placed import LegPlan, PlacedCallbacks
from ivr.twilio import forms, twiml
from ivr.twilio.urls import PublicUrls
from ivr.twilio.voice import xml
from ivr.wiring import use

blueprint = Blueprint("placed", __name__, url_prefix="/callback")

#: Endpoint names (the worker's requests name the first two).
ANSWER = "twilio.placed.answer"
STATUS = "twilio.placed.status"
GREET = "twilio.placed.greet"
WHISPER = "twilio.placed.whisper"
DIAL_ACTION = "twilio.placed.dial_action"


@blueprint.post("/answer")
def answer() -> Response:
    """The first leg answered."""
    plan = use(PlacedCallbacks).first_leg_answered(forms.leg_answered(request.form, request.args))
    return render(plan, request.args.get("callback", ""))


@blueprint.post("/greet")
def greet() -> Response:
    """The customer answered (agent first)."""
    plan = use(PlacedCallbacks).second_leg_answered(forms.customer_answered(request.args))
    return render(plan, request.args.get("callback", ""))


@blueprint.post("/whisper")
def whisper() -> Response:
    """The agent answered (customer first)."""
    plan = use(PlacedCallbacks).second_leg_answered(forms.agent_answered(request.args))
    return render(plan, request.args.get("callback", ""))


@blueprint.post("/dial-action")
def dial_action() -> Response:
    """Ringing the second leg ended."""
    event = forms.second_leg_ended(request.form, request.args)
    return render(use(PlacedCallbacks).second_leg_ended(event), event.callback_id)


@blueprint.post("/status")
def status() -> Response:
    """The first leg's status changed."""
    event = forms.leg_status_changed(request.form, request.args)
    if event is not None:
        use(PlacedCallbacks).first_leg_status(event)
    return Response(status=204)


def render(plan: LegPlan, callback_id: str) -> Response:
    """The TwiML of ``plan``, ringing the next leg with the right greeting on answer."""
    urls = use(PublicUrls)
    if plan.ring_kind == "agent":
        answered = urls(WHISPER, callback=callback_id, agent=plan.ring_agent)
    else:
        answered = urls(GREET, callback=callback_id)
    return xml(twiml.leg(plan, urls(DIAL_ACTION, callback=callback_id), answered))
