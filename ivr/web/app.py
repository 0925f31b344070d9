"""The web app: Twilio's routes, the JSON API and the health check, on the process's parts.

    /twilio/...   everything Twilio requests (signed): :mod:`ivr.twilio.routes`
    /api/...      the JSON API (bearer token): :mod:`ivr.web.api`
    /healthz      ready when the flows are loaded and the NLU answers: :mod:`ivr.web.health`
    /console/...  the agent console and the dashboard (a log-in): :mod:`ivr.console`

A new surface is one more blueprint module with an ``init_app``, registered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import console
from ivr.config import api_token, check_config, console_secret, load_config
from ivr.parts import Parts, build_parts
from ivr.twilio import routes as twilio_routes
from ivr.web import api, health, limits

__all__ = ["create_app", "route_map"]


def create_app(config: Mapping[str, Any] | None = None, parts: Parts | None = None) -> Flask:
    """The app, configured from ``config`` (default: :func:`ivr.config.load_config`).

    ``parts`` are built from the configuration unless given (tests give their own, e.g. with a
    fixed clock).

    Raises:
        ivr.config.ConfigurationError: the configuration cannot be served.
    """
    config = dict(config) if config is not None else load_config()
    public_url, auth_token = check_config(config)
    parts = parts or build_parts(config)
    parts.start_background()

    app = Flask(__name__)
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": None, "max_message_size": 1 << 20}
    limits.init_app(app, int(config["MAX_REQUEST_BYTES"]))
    parts.init_app(app)
    twilio_routes.init_app(app, public_url, auth_token)
    api.init_app(app, api_token(config))
    health.init_app(app)
    secret = console_secret(config)
    if secret is not None:
        console.init_app(
            app,
            secret,
            secure_cookies=config["MODE"] != "development",
            session_hours=int(config["CONSOLE_SESSION_HOURS"]),
        )
    if int(config["PROXY_HOPS"]) > 0:  # only the address: Twilio signs PUBLIC_URL, not the Host
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(config["PROXY_HOPS"]))  # type: ignore[method-assign]  # Flask's documented way to wrap
    return app


def route_map() -> Flask:
    """An app with every route and nothing behind them: for printing the routes' addresses."""
    app = Flask(__name__)
    app.register_blueprint(twilio_routes.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(console.blueprint)
    return app
