"""The Flask app that answers Twilio.

``create_app()`` builds it; gunicorn runs ``ivr.web:wsgi()`` (the ``Procfile``'s ``web``
entry), which also sets up our structured logs, since no ``ivr`` command runs first there.
"""

from flask import Flask

from ivr.config import load_config
from ivr.logs import configure_logging
from ivr.web.app import create_app

__all__ = ["create_app", "wsgi"]


def wsgi() -> Flask:
    """The app for a WSGI server: logging as configured (``IVR_LOG_FORMAT``/``_LEVEL``)."""
    config = load_config()
    configure_logging(config["LOG_FORMAT"], config["LOG_LEVEL"])
    return create_app(config)
