"""WebSocket routes read on the request's own thread: one thread per connection, not two.

flask-sock's server (simple_websocket) starts a reader thread per connection that wakes the
request's thread for every message. A phone call's stream is fifty messages a second, and on
a busy machine each thread wake-up costs about as much as the work the message brings, so
here the request's thread reads the socket itself. simple_websocket still does the protocol
(handshake, ping, close, fragments, through wsproto); only the thread goes. Its options
(``SOCK_SERVER_OPTIONS``) apply as with flask-sock, except ``ping_interval``, which needs
the reader thread: a stream whose peer goes silent ends when the socket does.

``read_every_s`` (``SOCK_SERVER_OPTIONS``) reads the socket at most that often: the messages
that came meanwhile wait in the socket and are taken in one read, so the thread wakes once for
several of them (a stream's 20 ms messages, two to a 40 ms read) at the cost of up to that
much more latency; while ``urgent()`` says so, it reads each message as it comes.
:attr:`InlineServer.buffered` says whether the next message is already read.

Whole data frames (every message of a stream) are read by :class:`~ivr.twilio.data_frames.
DataFrames`, at a fraction of wsproto's cost; from the first frame of any other kind (a ping,
a close, a fragment, a compressed message) on, wsproto reads the connection.

    @route(blueprint, "/media")
    def media(ws): ...          # ws.receive() / ws.send() / ws.close(), as with flask-sock
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request
from simple_websocket import (  # type: ignore[import-untyped]  # no type hints
    ConnectionClosed,
    Server,
)

from ivr.twilio.data_frames import DataFrames

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
    input_buffer: list[str | bytes]

    def __init__(self, environ: dict[str, Any], read_every_s: float = 0.0, **options: Any) -> None:
        options.pop("ping_interval", None)  # pings need the reader thread
        super().__init__(environ, thread_class=_NoThread, **options)
        self.read_every_s = read_every_s
        self._last_read = 0.0
        self._read_all = True  # the last read took all there was (else read again at once)
        self._frames: DataFrames | None = DataFrames(self.max_message_size or None)  # None: wsproto
        self.urgent: Callable[[], bool] = lambda: False  # read at once while this says so

    @property
    def buffered(self) -> bool:
        """Whether a message is already read: :meth:`receive` returns it without waiting."""
        return bool(self.input_buffer)

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; ``ConnectionClosed`` once the connection is over.

        ``timeout`` is not supported (the stream's thread waits for its next message).
        """
        while self.connected and not self.input_buffer:
            self._hold()
            self._read_once()
        if self.input_buffer:
            message: str | bytes = self.input_buffer.pop(0)
            return message
        raise ConnectionClosed(self.close_reason, self.close_message)

    def read_ready(self) -> tuple[list[str | bytes], bool]:
        """One read of a socket that is ready (it does not wait).

        Returns:
            The messages it completed (after any read before), and whether the connection is
            still open.
        """
        self._read_once()
        return self.take_buffered(), self.connected

    def take_buffered(self) -> list[str | bytes]:
        """The messages already read, in order; none are left."""
        messages: list[str | bytes]
        messages, self.input_buffer = self.input_buffer, []
        return messages

    def _read_once(self) -> None:
        try:
            data = self.sock.recv(self.receive_bytes)
        except OSError:
            data = b""
        self._read_all = len(data) < self.receive_bytes
        if not data:
            self.connected = False
            return
        if self._frames is not None:
            rest = self._frames.feed(data, self.input_buffer)
            if rest is None:
                return  # whole data frames only (or the start of one)
            self._frames, data = None, rest  # wsproto reads from this frame on
        self.ws.receive_data(data)
        self.connected = self._handle_events()

    def _hold(self) -> None:
        """Wait out the rest of ``read_every_s`` since the last read.

        No wait if it has passed, if the last read was cut short by its size (more is waiting),
        or while :attr:`urgent` says so.
        """
        if self.read_every_s > 0 and self._read_all and not self.urgent():
            wait = self._last_read + self.read_every_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_read = time.monotonic()

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
