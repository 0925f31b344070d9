"""Every Twilio request is signed; we check each one, the stream handshake included.

The check runs in ``before_request`` because flask-sock completes the WebSocket handshake
before a route's own code runs: this is the only place a bad handshake can still get a 403.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from ivr.twilio.signature import SIGNATURE_HEADER, TwilioSignature, public_url

log = logging.getLogger(__name__)

#: Paths Twilio requests; everything under it must carry a valid signature.
TWILIO_PREFIX = "/twilio/"
STREAM_PATH = "/twilio/media"


def require_signatures(app: Flask, signature: TwilioSignature, base_url: str) -> None:
    """Answer 403 to any request under ``/twilio/`` whose signature does not match."""

    @app.before_request
    def check_signature() -> Response | None:
        if not request.path.startswith(TWILIO_PREFIX):
            return None
        is_stream = request.path == STREAM_PATH
        url = public_url(base_url, request.full_path, "wss" if is_stream else None)
        params = request.form if request.method == "POST" and not is_stream else None
        if signature.is_valid(url, params, request.headers.get(SIGNATURE_HEADER)):
            return None
        log.warning(
            "unsigned or wrongly signed request refused",
            extra={
                "path": request.path,
                "call_id": request.values.get("CallSid"),
                "signed_url": url,
                "remote": request.remote_addr,
            },
        )
        return Response("invalid Twilio signature\n", status=403, mimetype="text/plain")
