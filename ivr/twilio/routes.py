"""The Twilio surface of the app: every route Twilio requests, behind one signature check.

``init_app`` registers the ``twilio`` blueprint (``/twilio/...``) holding the voice webhooks,
the Media Streams socket, the placed-callback webhooks and the SMS webhook. The check runs in
the blueprint's ``before_request`` because the socket route (:mod:`ivr.twilio.websocket`)
completes the WebSocket handshake before a route's own code runs: this is the only place a bad
handshake can still get a 403. A console session or the API's token means nothing here; only
Twilio's signature opens these routes, and the Media Streams socket also opens to a browser
phone pass (:mod:`ivr.stream_tokens`) when this process runs the browser phone: the same route,
the same protocol, the same pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, g, request

from ivr.stream_tokens import PASS_PARAMETER, StreamPasses
from ivr.twilio import forms, placed, sms, stream, voice
from ivr.twilio.signature import SIGNATURE_HEADER, TwilioSignature, public_url
from ivr.twilio.urls import PublicUrls
from ivr.wiring import maybe_use, provide, use

log = logging.getLogger(__name__)

blueprint = Blueprint("twilio", __name__, url_prefix="/twilio")
blueprint.register_blueprint(voice.blueprint)
blueprint.register_blueprint(stream.blueprint)
blueprint.register_blueprint(placed.blueprint)
blueprint.register_blueprint(sms.blueprint)


@dataclass(frozen=True)
class TwilioAccount:
    """What the signature check needs: the auth token's signer and our public address."""

    signature: TwilioSignature
    public_url: str


def init_app(app: Flask, public_url_base: str, auth_token: str) -> None:
    """Serve Twilio's routes on ``app``; requests must be signed with ``auth_token``."""
    provide(app, TwilioAccount(TwilioSignature(auth_token), public_url_base.rstrip("/")))
    app.register_blueprint(blueprint)
    provide(app, PublicUrls(app, public_url_base))


@blueprint.before_request
def check_signature() -> Response | None:
    """Answer 403 to any request whose signature does not match."""
    account = use(TwilioAccount)
    is_stream = request.endpoint == voice.STREAM
    if is_stream and _browser_phone_pass():
        return None
    url = public_url(account.public_url, request.full_path, "wss" if is_stream else None)
    params = request.form if request.method == "POST" and not is_stream else None
    if account.signature.is_valid(url, params, request.headers.get(SIGNATURE_HEADER)):
        return None
    log.warning(
        "unsigned or wrongly signed request refused",
        extra={
            "path": request.path,
            "call_id": forms.call_id_of(request.values),
            "signed_url": url,
            "remote": request.remote_addr,
        },
    )
    return Response("invalid Twilio signature\n", status=403, mimetype="text/plain")


def _browser_phone_pass() -> bool:
    """Whether the socket is opened with a valid browser-phone pass (bound to its call)."""
    passes = maybe_use(StreamPasses)
    token = request.args.get(PASS_PARAMETER)
    call_id = passes.admit(token) if passes is not None and token else None
    if call_id is None:
        return False
    g.stream_call_id = call_id  # the stream's start must name this call
    return True
