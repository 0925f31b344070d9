"""Refuse a request body larger than any real one, before reading it.

Twilio's webhooks are a few kilobytes and the JSON API's bodies smaller still, so a body over
``IVR_MAX_REQUEST_BYTES`` (64 KiB by default) gets 413 on every route: from its
``Content-Length`` before a byte of it is read, or (sent in chunks, without one) as soon as
reading passes the limit (Flask's ``MAX_CONTENT_LENGTH``). Without this, a few unsigned
300 MB posts doubled the web process's memory before each got its 403.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

log = logging.getLogger(__name__)


def init_app(app: Flask, max_bytes: int) -> None:
    """Refuse bodies over ``max_bytes`` on every route of ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = max_bytes

    @app.before_request
    def refuse_large_bodies() -> Response | None:
        size = request.content_length
        if size is None and _chunked():
            # Werkzeug stops reading at MAX_CONTENT_LENGTH; reaching it means there was more.
            size = len(request.get_data(cache=True))
            if size < max_bytes:
                return None
        elif size is None or size <= max_bytes:
            return None
        log.warning(
            "request body too large refused",
            extra={"path": request.path, "bytes": size, "limit": max_bytes},
        )
        response = Response(
            f"request body of {size} bytes or more is over the limit of {max_bytes}\n",
            status=413,
            mimetype="text/plain",
        )
        response.headers["Connection"] = "close"  # do not read (or drain) what was sent
        return response


def _chunked() -> bool:
    """Whether the body comes in chunks (no ``Content-Length`` to judge it by)."""
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()
