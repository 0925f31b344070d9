"""The browser phone at ``/simulator``: talk to the line from a browser, no phone, no Twilio.

    GET  /simulator                        the page: call, keypad, typed lines, the live view
    POST /simulator/calls                  place a call (caller's number, clock offset, agents)
    GET  /simulator/calls/<id>/events      the call as it happens (server-sent events)
    POST /simulator/calls/<id>/typed       a typed line, as if said
    POST /simulator/calls/<id>/stream-ended, /hangup    the page's socket closed, hang up
    GET  /simulator/status                 the flows (a refused edit), the NLU, speech

The page speaks the Media Streams protocol to the very socket Twilio uses
(``/twilio/media``), opened with a short-lived pass (:mod:`ivr.stream_tokens`) instead of
Twilio's signature; what happens around the stream is Twilio's part, run by the emulator
(:mod:`ivr.browser_phone.network`). On in development; in production only when an admin sets
``IVR_SIMULATOR=on``, and then behind a supervisor's console log-in.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from flask_login import current_user

from ivr.browser_phone import pages
from ivr.stream_tokens import StreamPasses
from ivr.wiring import provide

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "simulator",
    __name__,
    url_prefix="/simulator",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
blueprint.register_blueprint(pages.blueprint)

#: What the page may load: this server only (its socket included), the microphone, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def init_app(app: Flask, secret_key: str, *, needs_log_in: bool) -> None:
    """Serve the browser phone on ``app``; ``secret_key`` signs its stream passes."""
    from ivr.browser_phone.network import BrowserCalls
    from ivr.parts import Parts

    parts = app.extensions["ivr.parts"][Parts]
    passes = StreamPasses(secret_key)
    calls = BrowserCalls(passes, parts.calls.publisher, lambda c: parts.calls.find(c) is not None)
    provide(app, passes, calls, pages.Waiting())
    app.config["SIMULATOR_NEEDS_LOG_IN"] = needs_log_in
    public = urlsplit(str(parts.config["PUBLIC_URL"])).netloc
    app.config["SIMULATOR_ORIGINS"] = {public} if public else set()  # behind a proxy
    app.register_blueprint(blueprint)


@blueprint.before_request
def guard() -> tuple[dict[str, str], int] | None:
    """State changes only as JSON from this origin; in production, a supervisor's log-in.

    JSON bodies and the ``Origin`` check stop cross-site requests (a form cannot send JSON, and
    a script from elsewhere is named by its origin): the console's CSRF token lives in a
    session cookie the phone's pages do not get in development.
    """
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.mimetype != "application/json":
            return {"error": "send JSON (Content-Type: application/json)"}, 415
        origin = request.headers.get("Origin")
        ours = {request.host, *current_app.config["SIMULATOR_ORIGINS"]}
        if origin and urlsplit(origin).netloc not in ours:
            return {"error": f"refused: a request from {origin[:80]}"}, 403
    if not current_app.config["SIMULATOR_NEEDS_LOG_IN"] or request.endpoint == "simulator.static":
        return None
    if current_user.is_authenticated and current_user.is_supervisor:
        return None
    return {"error": "the browser phone needs a supervisor's console log-in"}, 403


@blueprint.after_request
def headers(response: Response) -> Response:
    """Keep the page to this server and out of frames."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Permissions-Policy", "microphone=(self)")
    if request.endpoint != "simulator.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
