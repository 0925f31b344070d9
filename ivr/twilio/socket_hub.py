"""One thread reads every call's socket: one wake-up serves all the calls with audio waiting.

A phone call's stream is fifty messages a second. Read on a thread per call, each message
wakes that call's thread, and on a busy machine a wake-up costs more than the message's own
work (``bench/wake_cost.py``, ``bench/shared_tick.py``: a frame's listening 172 to 213 µs on a
thread per call, 72 to 79 µs on one thread for all). Here the request's thread does the
handshake and the stream's start, then hands the socket to the hub and waits; the hub's
thread reads whichever sockets are ready and hands each read's messages to its connection's
``take``, which must be quick (the live call only listens there; replies, the store and the
dialogue run on each call's own thread). The request's thread sleeps until its connection
ends: when our side closes it first, :meth:`SocketHub.let_go` says so, so nothing polls.

Written with the standard library's :mod:`selectors`: the WSGI server (gunicorn's threads)
gives each WebSocket its request's thread and no event loop, so there is no library loop to
join. simple_websocket (through :class:`~ivr.twilio.websocket.InlineServer`) still does the
protocol.

    hub = SocketHub()
    hub.serve(ws, take, until=outbox.closed)   # blocks the request's thread until the end
    hub.let_go(ws)                             # (another thread) our side closed it: stop reading
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ivr.twilio.websocket import InlineServer

log = logging.getLogger(__name__)

#: Takes one read's messages; ``False`` ends the connection (the stream stopped).
Take = Callable[[list[str | bytes]], bool]


@dataclass(eq=False)
class _Connection:
    ws: InlineServer
    take: Take
    call_id: str | None
    done: threading.Event = field(default_factory=threading.Event)


class SocketHub:
    """Reads many WebSocket connections on one thread, started on first use (after a fork).

    Args:
        tick_s: After each round of reads the thread sleeps until the next tick, so one
            wake-up serves every call whose audio came meanwhile (a 20 ms frame then waits up
            to a tick, counted in its lateness); 0 reads whatever is ready as it comes.
        name: The thread's name.
    """

    def __init__(self, tick_s: float = 0.0, name: str = "socket-hub") -> None:
        self.tick_s = tick_s
        self.name = name
        self._lock = threading.Lock()
        self._requests: deque[tuple[str, _Connection]] = deque()
        self._serving: dict[int, _Connection] = {}  # by id(ws), while its request's thread waits
        self._selector: selectors.BaseSelector | None = None
        self._wake: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def connections(self) -> int:
        """How many connections the hub reads now."""
        selector = self._selector
        return 0 if selector is None else max(0, len(selector.get_map()) - 1)

    def serve(
        self,
        ws: InlineServer,
        take: Take,
        until: threading.Event | None = None,
        call_id: str | None = None,
    ) -> None:
        """Read ``ws`` on the hub's thread until it closes or ``take`` says the stream ended.

        Blocks the calling thread until then; it sleeps, with no wake-up per message and no
        polling. Messages ``ws`` already holds are taken first. ``until``: set when our side
        closed the connection before it was handed over; once it is, :meth:`let_go` says so,
        and the hub lets it go even if the peer sends nothing more. ``call_id`` names the
        connection in logs.
        """
        connection = _Connection(ws, take, call_id)
        with self._lock:
            self._serving[id(ws)] = connection
        try:
            self._ask("add", connection)
            if until is not None and until.is_set():
                self._ask("drop", connection)
            connection.done.wait()
        finally:
            with self._lock:
                self._serving.pop(id(ws), None)

    def let_go(self, ws: InlineServer) -> None:
        """Stop reading ``ws`` (our side closed it): its :meth:`serve` returns. From any thread.

        Nothing happens for a connection the hub does not serve (already ended, or not yet
        handed over: :meth:`serve` then checks its ``until``).
        """
        with self._lock:
            connection = self._serving.get(id(ws))
        if connection is not None:
            self._ask("drop", connection)

    def _ask(self, what: str, connection: _Connection) -> None:
        with self._lock:
            if self._thread is None:
                self._start()
            self._requests.append((what, connection))
        assert self._wake is not None
        self._wake.send(b"\0")

    def _start(self) -> None:
        """The selector and its thread, in the process that serves (a fork keeps neither)."""
        self._selector = selectors.DefaultSelector()
        listen, self._wake = socket.socketpair()
        listen.setblocking(False)
        self._selector.register(listen, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._selector is not None
        tick = time.monotonic()
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    self._handle_requests(key.fileobj)  # type: ignore[arg-type]  # our socket
                    continue
                try:
                    self._read(key.data)
                except Exception:  # one connection's trouble must not stop every call's reads
                    log.exception("socket hub: reading failed", extra={"call_id": key.data.call_id})
                    self._end(key.data)
            if self.tick_s > 0:
                tick = self._sleep_until(tick + self.tick_s)

    def _sleep_until(self, tick: float) -> float:
        """Sleep until ``tick`` (while the calls' messages gather); the tick it woke at.

        Ticks stay on their beat; after a wait for the first message, or a round that took
        longer than a tick, the beat starts again from now.
        """
        now = time.monotonic()
        if tick <= now:
            return now
        time.sleep(tick - now)
        return tick

    def _handle_requests(self, wake: socket.socket) -> None:
        try:
            while wake.recv(4096):
                pass
        except BlockingIOError:
            pass  # all wake-ups taken
        while True:
            with self._lock:
                if not self._requests:
                    return
                what, connection = self._requests.popleft()
            if what == "add":
                self._add(connection)
            else:
                self._end(connection)

    def _add(self, connection: _Connection) -> None:
        assert self._selector is not None
        if connection.done.is_set():  # let go before the hub got to it
            return
        if connection.ws.buffered and not self._deliver(connection, connection.ws.take_buffered()):
            connection.done.set()
            return
        try:
            self._selector.register(connection.ws.sock, selectors.EVENT_READ, connection)
        except (ValueError, OSError):  # closed meanwhile
            connection.done.set()

    def _read(self, connection: _Connection) -> None:
        messages, open_ = connection.ws.read_ready()
        if not (self._deliver(connection, messages) and open_):
            self._end(connection)

    def _deliver(self, connection: _Connection, messages: list[str | bytes]) -> bool:
        """Hand ``messages`` over; a failure ends this connection only, never the hub."""
        if not messages:
            return True
        try:
            return connection.take(messages)
        except Exception:
            log.exception(
                "socket hub: a connection's messages failed; closing it",
                extra={"call_id": connection.call_id},
            )
            return False

    def _end(self, connection: _Connection) -> None:
        assert self._selector is not None
        if connection.done.is_set():
            return
        # not registered (it ended before it was added) or already closed: nothing to undo
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection.ws.sock)
        connection.done.set()
