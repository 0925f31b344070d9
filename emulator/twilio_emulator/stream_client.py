"""The WebSocket client Twilio's side opens a Media Stream with, and the errors it logs.

    ws = StreamClient("ws://127.0.0.1:8123/twilio/media", [("x-twilio-signature", sig)], 10.0)
    ...
    ws.shut()

A stream that cannot be opened raises :class:`HandshakeFailed` with the error Twilio would log:
31920 the server answered something other than 101, 31901 no connection or answer in time,
31902 the connection was refused, 31910 TLS failed.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from urllib.parse import urlsplit

import simple_websocket  # type: ignore[import-untyped]  # no stubs or py.typed upstream
from wsproto import ConnectionType
from wsproto.events import AcceptConnection, RejectConnection, Request

HANDSHAKE_REFUSED = 31920  # the server answered something other than 101
CONNECTION_TIMEOUT = 31901
CONNECTION_REFUSED = 31902
TLS_FAILURE = 31910


class HandshakeFailed(Exception):
    """The WebSocket could not be opened; ``code`` is the error Twilio would log."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class StreamClient(simple_websocket.Client):  # type: ignore[misc]  # untyped base class
    """``simple_websocket.Client`` that closes its socket when the connection or handshake fails.

    Built directly (not with ``Client.connect``): the stock client leaves its socket open when
    the connection is refused or the handshake answered 403 (a ResourceWarning), has no connect
    timeout and sends ``Host`` without the port.
    """

    def __init__(self, url: str, headers: list[tuple[str, str]], timeout: float) -> None:
        parts = urlsplit(url)
        secure = parts.scheme == "wss"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if secure else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.subprotocols: list[str] = []
        self._netloc = parts.netloc
        self._headers = headers
        self._timeout = timeout
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except TimeoutError as exc:
            raise HandshakeFailed(CONNECTION_TIMEOUT, f"connecting to {url}: timed out") from exc
        except OSError as exc:
            raise HandshakeFailed(CONNECTION_REFUSED, f"connecting to {url}: {exc}") from exc
        try:
            if secure:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
            super(simple_websocket.Client, self).__init__(  # Base.__init__: runs handshake()
                sock, connection_type=ConnectionType.CLIENT
            )
        except ssl.SSLError as exc:
            sock.close()
            raise HandshakeFailed(TLS_FAILURE, f"TLS with {url}: {exc}") from exc
        except BaseException:
            sock.close()
            raise

    def handshake(self) -> None:
        """Send the upgrade request and read the answer; anything but 101 fails."""
        headers = [(name.encode(), value.encode()) for name, value in self._headers]
        request = Request(host=self._netloc, target=self.path, extra_headers=headers)
        self.sock.send(self.ws.send(request))
        while True:
            try:
                data = self.sock.recv(self.receive_bytes)
            except TimeoutError as exc:
                raise HandshakeFailed(CONNECTION_TIMEOUT, "no handshake answer") from exc
            if not data:
                raise HandshakeFailed(HANDSHAKE_REFUSED, "the server closed the connection")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.sock.settimeout(None)  # the reader thread blocks in recv
                    self.connected = True
                    return
                if isinstance(event, RejectConnection):
                    raise HandshakeFailed(
                        HANDSHAKE_REFUSED, f"the server answered HTTP {event.status_code}"
                    )

    def shut(self, timeout: float = 2.0) -> None:
        """Close (if still open), wait for the reader thread, release the socket."""
        if self.connected:
            with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
                simple_websocket.ws.Base.close(self)
        self.thread.join(timeout)
        if self.thread.is_alive():  # the server never answered our close: wake the reader
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.thread.join(timeout)
        self.sock.close()
