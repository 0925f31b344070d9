"""The Flask app that answers Twilio: ``create_app()`` (gunicorn: ``ivr.web:create_app()``)."""

from ivr.web.app import create_app

__all__ = ["create_app"]
