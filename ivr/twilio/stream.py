"""The Media Streams socket: receive, decode, hand to the live call; encode, send.

    WS /twilio/media   the call's audio, both ways (the handshake is signed like a webhook)

The request's thread reads the stream until it starts and opens the call; from then on the
socket hub's one thread reads every call's socket (:mod:`ivr.twilio.socket_hub`,
``IVR_STREAM_HUB``; off, the request's thread goes on reading its own). Each message is
decoded (:mod:`ivr.twilio.media_stream` is the serializer) and handed to the live call
(:class:`~ivr.call.live.LiveCall`): on the hub only the listening runs, and the call's own
thread acts on what it decided. Audio messages taken from the socket in one read reach the
call as one piece; a slow stage only makes later messages wait in the socket, never lost. A
message naming another stream is logged and ignored: only this stream's own messages can end
or steer its call.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, g
from simple_websocket import ConnectionClosed  # type: ignore[import-untyped]  # no type hints

from ivr.call.live import CallOpener, LiveCall
from ivr.twilio import media_stream
from ivr.twilio.media_stream import (
    AudioReceived,
    DtmfReceived,
    MarkPlayed,
    StreamEvent,
    StreamStarted,
    StreamStopped,
)
from ivr.twilio.socket_hub import SocketHub
from ivr.twilio.websocket import route
from ivr.wiring import maybe_use, use

log = logging.getLogger(__name__)

blueprint = Blueprint("stream", __name__)


class StreamOutbox:
    """Our side of the stream: the pipeline's output as Twilio messages."""

    def __init__(self, ws: Any, stream_sid: str, call_id: str) -> None:
        self.ws = ws
        self.stream_sid = stream_sid
        self.call_id = call_id
        self.closed = threading.Event()
        self.on_closed: Callable[[], None] = lambda: None  # told after :meth:`close`
        self._lock = threading.Lock()

    def play(self, ulaw: bytes) -> None:
        """Send audio (one message; Twilio buffers and plays it in order)."""
        self._send(media_stream.encode_media(self.stream_sid, ulaw))

    def mark(self, name: str) -> None:
        """Ask Twilio to echo ``name`` once the audio before it has played."""
        self._send(media_stream.encode_mark(self.stream_sid, name))

    def clear(self) -> None:
        """Drop the audio Twilio still has buffered."""
        self._send(media_stream.encode_clear(self.stream_sid))

    def close(self) -> None:
        """Close the socket: Twilio then requests the ``<Connect action>`` URL."""
        self.closed.set()
        with self._lock:
            try:
                self.ws.close()
            except Exception:  # already gone: nothing left to close
                log.debug("socket already closed", extra={"call_id": self.call_id})
        self.on_closed()

    def _send(self, message: str) -> None:
        with self._lock:
            if self.closed.is_set():
                return
            try:
                self.ws.send(message)
            except ConnectionClosed:
                self.closed.set()


@route(blueprint, "/media")
def media(ws: Any) -> None:
    """One Media Streams connection."""
    serve_stream(ws, use(CallOpener), g.get("stream_call_id"), maybe_use(SocketHub))


def serve_stream(
    ws: Any, opener: CallOpener, only_call: str | None = None, hub: SocketHub | None = None
) -> None:
    """Run one Media Streams connection until it stops or the bot hands the call over.

    ``only_call``: the socket was opened for this call (a browser-phone pass); a start
    naming another call is refused and the socket closed. ``hub``: once the call has
    started, the hub's thread reads the socket (this thread waits for the end).
    """
    stream = _Stream(ws, opener, only_call)
    try:
        for event in _events(ws):
            if not stream.handle(event):
                return
            if hub is not None and stream.call is not None:
                break  # started: the hub reads the rest
        else:
            return  # the socket closed
        if hub is not None and stream.call is not None and stream.outbox is not None:
            stream.call.on_shared_thread = True
            stream.outbox.on_closed = lambda: hub.let_go(ws)
            hub.serve(ws, stream.take, stream.outbox.closed, stream.call.call_id)
    finally:
        if stream.call is not None:
            stream.call.close()


class _Stream:
    """One connection's call: what each of its events does."""

    def __init__(self, ws: Any, opener: CallOpener, only_call: str | None) -> None:
        self.ws = ws
        self.opener = opener
        self.only_call = only_call
        self.call: LiveCall | None = None
        self.outbox: StreamOutbox | None = None

    def take(self, messages: list[str | bytes]) -> bool:
        """One read's messages (on the hub's thread); ``False`` once the stream is over."""
        decoded = (_decode(raw) for raw in messages)
        events = _batched((event for event in decoded if event is not None), lambda: False)
        return all(self.handle(event) for event in events)

    def handle(self, event: StreamEvent) -> bool:
        """Act on one event; ``False`` once the stream is over."""
        call, outbox = self.call, self.outbox
        if isinstance(event, StreamStarted):
            return self._started(event)
        if call is None or outbox is None or _foreign(event, outbox):
            return True  # media before start (nothing to attach it to), or another stream's
        if _dispatch(event, call):
            return False  # the stream stopped
        return not outbox.closed.is_set()

    def _started(self, event: StreamStarted) -> bool:
        if self.only_call is not None and event.call_id != self.only_call:
            log.warning(
                "stream start for another call than its pass refused",
                extra={"call_id": event.call_id, "pass_call_id": self.only_call},
            )
            return False
        if self.call is not None:
            log.warning("second start message ignored", extra={"call_id": event.call_id})
            return True
        self.outbox = StreamOutbox(self.ws, event.stream_sid, event.call_id)
        call = self.opener.open(event.call_id, event.custom_parameters, self.outbox)
        self.ws.urgent = lambda: call.mid_turn  # read each message at once while they speak
        self.call = call
        call.start(event.custom_parameters)
        return not self.outbox.closed.is_set()


def _events(ws: Any) -> Iterator[StreamEvent]:
    """The stream's events in order; audio messages taken in one read come as one, joined.

    Audio is held only while ``ws.buffered`` (the next message is already read), so nothing is
    held when the socket closes.
    """
    return _batched(_decoded(ws), lambda: not ws.buffered)


def _batched(events: Iterable[StreamEvent], flush: Callable[[], bool]) -> Iterator[StreamEvent]:
    """``events`` in order, consecutive audio of one stream joined until ``flush()`` says."""
    held: list[AudioReceived] = []
    for event in events:
        if held and not (
            isinstance(event, AudioReceived) and event.stream_sid == held[0].stream_sid
        ):
            yield _joined(held)
            held = []
        if isinstance(event, AudioReceived):
            held.append(event)
        else:
            yield event
        if held and flush():
            yield _joined(held)
            held = []
    if held:
        yield _joined(held)


def _decoded(ws: Any) -> Iterator[StreamEvent]:
    """Each message as an event until the socket closes; a malformed one is logged and skipped."""
    while True:
        try:
            raw = ws.receive()
        except ConnectionClosed:
            return
        if raw is None:
            return
        event = _decode(raw)
        if event is not None:  # else decode() logged what was wrong; the call goes on
            yield event


def _decode(raw: str | bytes) -> StreamEvent | None:
    return media_stream.decode(raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))


def _joined(pieces: list[AudioReceived]) -> AudioReceived:
    """Consecutive audio of one stream as one piece (stamped as its first)."""
    if len(pieces) == 1:
        return pieces[0]
    return dataclasses.replace(pieces[0], audio=b"".join(piece.audio for piece in pieces))


def _foreign(event: StreamEvent, outbox: StreamOutbox) -> bool:
    """Whether ``event`` names another stream than this socket's (logged, then ignored)."""
    stream_sid = getattr(event, "stream_sid", outbox.stream_sid)
    if stream_sid == outbox.stream_sid:
        return False
    log.warning(
        "message for another stream ignored",
        extra={"call_id": outbox.call_id, "stream": outbox.stream_sid, "named": stream_sid},
    )
    return True


def _dispatch(event: StreamEvent, call: LiveCall) -> bool:
    """Hand ``event`` to the call; ``True`` when it was the stream's end."""
    if isinstance(event, AudioReceived):
        call.audio(event.audio)
    elif isinstance(event, DtmfReceived):
        call.dtmf(event.digit)
    elif isinstance(event, MarkPlayed):
        call.marked(event.name)
    elif isinstance(event, StreamStopped):
        call.stop()
        return True
    return False
