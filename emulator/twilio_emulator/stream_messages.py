"""Media Streams messages from Twilio's side: encode what Twilio sends, decode what servers send.

The mirror image of :mod:`ivr.twilio.media_stream` (the server's serializer). Shapes, key order
and types follow Twilio's documented examples exactly: ``sequenceNumber``, ``chunk`` and
``timestamp`` are strings, ``sampleRate`` and ``channels`` numbers::

    ws.send(connected())
    ws.send(start(1, stream_sid, account_sid, call_sid, {"token": "..."}))
    ws.send(media(2, stream_sid, chunk=1, timestamp_ms=0, payload=frame))
    message = parse_server_message(ws.receive(), stream_sid)   # ServerMedia | ServerMark | ...
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias


class MalformedMessage(ValueError):
    """A message from the server that Twilio would log and ignore; says what is wrong."""


@dataclass(frozen=True)
class ServerMedia:
    """Audio to play: raw μ-law bytes. ``notes`` lists deviations Twilio would tolerate badly."""

    payload: bytes
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerMark:
    """A mark to echo once the audio queued before it has played."""

    name: str


@dataclass(frozen=True)
class ServerClear:
    """Discard buffered audio and echo every outstanding mark."""


ServerMessage: TypeAlias = ServerMedia | ServerMark | ServerClear


def connected() -> str:
    """The first message on a stream (it has no ``streamSid``)."""
    return _dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start(
    sequence: int,
    stream_sid: str,
    account_sid: str,
    call_sid: str,
    custom_parameters: Mapping[str, str],
    tracks: tuple[str, ...] = ("inbound",),
) -> str:
    """The ``start`` message, sent once right after ``connected``."""
    return _dumps(
        {
            "event": "start",
            "sequenceNumber": str(sequence),
            "start": {
                "accountSid": account_sid,
                "streamSid": stream_sid,
                "callSid": call_sid,
                "tracks": list(tracks),
                "customParameters": dict(custom_parameters),
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
            "streamSid": stream_sid,
        }
    )


def media(sequence: int, stream_sid: str, *, chunk: int, timestamp_ms: int, payload: bytes) -> str:
    """One ``media`` message of the caller's (inbound) audio."""
    return _dumps(
        {
            "event": "media",
            "sequenceNumber": str(sequence),
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(timestamp_ms),
                "payload": base64.b64encode(payload).decode("ascii"),
            },
            "streamSid": stream_sid,
        }
    )


def dtmf(sequence: int, stream_sid: str, digit: str) -> str:
    """A key the caller pressed (one message per digit)."""
    return _dumps(
        {
            "event": "dtmf",
            "streamSid": stream_sid,
            "sequenceNumber": str(sequence),
            "dtmf": {"track": "inbound_track", "digit": digit},
        }
    )


def mark(sequence: int, stream_sid: str, name: str) -> str:
    """The echo of a mark the server sent."""
    return _dumps(
        {
            "event": "mark",
            "sequenceNumber": str(sequence),
            "streamSid": stream_sid,
            "mark": {"name": name},
        }
    )


def stop(sequence: int, stream_sid: str, account_sid: str, call_sid: str) -> str:
    """The last message: the stream stops (the caller hung up or the call ended)."""
    return _dumps(
        {
            "event": "stop",
            "sequenceNumber": str(sequence),
            "stop": {"accountSid": account_sid, "callSid": call_sid},
            "streamSid": stream_sid,
        }
    )


def parse_server_message(raw: str | bytes, stream_sid: str) -> ServerMessage:
    """Decode one message a server sent on a bidirectional stream.

    Args:
        raw: The WebSocket message (Twilio expects JSON text frames).
        stream_sid: This stream's SID, which every server message must carry.

    Returns:
        The message.

    Raises:
        MalformedMessage: Anything Twilio would not act on: binary frames, bad JSON, an unknown
            event, a missing or foreign ``streamSid``, a bad payload or mark name.
    """
    if not isinstance(raw, str):
        raise MalformedMessage("a binary frame; Twilio expects JSON text messages")
    try:
        message = json.loads(raw)
    except ValueError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise MalformedMessage("not a JSON object")
    event = message.get("event")
    if event not in ("media", "mark", "clear"):
        raise MalformedMessage(f"unknown event {event!r}; servers may send media, mark, clear")
    sid = message.get("streamSid")
    if sid != stream_sid:
        raise MalformedMessage(f"{event}: streamSid {sid!r} is not this stream's {stream_sid!r}")
    if event == "clear":
        return ServerClear()
    body = message.get(event)
    if not isinstance(body, dict):
        raise MalformedMessage(f"{event}: the {event!r} object is missing")
    if event == "mark":
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise MalformedMessage("mark: mark.name must be a non-empty string")
        return ServerMark(name)
    return _media(body)


def _media(body: dict[str, Any]) -> ServerMedia:
    payload = body.get("payload")
    if not isinstance(payload, str) or not payload:
        raise MalformedMessage("media: media.payload must be a non-empty base64 string")
    try:
        audio = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage("media: media.payload is not valid base64") from None
    notes = []
    if "track" in body:
        notes.append("media carries a 'track' field; Twilio's docs say not to send one")
    if audio[:4] == b"RIFF":
        notes.append("payload starts with a WAV header; Twilio plays it as noise")
    return ServerMedia(audio, tuple(notes))


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
