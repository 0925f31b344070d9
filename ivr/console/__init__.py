"""The agent console and the supervisor's dashboard, at ``/console``.

    /console/login, /logout          accounts (:mod:`~ivr.console.auth`)
    /console/                        an agent's home: presence, live calls, the phone ringing
    /console/calls/<id>              the call page: who, what was said, why, notes
    /console/callbacks               the callback queue: claim, complete, cancel, move
    /console/dashboard, /wall        supervisors: figures over a period, the real-time view
    /console/events/...              server-sent events that keep the pages live

Every page needs a log-in (a session cookie; never a Twilio signature or the API's token) and
every form or state change a CSRF token; supervisors' pages refuse agents (403).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Flask, Response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ivr.console import agent, auth, callbacks, calls, dashboard, events
from ivr.console.users import login_manager
from ivr.parts import Parts
from ivr.wiring import use

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
for part in (auth, agent, calls, callbacks, dashboard, events):
    blueprint.register_blueprint(part.blueprint)

csrf = CSRFProtect()

#: What a console page may load: only this server (no CDN), no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PUBLIC_ENDPOINTS = frozenset({"console.auth.login", "console.static"})


def init_app(
    app: Flask,
    secret_key: str,
    *,
    secure_cookies: bool,
    session_hours: int,
    cookie_path: str = "/console",
) -> None:
    """Serve the console on ``app``; ``secret_key`` signs its session cookies.

    ``cookie_path``: where the log-in is sent; wider than the console when another page
    needs it (the browser phone in production).
    """
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="ivr_console",
        SESSION_COOKIE_PATH=cookie_path,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours),
        SESSION_REFRESH_EACH_REQUEST=False,  # a log-in lasts session_hours, however busy
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's requests carry a token
        WTF_CSRF_TIME_LIMIT=None,  # the session bounds it
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(blueprint)


@blueprint.before_request
def guard() -> Response | None:
    """A session for every page but the log-in form; a CSRF token for every state change."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    response: Response = login_manager.unauthorized()
    return response


@blueprint.context_processor
def flow_problems() -> dict[str, tuple[str, ...]]:
    """The problems of a refused flow edit, for the banner every page shows until it is fixed."""
    return {"refused_flow": use(Parts).flows.refused}


@blueprint.after_request
def headers(response: Response) -> Response:
    """Keep the pages to this server and out of caches and frames."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@blueprint.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> tuple[str, int]:
    """A form without (or with a stale) CSRF token: refused, and said so."""
    log.warning("console request without a valid CSRF token", extra={"path": request.path})
    return render_template("error.html", code=400, message=f"Refused: {error.description} "
                           "Reload the page and try again."), 400  # fmt: skip


@blueprint.errorhandler(HTTPException)
def page_error(error: HTTPException) -> tuple[str, int]:
    """403, 404 and the like as a page with the way back."""
    code = error.code or 500
    return render_template("error.html", code=code, message=error.description), code
