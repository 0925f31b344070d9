"""A small real Flask + flask-sock server that plays the part of our phone server.

It checks every signature with twilio-python's ``RequestValidator`` (the oracle, independent of
our own ``TwilioSignature``), serves TwiML per path from ``server.routes``, records every
request, and runs ``server.stream_handler(ws, log)`` for each Media Stream. It listens on a
real ephemeral port on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, abort, request
from flask_sock import Sock
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://ivr.example.test"
MEDIA_PATH = "/twilio/media"


@dataclass
class Hit:
    """One HTTP request or WebSocket handshake the server received."""

    path: str
    method: str
    form: dict[str, str]
    query: dict[str, str]
    signature: str | None
    valid: bool
    at: float


@dataclass
class StreamLog:
    """What one stream handler saw: every message (parsed) with its arrival time."""

    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def events(self) -> list[str]:
        return [m["event"] for _, m in self.messages]

    def receive(self, ws: Any, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next message, or None when the socket closed or nothing came in ``timeout``."""
        raw = ws.receive(timeout=timeout)
        if raw is None:
            return None
        message: dict[str, Any] = json.loads(raw)
        self.messages.append((time.monotonic(), message))
        return message

    def wait_for(
        self, ws: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Read until a message matches ``predicate`` (the others are kept in the log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive(ws, timeout=max(0.01, deadline - time.monotonic()))
            if message is not None and predicate(message):
                return message
        raise AssertionError(f"no matching message in {timeout} s; got {self.events()[-5:]}")


Route = str | Callable[[Hit], "str | tuple[str, int, str]"]
StreamHandler = Callable[[Any, StreamLog], None]


class TestServer:
    """The server, its routes and what it recorded."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, *, verify_webhooks: bool = True, verify_stream: bool = True) -> None:
        self.verify_webhooks = verify_webhooks
        self.verify_stream = verify_stream
        self.validator = RequestValidator(TOKEN)
        self.routes: dict[str, Route] = {}
        self.stream_handler: StreamHandler | None = None
        self.hits: list[Hit] = []
        self.streams: list[StreamLog] = []
        self.handler_errors: list[BaseException] = []
        self.app = self._build()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="test-server"
        )

    def __enter__(self) -> TestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def hits_to(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def _build(self) -> Flask:
        app = Flask(__name__)
        sock = Sock(app)

        @app.before_request
        def check_signature() -> None:
            signature = request.headers.get("X-Twilio-Signature")
            params: Mapping[str, str]
            if request.path == MEDIA_PATH:  # the handshake, before the 101
                url, params, verify = f"wss://ivr.example.test{MEDIA_PATH}", {}, self.verify_stream
            elif request.method == "GET":
                url, params, verify = PUBLIC + request.full_path, {}, self.verify_webhooks
            else:
                url = PUBLIC + request.full_path.rstrip("?")
                params, verify = request.form, self.verify_webhooks
            valid = self.validator.validate(url, params, signature or "")
            self.hits.append(
                Hit(
                    request.path,
                    request.method,
                    dict(request.form),
                    dict(request.args),
                    signature,
                    valid,
                    time.monotonic(),
                )
            )
            if verify and not valid:
                abort(403)

        @app.route("/<path:path>", methods=["GET", "POST"])
        def twiml(path: str) -> Response:
            route = self.routes.get("/" + path)
            if route is None:
                abort(404)
            answer = route if isinstance(route, str) else route(self.hits[-1])
            body, status, mimetype = (
                (answer, 200, "text/xml") if isinstance(answer, str) else answer
            )
            return Response(body, status=status, mimetype=mimetype)

        @sock.route(MEDIA_PATH)  # type: ignore[untyped-decorator]  # flask-sock: no type hints
        def media(ws: Any) -> None:
            log = StreamLog()
            self.streams.append(log)
            try:
                if self.stream_handler is not None:
                    self.stream_handler(ws, log)
            except BaseException as exc:  # surfaced by the test, not lost in a server thread
                self.handler_errors.append(exc)
                raise

        return app


@pytest.fixture
def server() -> Iterator[TestServer]:
    with TestServer() as running:
        yield running
    assert not running.handler_errors, running.handler_errors


def twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'
