"""The calls ``ivr worker`` places: what each side hears, and what Twilio reports back.

Agent first (the default): the agent's phone rings; on answer they hear who and why (the
whisper), then the customer is dialled and hears the opening ("This is Acme calling you back
about your bill") before the bridge. Customer first: the customer is rung with answering-machine
detection; a machine gets a short message (and the callback is retried), a person hears the
opening and an agent is dialled with the whisper.

The callback counts as *connected* when both sides are on the line, *done* when that call ends.

Routes (all signed by Twilio, ``?callback=<id>``):

    POST /twilio/callback/answer       the first leg answered: TwiML for it
    POST /twilio/callback/greet        the customer answered the agent's dial: the opening
    POST /twilio/callback/whisper      the agent answered the customer's dial: the context
    POST /twilio/callback/dial-action  how the second leg went
    POST /twilio/callback/status       the first leg's status callbacks
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from twilio.twiml.voice_response import Dial, VoiceResponse

from bot.flow.model import CallbackMode, Flow
from ivr.call.context import spell_number
from ivr.store import StoreUnavailable
from ivr.store.callbacks import CallbackRecord, CallbackStatus
from ivr.twilio import twiml
from ivr.web.services import Services

log = logging.getLogger(__name__)

#: Twilio ``AnsweredBy`` values that mean a machine (or a fax) took the call.
MACHINE = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
#: A first leg's final ``CallStatus`` that is an attempt's failure.
LEG_FAILURES: Mapping[str, CallbackStatus] = {
    "no-answer": CallbackStatus.NO_ANSWER,
    "busy": CallbackStatus.BUSY,
    "failed": CallbackStatus.FAILED,
    "canceled": CallbackStatus.FAILED,
}


def about(flow: Flow, record: CallbackRecord) -> str:
    """What the callback is about, in the callback's language ("your bill")."""
    queue = flow.queues.get(record.queue)
    return flow.in_language(queue.label if queue else {}, record.language) or "your call"


def opening(flow: Flow, record: CallbackRecord) -> tuple[str, str]:
    """What the customer hears first, and its language."""
    return twiml.prompt_text(flow, "callback_opening", record.language, about=about(flow, record))


def machine_message(flow: Flow, record: CallbackRecord) -> tuple[str, str]:
    """The short message an answering machine gets."""
    return twiml.prompt_text(flow, "callback_machine", record.language, about=about(flow, record))


def agent_whisper(flow: Flow, record: CallbackRecord) -> str:
    """What the agent hears before the customer joins (English, like every whisper)."""
    context = record.context
    summary = str(context.get("summary") or f"Booked because of {record.reason}.")
    promised = record.promised_at.astimezone(flow.queue_hours(record.queue).zone)
    return (
        f"Callback to {spell_number(record.number)}, about {about(flow, record)}, "
        f"promised for {promised:%H:%M}. {summary}"
    )


def register(app: Flask, services: Services, urls: twiml.Urls, dial_timeout: int) -> None:
    """Add the callback routes to ``app``."""

    def xml(response: VoiceResponse) -> Response:
        return Response(str(response), mimetype="text/xml")

    def callback() -> CallbackRecord | None:
        callback_id = request.args.get("callback", "")
        try:
            return services.desk.callbacks().get(callback_id)
        except StoreUnavailable as error:
            log.error("callback not read", extra={"callback_id": callback_id, "error": str(error)})
            return None

    def outcome(record: CallbackRecord, status: CallbackStatus, **detail: Any) -> None:
        try:
            services.desk.callbacks().record_outcome(
                record.id, status, services.clock(), detail, sid=record.dial_sid
            )
        except StoreUnavailable as error:
            log.error(
                "callback outcome not stored",
                extra={"callback_id": record.id, "outcome": str(status), "error": str(error)},
            )
        log.info("callback outcome", extra={"callback_id": record.id, "outcome": str(status)})

    def sorry_and_hang_up(
        text: str = "Sorry, this callback can no longer be connected.",
    ) -> Response:
        response = VoiceResponse()
        response.say(text, language=twiml.SAY_LANGUAGES["en"])
        response.hangup()
        return xml(response)

    @app.post("/twilio/callback/answer")
    def callback_answered() -> Response:
        record = callback()
        if record is None:
            return sorry_and_hang_up()
        flow = services.flow
        response = VoiceResponse()
        dial = Dial(
            action=urls.callback("dial-action", record.id),
            method="POST",
            timeout=dial_timeout,
            caller_id=record.from_number or None,
        )
        if record.mode == CallbackMode.CUSTOMER_FIRST:
            if request.form.get("AnsweredBy", "") in MACHINE:
                twiml.say(response, *machine_message(flow, record))
                response.hangup()
                outcome(record, CallbackStatus.MACHINE, answered_by=request.form["AnsweredBy"])
                return xml(response)
            agent = services.staffing().first(record.queue, services.clock())
            if agent is None:
                outcome(record, CallbackStatus.FAILED, why="no_agent_on_shift")
                twiml.say(response, *twiml.prompt_text(flow, "no_agent", record.language))
                response.hangup()
                return xml(response)
            twiml.say(response, *opening(flow, record))
            twiml.ring(dial, agent.address, urls.callback("whisper", record.id, agent=agent.agent))
        else:
            response.say(agent_whisper(flow, record), language=twiml.SAY_LANGUAGES["en"])
            twiml.ring(dial, record.number, urls.callback("greet", record.id))
        response.append(dial)
        return xml(response)

    @app.post("/twilio/callback/greet")
    def customer_answered() -> Response:
        record = callback()
        if record is None:
            return sorry_and_hang_up()
        outcome(record, CallbackStatus.CONNECTED, leg="customer")
        response = VoiceResponse()
        twiml.say(response, *opening(services.flow, record))
        return xml(response)

    @app.post("/twilio/callback/whisper")
    def agent_answered() -> Response:
        record = callback()
        if record is None:
            return sorry_and_hang_up()
        outcome(record, CallbackStatus.CONNECTED, leg="agent", agent=request.args.get("agent"))
        response = VoiceResponse()
        response.say(agent_whisper(services.flow, record), language=twiml.SAY_LANGUAGES["en"])
        return xml(response)

    @app.post("/twilio/callback/dial-action")
    def second_leg_done() -> Response:
        record = callback()
        response = VoiceResponse()
        if record is None:
            response.hangup()
            return xml(response)
        status = request.form.get("DialCallStatus", "")
        if status in ("completed", "answered"):
            outcome(record, CallbackStatus.DONE, second_leg=status)
        else:
            outcome(record, LEG_FAILURES.get(status, CallbackStatus.FAILED), second_leg=status)
            if record.mode == CallbackMode.CUSTOMER_FIRST:
                twiml.say(response, *twiml.prompt_text(services.flow, "no_agent", record.language))
            else:
                response.say(
                    "The customer did not answer. The callback will be tried again.",
                    language=twiml.SAY_LANGUAGES["en"],
                )
        response.hangup()
        return xml(response)

    @app.post("/twilio/callback/status")
    def first_leg_status() -> Response:
        record = callback()
        status = request.form.get("CallStatus", "")
        if record is None:
            return Response(status=204)
        if status in LEG_FAILURES:
            outcome(record, LEG_FAILURES[status], first_leg=status)
        elif status == "completed":
            current = record.status
            if current == CallbackStatus.CONNECTED:
                outcome(record, CallbackStatus.DONE, first_leg=status)
            elif current == CallbackStatus.DIALING:
                # Answered, but the two sides were never bridged (someone hung up early).
                outcome(record, CallbackStatus.FAILED, first_leg=status, why="not_bridged")
        return Response(status=204)
