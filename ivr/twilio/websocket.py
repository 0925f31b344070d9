"""WebSocket routes read on the request's own thread: one thread per connection, not two.

flask-sock's server (simple_websocket) starts a reader thread per connection that wakes the
request's thread for every message. A phone call's stream is fifty messages a second, and on
a busy machine each thread wake-up costs about as much as the work the message brings, so
here the request's thread reads the socket itself. simple_websocket still does the protocol
(handshake, ping, close, fragments, through wsproto); only the thread goes. Its options
(``SOCK_SERVER_OPTIONS``) apply as with flask-sock, except ``ping_interval``, which needs
the reader thread: a stream whose peer goes silent ends when the socket does.

    @route(blueprint, "/media")
    def media(ws): ...          # ws.receive() / ws.send() / ws.close(), as with flask-sock
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request
from simple_websocket import (  # type: ignore[import-untyped]  # no type hints
    ConnectionClosed,
    Server,
)

#: How long a closed connection waits for the peer's close frame before the socket is shut.
CLOSE_WAIT_S = 1.0


class _NoThread:
    """Stands in for the reader thread simple_websocket would start: it never runs."""

    def __init__(self, target: Callable[[], None]) -> None:
        self.name = "inline"

    def start(self) -> None:
        """Nothing to start: the request's thread reads (see :class:`InlineServer`)."""


class InlineServer(Server):  # type: ignore[misc]  # simple_websocket has no type hints
    """simple_websocket's server whose :meth:`receive` reads the socket on the caller's thread.

    ``send`` and ``close`` may still come from any thread, as with the threaded server.
    """

    connected: bool

    def __init__(self, environ: dict[str, Any], **options: Any) -> None:
        options.pop("ping_interval", None)  # pings need the reader thread
        super().__init__(environ, thread_class=_NoThread, **options)

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; ``ConnectionClosed`` once the connection is over.

        ``timeout`` is not supported (the stream's thread waits for its next message).
        """
        while self.connected and not self.input_buffer:
            try:
                data = self.sock.recv(self.receive_bytes)
            except OSError:
                data = b""
            if not data:
                self.connected = False
                break
            self.ws.receive_data(data)
            self.connected = self._handle_events()
        if self.input_buffer:
            message: str | bytes = self.input_buffer.pop(0)
            return message
        raise ConnectionClosed(self.close_reason, self.close_message)

    def finish(self) -> None:
        """Close the connection (if still open), wait briefly for the peer's close, shut it."""
        with contextlib.suppress(ConnectionClosed):  # already closed, by us or by the peer
            self.close()
        try:
            self.sock.settimeout(CLOSE_WAIT_S)
            while self.sock.recv(self.receive_bytes):
                pass  # the peer's close frame (and anything in flight): nothing to act on
        except OSError:
            pass  # timed out or reset: the socket is shut either way
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def route(blueprint: Blueprint, path: str) -> Callable[[Callable[[Any], None]], None]:
    """Register ``handler(ws)`` as a WebSocket route at ``path`` on ``blueprint``."""

    def decorator(handler: Callable[[Any], None]) -> None:
        @wraps(handler)
        def websocket_route() -> Response:
            options = current_app.config.get("SOCK_SERVER_OPTIONS", {})
            ws = InlineServer(request.environ, **options)
            try:
                handler(ws)
            except ConnectionClosed:
                pass  # the peer went away mid-message: nothing more to do
            finally:
                ws.finish()
            return _ended(ws.mode)

        blueprint.route(path, websocket=True)(websocket_route)

    return decorator


def _ended(mode: str) -> Response:
    """The response that tells the WSGI server the connection was taken over (as flask-sock)."""

    class WebSocketEnded(Response):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if mode == "gunicorn":
                raise StopIteration()  # gunicorn: the connection is done, write nothing
            if mode == "werkzeug":
                return super().__call__(*args, **kwargs)
            return []

    return WebSocketEnded()
