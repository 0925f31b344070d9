"""The callback worker's port to the phone network, over Twilio's REST API.

:class:`TwilioRinger` turns a :class:`~ivr.callbacks.ports.Ring` into a REST request whose
webhooks are our placed-callback routes (built by endpoint name, so their paths are written
only in :mod:`ivr.twilio.placed`). The worker process has no running web app, so the routes'
URL map comes from a bare Flask app holding the Twilio blueprint (no parts, milliseconds).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from ivr.callbacks.ports import Ring
from ivr.twilio import placed, routes
from ivr.twilio.dialer import OutboundCall, TwilioDialer
from ivr.twilio.urls import PublicUrls


def url_map_app() -> Flask:
    """An app with Twilio's routes and nothing else: for building their URLs outside a server."""
    app = Flask(__name__)
    app.register_blueprint(routes.blueprint)
    return app


class TwilioRinger:
    """:class:`~ivr.callbacks.ports.Ringer` and :class:`~ivr.callbacks.ports.Texter` on Twilio.

    Args:
        dialer: The REST client.
        public_url: The web app's address as Twilio sees it (``IVR_PUBLIC_URL``).
    """

    def __init__(self, dialer: TwilioDialer, public_url: str) -> None:
        self.dialer = dialer
        self.urls = PublicUrls(url_map_app(), public_url)

    def ring(self, ring: Ring) -> str:
        """Place the first leg; Twilio asks our routes what to play and reports its progress."""
        return self.dialer.place_call(
            OutboundCall(
                to=ring.to,
                from_=ring.from_,
                url=self.urls(placed.ANSWER, callback=ring.callback_id),
                status_callback=self.urls(placed.STATUS, callback=ring.callback_id),
                machine_detection=ring.screen_for_machine,
                timeout=ring.timeout,
            )
        )

    def find_rings(self, to: str, since: datetime) -> list[str]:
        """Calls to ``to`` created since ``since``, newest first."""
        return self.dialer.find_calls(to, since)

    def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send a text."""
        return self.dialer.send_sms(to, from_, body)
