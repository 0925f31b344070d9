"""Our routes' addresses as Twilio must request them: ``url_for`` bound to the public URL.

Twilio calls ``IVR_PUBLIC_URL`` (``https://ivr.example.com``), which is rarely the host a
request arrived on behind a TLS proxy, so :class:`PublicUrls` binds the app's URL map to the
public address once and builds every URL from an endpoint name, exactly as
``url_for(..., _external=True)`` does: a route's path is written once, in its decorator.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from werkzeug.routing import MapAdapter

_SOCKET_SCHEMES = {"https": "wss", "http": "ws"}


class PublicUrls:
    """Absolute public URLs of ``app``'s endpoints (``https://``; the stream as ``wss://``)."""

    def __init__(self, app: Flask, base_url: str) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self.base_url = base_url.rstrip("/")
        self._adapter: MapAdapter = app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
        )

    def __call__(self, endpoint: str, /, **values: str | None) -> str:
        """The URL of ``endpoint`` with ``values`` as path parts or query (``None`` left out)."""
        given = {name: value for name, value in values.items() if value is not None}
        return self._adapter.build(endpoint, given, force_external=True)

    def socket(self, endpoint: str) -> str:
        """A WebSocket route's URL: ``wss://`` behind ``https://`` (Twilio streams only so)."""
        url = self(endpoint)  # werkzeug already says ws(s) for a WebSocket rule
        scheme, _, rest = url.partition("://")
        return f"{_SOCKET_SCHEMES.get(scheme, scheme)}://{rest}"
