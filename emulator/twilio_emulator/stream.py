"""One bidirectional Media Stream, run as Twilio runs it: a real WebSocket in real time.

The calling thread sends: ``connected``, ``start``, then a ``media`` frame every 20 ms of wall
clock (the caller's script, or silence: a phone line never stops), ``dtmf`` for key presses,
and ``stop`` when the caller hangs up. A receiver thread plays the server's ``media`` into a
:class:`~twilio_emulator.playback.Playback` and echoes ``mark``s when their audio has played, or
at once on ``clear``. One lock guards the socket, the playback and the records. The WebSocket
client and the handshake errors are in ``twilio_emulator.stream_client``.

The stream has its own clock, in 20 ms frames: frame ``n`` is the slot in which the caller's
chunk ``n + 1`` is due. Marks are echoed on it (in the first slot that starts after their audio
has played, even when the sending thread runs late), and every message from the server records
the frame it arrived in, so tests count frames where wall-clock intervals would depend on load.

    session = StreamSession(...)
    ended_by = session.run()    # "server" | "hangup" | "max-seconds" | "handshake-failed"
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import simple_websocket  # type: ignore[import-untyped]  # no stubs or py.typed upstream

from twilio_emulator import stream_messages as msg
from twilio_emulator.caller import FRAME_SECONDS, BotState, Frame, ScriptPlayer
from twilio_emulator.playback import BYTES_PER_SECOND, Playback
from twilio_emulator.result import (
    CallError,
    CallResult,
    ClearRecord,
    DtmfTiming,
    MarkRecord,
    ReceivedMessage,
    SentMessage,
    StreamRecord,
    UtteranceTiming,
)
from twilio_emulator.stream_client import HandshakeFailed, StreamClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamTarget:
    """Where and how to open the stream."""

    public_url: str  # the wss:// URL in the TwiML (what is signed)
    connect_url: str  # where it is really delivered
    signature: str
    custom_parameters: dict[str, str]


class StreamSession:
    """Runs one ``<Connect><Stream>`` to its end.

    Args:
        target: The stream URL, where it is delivered, its signature and ``<Parameter>``s.
        stream_sid: ``MZ...`` for this stream.
        result: The call's result; the session appends its records.
        player: The caller's script (shared across streams of one call).
        deadline: Monotonic time at which the caller hangs up regardless (``max_seconds``).
        notify: Called with ``("stream-started" | "stream-stopped" | "stream-error", error)``
            for the ``<Stream statusCallback>``.
        clock: Monotonic clock.
        handshake_timeout: Seconds to connect and complete the handshake.
    """

    def __init__(
        self,
        target: StreamTarget,
        stream_sid: str,
        result: CallResult,
        player: ScriptPlayer,
        deadline: float,
        notify: Callable[[str, str | None], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        handshake_timeout: float = 10.0,
    ) -> None:
        self.target = target
        self.sid = stream_sid
        self.result = result
        self.player = player
        self.deadline = deadline
        self.notify = notify
        self.clock = clock
        self.handshake_timeout = handshake_timeout
        self.playback = Playback()
        self.ws: StreamClient | None = None
        self._lock = threading.Lock()
        self._sequence = 0
        self._server_closed = threading.Event()
        self._stopping = threading.Event()
        self._outstanding: deque[MarkRecord] = deque()
        self._received: list[ReceivedMessage] = []
        self._clears: list[ClearRecord] = []
        self._utterances: dict[int, UtteranceTiming] = {}
        self._dtmf: list[DtmfTiming] = []
        self._origin = 0.0  # when frame 0 starts: set before the first message can arrive
        self.record = StreamRecord(
            stream_sid, target.public_url, dict(target.custom_parameters), clock()
        )

    def run(self) -> str:
        """Open, stream until the server closes or the caller hangs up, close; how it ended."""
        self.result.streams.append(self.record)
        self.result.stream_sid = self.sid
        extra = {"call_id": self.result.call_sid, "stream_sid": self.sid}
        try:
            # Twilio sends the header in lower case (twilio.md 2.4).
            ws = StreamClient(
                self.target.connect_url,
                headers=[("x-twilio-signature", self.target.signature)],
                timeout=self.handshake_timeout,
            )
        except HandshakeFailed as exc:
            text = f"stream {self.target.public_url}: {exc}"
            log.warning("stream handshake failed: %s", exc, extra=extra)
            self.result.errors.append(
                CallError("stream", exc.code, text, self.clock(), self.target.public_url)
            )
            self.record.closed_at, self.record.ended_by = self.clock(), "handshake-failed"
            self.notify("stream-error", text)
            return self.record.ended_by
        log.info("stream open", extra=extra)
        self.ws = ws
        receiver = threading.Thread(target=self._receive, name=f"stream-rx-{self.sid[:8]}")
        try:
            self._send(msg.connected(), "connected", numbered=False)
            self._send(
                msg.start(
                    self._next(),
                    self.sid,
                    self.result.account_sid,
                    self.result.call_sid,
                    self.target.custom_parameters,
                ),
                "start",
            )
            self.notify("stream-started", None)
            self._origin = self.clock()
            receiver.start()
            ended_by = self._send_loop()
        finally:
            self._stopping.set()
            if receiver.is_alive():
                receiver.join()
            ws.shut()
        end = self.clock()
        with self._lock:
            self.playback.clear(end)  # audio still queued is never heard
        self.record.closed_at, self.record.ended_by = end, ended_by
        self._finish_timings()
        self.notify("stream-stopped", None)
        log.info("stream closed by %s", ended_by, extra=extra)
        return ended_by

    # --- sending ----------------------------------------------------------------------------

    def _next(self) -> int:
        self._sequence += 1
        return self._sequence

    def _send(
        self,
        text: str,
        event: str,
        *,
        numbered: bool = True,
        detail: str = "",
        at: float | None = None,
    ) -> bool:
        """Send under the caller's lock; False once the server has closed.

        ``at`` is the time to record (a media frame's, so its timings name the frame); now if
        not given.
        """
        if self.ws is None:
            raise RuntimeError("the stream is not open")
        try:
            self.ws.send(text)
        except (simple_websocket.ConnectionClosed, OSError):
            self._server_closed.set()
            return False
        seq = self._sequence if numbered else None
        self.result.sent.append(SentMessage(self.clock() if at is None else at, event, seq, detail))
        return True

    def _send_loop(self) -> str:
        """Frames every 20 ms, each sent at its due time on a monotonic schedule (no drift)."""
        t0 = self._origin
        self.player.start(t0)
        frame_number = 0
        while True:
            due = t0 + frame_number * FRAME_SECONDS
            delay = due - self.clock()
            if delay > 0:
                time.sleep(delay)
            if self._server_closed.is_set():
                return "server"
            now = self.clock()
            if now >= self.deadline:
                self._send_stop()
                return "max-seconds"
            with self._lock:
                # Due by this frame's slot, not by now: a thread running late must not echo a
                # mark fewer frames after its audio arrived than the audio lasts.
                self._echo(self.playback.due_marks(due), now, cleared=False)
                bot = BotState(self.playback.last_media_at, self.playback.idle_since(now))
            frame = self.player.next_frame(now, bot)
            if frame.hangup:
                self._send_stop()
                return "hangup"
            with self._lock:
                if not self._send_frame(frame, frame_number, now):
                    return "server"
            frame_number += 1

    def _send_frame(self, frame: Frame, number: int, now: float) -> bool:
        playing = self.playback.is_playing(now)
        for digit in frame.digits:
            if not self._send(msg.dtmf(self._next(), self.sid, digit), "dtmf", detail=digit):
                return False
            self._dtmf.append(DtmfTiming(digit, self.clock(), during_bot_audio=playing))
        text = msg.media(
            self._next(),
            self.sid,
            chunk=number + 1,
            timestamp_ms=round(number * FRAME_SECONDS * 1000),
            payload=frame.audio,
        )
        if not self._send(text, "media", detail=str(number + 1), at=now):
            return False
        if frame.utterance is not None:
            timing = self._utterances.get(frame.utterance)
            if timing is None:
                label = self.player.utterances[frame.utterance]
                timing = self._utterances[frame.utterance] = UtteranceTiming(label, now)
                self.result.utterances.append(timing)
            timing.ended_at = now
            if frame.voiced:
                if timing.voiced_started_at is None:
                    timing.voiced_started_at = now
                    timing.during_bot_audio = playing
                timing.last_voiced_at = now
        return True

    def _send_stop(self) -> None:
        with self._lock:
            stop = msg.stop(self._next(), self.sid, self.result.account_sid, self.result.call_sid)
            self._send(stop, "stop")

    def _echo(self, names: list[str], now: float, *, cleared: bool) -> None:
        """Echo marks (in order, which is the order they are outstanding in)."""
        for name in names:
            record = self._outstanding.popleft()
            if record.name != name:  # cannot happen: Playback keeps arrival order
                raise AssertionError(f"mark {name!r} echoed out of order")
            record.echoed_at, record.cleared = now, cleared
            self._send(msg.mark(self._next(), self.sid, name), "mark", detail=name)

    # --- receiving --------------------------------------------------------------------------

    def _receive(self) -> None:
        ws = self.ws
        if ws is None:
            raise RuntimeError("the stream is not open")
        while not self._stopping.is_set():
            try:
                raw = ws.receive(timeout=0.05)
            except simple_websocket.ConnectionClosed:
                self._server_closed.set()
                return
            if raw is not None:
                with self._lock:
                    self._handle(raw, self.clock())

    def _handle(self, raw: str | bytes, now: float) -> None:
        frame = max(0, math.floor((now - self._origin) / FRAME_SECONDS))
        try:
            message = msg.parse_server_message(raw, self.sid)
        except msg.MalformedMessage as exc:
            text = f"malformed message from the server, ignored: {exc}"
            self._note(ReceivedMessage(now, "malformed", error=str(exc), frame=frame))
            self.result.errors.append(CallError("stream", None, text, now, self.target.public_url))
            return
        if isinstance(message, msg.ServerMedia):
            self.playback.push_media(message.payload, now)
            self._note(
                ReceivedMessage(now, "media", payload_bytes=len(message.payload), frame=frame)
            )
            for note in message.notes:
                if note not in self.result.warnings:
                    self.result.warnings.append(note)
        elif isinstance(message, msg.ServerMark):
            self._note(ReceivedMessage(now, "mark", mark=message.name, frame=frame))
            record = MarkRecord(message.name, now)
            self.result.marks.append(record)
            self._outstanding.append(record)
            self._echo(self.playback.push_mark(message.name, now), now, cleared=False)
        else:
            self._note(ReceivedMessage(now, "clear", frame=frame))
            before = self.playback.discarded_bytes
            echoed = self.playback.clear(now)
            discarded_ms = (self.playback.discarded_bytes - before) * 1000 / BYTES_PER_SECOND
            clear = ClearRecord(now, discarded_ms, list(echoed), frame)
            self._clears.append(clear)
            self.result.clears.append(clear)
            self._echo(echoed, now, cleared=True)

    def _note(self, message: ReceivedMessage) -> None:
        self._received.append(message)
        self.result.received.append(message)

    # --- timings ----------------------------------------------------------------------------

    def _finish_timings(self) -> None:
        """Reply latency and barge-in per utterance and key press of this stream."""
        media_times = [m.at for m in self._received if m.event == "media"]
        clear_times = [c.at for c in self._clears]
        timings = sorted(self._utterances.values(), key=lambda t: t.speech_started_at)
        for index, timing in enumerate(timings):
            if timing.last_voiced_at is None or timing.voiced_started_at is None:
                continue
            horizon = timings[index + 1].speech_started_at if index + 1 < len(timings) else None
            if timing.during_bot_audio:
                timing.clear_at = _first_after(clear_times, timing.voiced_started_at, horizon)
                if timing.clear_at is not None:
                    timing.barge_in_ms = (timing.clear_at - timing.voiced_started_at) * 1000
            reference = max(timing.last_voiced_at, timing.clear_at or 0.0)
            timing.first_reply_media_at = _first_after(media_times, reference, None)
            if timing.first_reply_media_at is not None:
                timing.reply_latency_ms = (
                    timing.first_reply_media_at - timing.last_voiced_at
                ) * 1000
        for press in self._dtmf:
            if press.during_bot_audio:
                press.clear_at = _first_after(clear_times, press.sent_at, None)
            reference = max(press.sent_at, press.clear_at or 0.0)
            press.first_reply_media_at = _first_after(media_times, reference, None)
            if press.first_reply_media_at is not None:
                press.reply_latency_ms = (press.first_reply_media_at - press.sent_at) * 1000
        self.result.dtmf.extend(self._dtmf)


def _first_after(times: list[float], start: float, before: float | None) -> float | None:
    for at in times:
        if at > start and (before is None or at < before):
            return at
    return None
