"""``<Connect><Stream>`` from Twilio's side: open the call's Media Stream and report on it.

    ended_by = run_stream(call, verb.stream)   # "server" | "hangup" | "max-seconds" | ...
    result.audio = heard_audio(call.streams, result.started_at, end)

Twilio connects to ``wss://`` URLs only: another scheme is refused as error 31920 without a
connection. The handshake is signed over the ``wss://`` URL from the TwiML with no parameters;
the socket goes to the server through the same TLS proxy as the webhooks. A
``<Stream statusCallback>`` gets ``stream-started``, ``stream-stopped`` or ``stream-error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np

from twilio_emulator import twiml
from twilio_emulator.caller import ScriptPlayer
from twilio_emulator.playback import SILENCE
from twilio_emulator.result import CallError, CallResult
from twilio_emulator.sids import new_sid
from twilio_emulator.stream import StreamSession, StreamTarget
from twilio_emulator.stream_client import HANDSHAKE_REFUSED
from twilio_emulator.webhooks import Webhooks

#: Told ``(event, error)`` for the ``<Stream statusCallback>``.
StreamNotifier = Callable[[str, str | None], None]


class StreamingCall(Protocol):
    """What a stream needs from the call it runs in."""

    result: CallResult
    hooks: Webhooks
    player: ScriptPlayer
    deadline: float
    streams: list[StreamSession]

    def error(self, kind: str, code: int | None, message: str, url: str | None = None) -> CallError:
        """Record an error Twilio would log."""

    def post_async(self, purpose: str, url: str, method: str, params: dict[str, str]) -> None:
        """Make a signed request in the background (callbacks)."""


def run_stream(call: StreamingCall, stream: twiml.Stream) -> str:
    """Open ``stream`` and run it to its end; how it ended (``StreamSession.run``'s answer)."""
    stream_sid = new_sid("MZ")
    notify = stream_notifier(call, stream, stream_sid)
    if urlsplit(stream.url).scheme != "wss":
        message = f"stream {stream.url}: Twilio connects to wss:// URLs only"
        call.error("stream", HANDSHAKE_REFUSED, message, stream.url)
        notify("stream-error", message)
        return "handshake-failed"
    if urlsplit(stream.url).query:
        call.result.warnings.append(
            f"stream URL {stream.url} has a query string; Twilio may drop it or fail "
            "the handshake: pass data with <Parameter>"
        )
    target = StreamTarget(
        stream.url,
        call.hooks.to_server(stream.url),
        call.hooks.signer.expected(stream.url),  # the wss:// URL, no parameters
        dict(stream.parameters),
    )
    session = StreamSession(target, stream_sid, call.result, call.player, call.deadline, notify)
    call.streams.append(session)
    return session.run()


def stream_notifier(call: StreamingCall, stream: twiml.Stream, stream_sid: str) -> StreamNotifier:
    """Sends the stream's ``statusCallback`` events (nothing when it has none)."""

    def notify(event: str, error: str | None) -> None:
        if stream.status_callback is None:
            return
        params = {
            "AccountSid": call.result.account_sid,
            "CallSid": call.result.call_sid,
            "StreamSid": stream_sid,
            "StreamName": stream.name or stream_sid,
            "StreamEvent": event,
            "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        if error is not None:
            params["StreamError"] = error
        call.post_async(
            "stream-status", stream.status_callback, stream.status_callback_method, params
        )

    return notify


def heard_audio(streams: Sequence[StreamSession], start: float, end: float) -> bytes:
    """The caller's ears from ``start`` to ``end``: each stream's playback at its wall time.

    8 kHz μ-law, silence where nothing played.
    """
    heard = np.full(max(0, round((end - start) * 8000)), SILENCE, np.uint8)
    for session in streams:  # streams never overlap in time
        rendered = np.frombuffer(session.playback.render(start, end), np.uint8)
        rendered = rendered[: len(heard)]
        played = rendered != SILENCE
        heard[: len(rendered)][played] = rendered[played]
    return heard.tobytes()
