"""The web app Twilio talks to: webhooks, the Media Streams socket, and a health check.

Routes (every ``/twilio/...`` one checks ``X-Twilio-Signature``; the stream included):

    POST /twilio/voice           a call arrives: open the stream (or apologise and transfer)
    WS   /twilio/media           the call's audio, both ways
    POST /twilio/connect-action  the stream closed: transfer, callback or goodbye
    POST /twilio/whisper         what the agent hears before being bridged (they answered)
    POST /twilio/dial-action     how the transfer went: done, the next agent, or a callback
    POST /twilio/status          call status callbacks (the call ended)
    GET  /healthz                ready when the flows are loaded and the NLU answers

Placed callbacks (``/twilio/callback/...``) are in :mod:`ivr.web.callback_calls`, text replies
(``/twilio/sms``) in :mod:`ivr.web.sms`, the JSON API (``/api/...``) in :mod:`ivr.web.api`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_sock import Sock  # type: ignore[import-untyped]

from ivr.call import next_step
from ivr.call.handover import Handover
from ivr.call.next_step import DialPerson, EndCall, NextStep, OfferCallback
from ivr.call.recorder import CallRecorder
from ivr.config import (
    DEVELOPMENT_API_TOKEN,
    DEVELOPMENT_AUTH_TOKEN,
    DEVELOPMENT_PUBLIC_URL,
    load_config,
)
from ivr.store import StoreUnavailable
from ivr.twilio.signature import TwilioSignature
from ivr.twilio import twiml
from ivr.web import api, callback_calls, sms
from ivr.web.media import serve_stream
from ivr.web.security import require_signatures
from ivr.web.services import Services, build_services

log = logging.getLogger(__name__)


class ConfigurationError(SystemExit):
    """The app cannot start with this configuration; the message says what to set."""


def check_config(config: Mapping[str, Any]) -> tuple[str, str]:
    """The public URL and auth token to use; refuses production without both.

    Raises:
        ConfigurationError: production mode without ``IVR_PUBLIC_URL`` (https) or
            ``TWILIO_AUTH_TOKEN``.
    """
    mode = str(config["MODE"])
    if mode not in ("development", "production"):
        raise ConfigurationError(f"IVR_MODE must be development or production, not {mode!r}")
    url = str(config["PUBLIC_URL"]).rstrip("/")
    token = str(config["TWILIO_AUTH_TOKEN"])
    if mode == "production":
        missing = [
            name
            for name, value in (("IVR_PUBLIC_URL", url), ("TWILIO_AUTH_TOKEN", token))
            if not value
        ]
        if missing:
            raise ConfigurationError(
                f"production mode needs {' and '.join(missing)}: IVR_PUBLIC_URL is the https "
                "address Twilio calls (e.g. https://ivr.example.com) and TWILIO_AUTH_TOKEN the "
                "account's primary auth token, which signs every request"
            )
        if not url.startswith("https://"):
            raise ConfigurationError(
                f"IVR_PUBLIC_URL must be https:// in production (Twilio streams only to wss), "
                f"not {url!r}"
            )
    if not url:
        url = DEVELOPMENT_PUBLIC_URL
    if not token:
        token = DEVELOPMENT_AUTH_TOKEN
        log.warning("TWILIO_AUTH_TOKEN not set: development token in use (ivr call signs with it)")
    return url, token


def create_app(config: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """The app, configured from ``config`` (default: :func:`ivr.config.load_config`)."""
    config = dict(config) if config is not None else load_config()
    base_url, token = check_config(config)
    services = services or build_services(config)
    services.warm_prompts()
    services.load_speech_model(int(config["ASR_WARM_RECOGNIZERS"]))
    services.watch_flows()
    urls = twiml.Urls(base_url)

    app = Flask(__name__)
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": None, "max_message_size": 1 << 20}
    app.extensions["ivr"] = services
    require_signatures(app, TwilioSignature(token), base_url)
    sock = Sock(app)

    def recorder(call_id: str) -> CallRecorder:
        return CallRecorder(services.store, call_id, services.clock)

    def xml(document: str) -> Response:
        return Response(document, mimetype="text/xml")

    def render(step: NextStep, call_id: str, language: str | None) -> Response:
        flow = services.flow
        match step:
            case DialPerson(number=number, queue=queue, apology=apology, agent=agent, tried=tried):
                recorder(call_id).person_rung()
                return xml(
                    twiml.apology_and_dial(
                        flow,
                        urls,
                        call_id=call_id,
                        number=number,
                        queue=queue,
                        language=language,
                        timeout=int(config["DIAL_TIMEOUT"]),
                        apology=apology,
                        agent=agent,
                        tried=tried,
                    )
                )
            case OfferCallback(queue=queue, reason=reason, prompts=prompts, converse=converse):
                recorder(call_id).event("callback_offered", {"queue": queue, "reason": reason})
                if converse and services.recognizers is not None:
                    return xml(twiml.stream(urls, offer_parameters(queue, reason, prompts)))
                # Our voice cannot book it: Twilio apologises, we book the earliest time.
                services.desk.book_earliest(call_id, request.form.get("From"), queue, reason)
                return xml(twiml.say_and_hang_up(flow, list(prompts), language))
            case EndCall(prompts=prompts):
                return xml(twiml.say_and_hang_up(flow, list(prompts), language))
        raise TypeError(f"not a next step: {step!r}")

    def offer_parameters(
        queue: str | None, reason: str, prompts: tuple[str, ...]
    ) -> dict[str, str]:
        return {
            "caller": request.form.get("From", ""),
            "called": request.form.get("To", ""),
            "offer_queue": queue or services.flow.escalation.person_queue,
            "offer_reason": reason,
            "offer_prompt": prompts[-1] if prompts else "",
        }

    @app.post("/twilio/voice")
    def incoming_call() -> Response:
        call_id = request.form.get("CallSid", "")
        caller, called = request.form.get("From"), request.form.get("To")
        failure = None
        try:
            services.call_store().call_started(
                call_id, caller=caller, called=called, started_at=services.clock()
            )
        except StoreUnavailable as error:
            failure = "database_unavailable"
            log.error(
                "database unavailable at call start",
                extra={"call_id": call_id, "error": str(error)},
            )
        if services.recognizers is None:
            failure = failure or "asr_unavailable"
            log.error("no speech model: apology and a person", extra={"call_id": call_id})
        if failure is not None:
            handover = Handover("transfer", failure, apologise=True, caller=caller)
            services.board.put(call_id, handover)
            step = next_step.after_stream(handover, services.staffing(), services.clock())
            return render(step, call_id, None)
        if request.form.get("CallerName"):  # Twilio's caller-name lookup, when enabled
            recorder(call_id).event("caller_name", {"name": request.form["CallerName"]})
        log.info("call answered", extra={"call_id": call_id, "caller": caller})
        return xml(twiml.stream(urls, {"caller": caller or "", "called": called or ""}))

    @sock.route("/twilio/media")
    def media(ws: Any) -> None:
        serve_stream(ws, services)

    @app.post("/twilio/connect-action")
    def after_stream() -> Response:
        call_id = request.form.get("CallSid", "")
        handover = services.handover(call_id)
        if handover is None:
            log.error("stream ended without a handover", extra={"call_id": call_id})
        caller = request.form.get("From")
        last = services.last_agent(caller, call_id) if caller else None
        step = next_step.after_stream(handover, services.staffing(), services.clock(), last)
        log.info("after stream", extra={"call_id": call_id, "next": type(step).__name__})
        return render(step, call_id, handover.language if handover else None)

    @app.post("/twilio/whisper")
    def whisper() -> Response:
        call_id = request.args.get("call", "")
        agent = request.args.get("agent") or request.form.get("To", "")
        recorder(call_id).person_answered(agent)
        handover = services.handover(call_id)
        return xml(twiml.whisper(services.context.whisper(call_id, handover)))

    @app.post("/twilio/dial-action")
    def after_dial() -> Response:
        call_id = request.form.get("CallSid", "")
        status = request.form.get("DialCallStatus", "")
        queue = request.args.get("queue") or None
        recorder(call_id).event(
            "dial",
            {"status": status, "queue": queue, "agent_call": request.form.get("DialCallSid")},
        )
        handover = services.handover(call_id)
        tried = tuple(a for a in request.args.get("tried", "").split(",") if a)
        step = next_step.after_dial(status, queue, services.staffing(), services.clock(), tried)
        return render(step, call_id, handover.language if handover else None)

    @app.post("/twilio/status")
    def call_status() -> Response:
        call_id = request.form.get("CallSid", "")
        status = request.form.get("CallStatus", "")
        try:
            services.call_store().call_ended(call_id, ended_at=services.clock(), status=status)
        except StoreUnavailable as error:
            log.warning("call end not stored", extra={"call_id": call_id, "error": str(error)})
        if status in ("completed", "busy", "failed", "no-answer", "canceled"):
            services.board.forget(call_id)
        return Response(status=204)

    callback_calls.register(app, services, urls, int(config["DIAL_TIMEOUT"]))
    sms.register(app, services)
    api.register(app, services, _api_token(config))

    @app.get("/healthz")
    def health() -> tuple[Response, int]:
        checks = _health(services)
        ready = checks["flows"] == "ok" and checks["nlu"] == "ok"
        return jsonify({"ready": ready, **checks}), 200 if ready else 503

    return app


def _api_token(config: Mapping[str, Any]) -> str | None:
    """The API's bearer token; development has a fixed one, production none unless set."""
    token = str(config["API_TOKEN"])
    if token:
        return token
    if config["MODE"] == "production":
        log.warning("IVR_API_TOKEN not set: the JSON API (/api/...) is disabled")
        return None
    return DEVELOPMENT_API_TOKEN


def _health(services: Services) -> dict[str, Any]:
    try:
        flow = services.flow
        flows = "ok"
    except Exception as error:  # the flows never loaded
        flow, flows = None, f"error: {error}"
    nlu = "ok" if services.nlu.is_ready() else "not ready"
    return {
        "flows": flows,
        "flow": flow.name if flow else None,
        "nlu": nlu,
        "nlu_url": services.nlu.url,
        "speech_model": str(services.recognizers.model_path) if services.recognizers else None,
        "database": _database_health(services),
        "prompts": "ready" if services.prompts_ready.is_set() else "warming",
        "speech": (
            "missing"
            if services.recognizers is None
            else "ready"
            if services.speech_ready.is_set()
            else "warming"
        ),
    }


def _database_health(services: Services) -> str:
    try:
        services.call_store().ping()
    except StoreUnavailable as error:
        return f"down: {error}"
    return "ok"
