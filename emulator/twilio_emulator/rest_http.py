"""The REST emulator's HTTP side: a local server that records, authenticates and fails requests.

    server = RestServer(route, account_sid, auth_token)  # route(method, path, form) -> answer
    server.start()
    server.fail_next(2, status=503)
    server.close()

The server is threaded, so many clients may call at once. ``route`` answers ``(status, body)``
once Basic auth has passed (else 401, code 20003), or raises
:class:`~twilio_emulator.rest_resources.RestError`, which is answered as Twilio's error JSON.
Every request is recorded with its arrival ``time.time()`` (:attr:`RestServer.requests`).
:meth:`~RestServer.fail_next` answers the next requests with an error, unprocessed;
:meth:`~RestServer.drop_next` processes them and closes the connection with no response, as
when Twilio fails to answer.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from twilio_emulator.rest_resources import Form, RestError

#: ``route(method, path, form)``: the HTTP status and JSON body of the answer.
Route = Callable[[str, str, Form], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class RestRequest:
    """One request the emulator received."""

    method: str
    path: str
    params: Form  # the form of a POST, the query of a GET
    at: float  # time.time() on arrival
    fault: str | None = None  # "fail" or "drop" when a fault was injected
    status: int | None = None  # the HTTP status answered; None while running or when dropped

    def get(self, name: str) -> str | None:
        """The first value of parameter ``name``."""
        return self.params.get(name)


@dataclass(frozen=True)
class _Fault:
    kind: str  # fail | drop
    method: str | None
    status: int = 500
    code: int = 20500


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (benchmarks send thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class RestServer:
    """Twilio's API endpoint on ``host`` and a port (0: a free one), answering with ``route``.

    Args:
        route: Answers an authenticated request.
        account_sid: The Basic auth user name.
        auth_token: The Basic auth password.
        host: The interface to listen on.
        port: The port (0: a free one).
    """

    def __init__(
        self,
        route: Route,
        account_sid: str,
        auth_token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._route = route
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._lock = threading.Lock()
        self._requests: list[RestRequest] = []
        self._faults: list[_Fault] = []
        self._server = make_server(
            host, port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="twilio-rest"
        )

    def start(self) -> None:
        """Start answering requests."""
        self._thread.start()

    def close(self) -> None:
        """Stop answering and release the port."""
        if self._thread.is_alive():  # shutdown() waits for a serve_forever that never began
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def fail_next(
        self, n: int = 1, status: int = 500, code: int = 20500, method: str | None = None
    ) -> None:
        """Answer the next ``n`` requests (of ``method``, or any) with an error, unprocessed."""
        with self._lock:
            self._faults.extend(_Fault("fail", method, status, code) for _ in range(n))

    def drop_next(self, n: int = 1, method: str | None = None) -> None:
        """Process the next ``n`` requests, then close the connection without answering."""
        with self._lock:
            self._faults.extend(_Fault("drop", method) for _ in range(n))

    @property
    def requests(self) -> list[RestRequest]:
        """Every request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        params = request.form if request.method == "POST" else request.args
        form = Form(tuple(params.items(multi=True)))
        with self._lock:
            fault = self._take_fault(request.method)
            index = len(self._requests)
            self._requests.append(
                RestRequest(
                    request.method, request.path, form, time.time(), fault.kind if fault else None
                )
            )
        try:
            if fault is not None and fault.kind == "fail":
                raise RestError(fault.status, fault.code, "An internal server error occurred")
            self._authenticate(request)
            status, body = self._route(request.method, request.path, form)
        except RestError as exc:
            status, body = exc.status, exc.body()
        if fault is not None and fault.kind == "drop":
            # Processed, never answered: the client sees the connection close.
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("dropped on purpose (TwilioRestEmulator.drop_next)")
        with self._lock:
            self._requests[index] = replace(self._requests[index], status=status)
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response(environ, start_response)

    def _take_fault(self, method: str) -> _Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.method in (None, method):
                return self._faults.pop(i)
        return None

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        valid = (
            scheme.lower() == "basic"
            and hmac.compare_digest(user.encode(), self._account_sid.encode())
            and hmac.compare_digest(password.encode(), self._auth_token.encode())
        )
        if not valid:
            raise RestError(401, 20003, "Authenticate")
