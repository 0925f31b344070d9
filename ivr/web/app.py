"""The web app: Twilio's routes, the JSON API and the health check, on the process's parts.

    /twilio/...   everything Twilio requests (signed): :mod:`ivr.twilio.routes`
    /api/...      the JSON API (bearer token): :mod:`ivr.web.api`
    /healthz      ready when the flows are loaded and the NLU answers: :mod:`ivr.web.health`
    /console/...  the agent console and the dashboard (a log-in): :mod:`ivr.console`
    /simulator    the browser phone (development, or IVR_SIMULATOR=on): :mod:`ivr.browser_phone`

A new surface is one more blueprint module with an ``init_app``, registered here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import console
from ivr.config import (
    ConfigurationError,
    api_token,
    check_config,
    console_secret,
    load_config,
    simulator_on,
)
from ivr.parts import Parts, build_parts
from ivr.twilio import routes as twilio_routes
from ivr.twilio.socket_hub import SocketHub
from ivr.web import api, health, limits
from ivr.wiring import provide

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
    phone = simulator_on(config)  # before anything starts: a bad setting starts nothing
    browser_phone = _browser_phone() if phone else None
    parts = parts or build_parts(config)
    parts.start_background()

    app = Flask(__name__)
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": None,
        "max_message_size": 1 << 20,
        "read_every_s": int(config["STREAM_READ_MS"]) / 1000,
    }
    if config["STREAM_HUB"]:
        provide(app, SocketHub(int(config["STREAM_HUB_TICK_MS"]) / 1000))
    limits.init_app(app, int(config["MAX_REQUEST_BYTES"]))
    parts.init_app(app)
    twilio_routes.init_app(app, public_url, auth_token)
    api.init_app(app, api_token(config))
    health.init_app(app)
    secret = console_secret(config)
    production = config["MODE"] == "production"
    if secret is not None:
        console.init_app(
            app,
            secret,
            secure_cookies=production,
            session_hours=int(config["CONSOLE_SESSION_HOURS"]),
            cookie_path="/" if phone and production else "/console",  # the log-in guards both
        )
    if browser_phone is not None and secret is not None:
        browser_phone.init_app(app, secret, needs_log_in=production)
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
    with contextlib.suppress(ConfigurationError):  # no emulator installed: no browser phone
        app.register_blueprint(_browser_phone().blueprint)
    return app


def _browser_phone() -> ModuleType:
    """The browser phone's package; it runs Twilio's side on the emulator, a development tool.

    Raises:
        ConfigurationError: the emulator is not installed.
    """
    try:
        from ivr import browser_phone
    except ImportError as error:
        raise ConfigurationError(
            f"the browser phone (IVR_SIMULATOR) needs the Twilio emulator: {error}; "
            "install it with `pip install -e emulator/` (`make env` does), or set IVR_SIMULATOR=off"
        ) from None
    return browser_phone
