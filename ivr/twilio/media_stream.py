"""Twilio Media Streams messages ↔ stream events: a pure serializer, no socket and no clock.

The socket route only loops::

    event = decode(ws.receive())          # None: logged and ignored, the call goes on
    ...
    ws.send(encode_media(stream_sid, mulaw_bytes))
    ws.send(encode_mark(stream_sid, "reply-42"))

Twilio's names stop here: ``callSid`` becomes ``call_id``. ``stream_sid`` keeps its name because
only this transport uses it (to address outbound messages). Sequence numbers, chunks and
timestamps arrive as strings and leave as ``int``. Decoding never raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

ENCODING = "audio/x-mulaw"
SAMPLE_RATE = 8000
CHANNELS = 1
DTMF_DIGITS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True)
class StreamConnected:
    """The WebSocket is open (Twilio's first message; it has no stream id yet)."""

    protocol: str = ""
    version: str = ""


@dataclass(frozen=True)
class StreamStarted:
    """The stream started; ``custom_parameters`` are the TwiML ``<Parameter>`` pairs."""

    stream_sid: str
    call_id: str
    account_sid: str = ""
    custom_parameters: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    tracks: tuple[str, ...] = ()
    sequence_number: int | None = None


@dataclass(frozen=True)
class AudioReceived:
    """Caller audio: raw μ-law 8 kHz mono bytes, ``timestamp_ms`` from the stream's start."""

    stream_sid: str
    audio: bytes
    timestamp_ms: int
    chunk: int
    sequence_number: int | None = None


@dataclass(frozen=True)
class DtmfReceived:
    """The caller pressed one key."""

    stream_sid: str
    digit: str
    sequence_number: int | None = None


@dataclass(frozen=True)
class MarkPlayed:
    """Twilio echoed a mark: the audio queued before it played, or was cleared."""

    stream_sid: str
    name: str
    sequence_number: int | None = None


@dataclass(frozen=True)
class StreamStopped:
    """The stream ended: the call ended *or* its TwiML was replaced (not proof of a hang-up)."""

    stream_sid: str
    call_id: str | None = None
    sequence_number: int | None = None


StreamEvent = (
    StreamConnected | StreamStarted | AudioReceived | DtmfReceived | MarkPlayed | StreamStopped
)


class _Malformed(Exception):
    """A message we cannot use; the text says why. Never leaves this module."""


def decode(text: str) -> StreamEvent | None:
    """Turn one text frame from Twilio into a stream event.

    Args:
        text: The frame exactly as received.

    Returns:
        The event, or ``None`` (with a log line) for anything unknown or malformed.
    """
    stream_sid: str | None = None
    event: object = None
    try:
        if not isinstance(text, str):
            raise _Malformed(f"expected a text frame, got {type(text).__name__}")
        try:
            message = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise _Malformed("not JSON") from exc
        if not isinstance(message, dict):
            raise _Malformed("not a JSON object")
        event = message.get("event")
        if event == "connected":
            return StreamConnected(
                protocol=_opt_str(message, "protocol"), version=_opt_str(message, "version")
            )
        stream_sid = _str(message, "streamSid")
        parse = _PARSERS.get(event) if isinstance(event, str) else None
        if parse is None:
            log.info(
                "media stream: ignored unknown event",
                extra={"stream_sid": stream_sid, "twilio_event": str(event)[:40]},
            )
            return None
        return parse(message, stream_sid, _sequence(message))
    except _Malformed as exc:
        log.warning(
            "media stream: ignored malformed message",
            extra={"stream_sid": stream_sid, "twilio_event": str(event)[:40], "problem": str(exc)},
        )
        return None


def encode_media(stream_sid: str, mulaw: bytes) -> str:
    """A ``media`` message playing ``mulaw`` (raw μ-law 8 kHz mono, no header) to the caller."""
    payload = base64.b64encode(mulaw).decode("ascii")
    return _dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def encode_mark(stream_sid: str, name: str) -> str:
    """A ``mark`` message; Twilio echoes ``name`` once the audio queued before it has played."""
    return _dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def encode_clear(stream_sid: str) -> str:
    """A ``clear`` message: drop all buffered audio (barge-in); outstanding marks are echoed."""
    return _dumps({"event": "clear", "streamSid": stream_sid})


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _start(message: dict[str, Any], stream_sid: str, seq: int | None) -> StreamStarted:
    start = _obj(message, "start")
    if _str(start, "streamSid") != stream_sid:
        raise _Malformed("start.streamSid differs from streamSid")
    fmt = _obj(start, "mediaFormat")
    got = (fmt.get("encoding"), fmt.get("sampleRate"), fmt.get("channels"))
    if got != (ENCODING, SAMPLE_RATE, CHANNELS) or any(isinstance(v, bool) for v in got):
        raise _Malformed(f"unsupported media format {got!r}")
    params = start.get("customParameters", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise _Malformed("customParameters is not an object of strings")
    tracks = start.get("tracks", [])
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise _Malformed("tracks is not a list of strings")
    return StreamStarted(
        stream_sid=stream_sid,
        call_id=_str(start, "callSid"),
        account_sid=_opt_str(start, "accountSid"),
        custom_parameters=MappingProxyType(dict(params)),
        tracks=tuple(tracks),
        sequence_number=seq,
    )


def _media(message: dict[str, Any], stream_sid: str, seq: int | None) -> AudioReceived:
    media = _obj(message, "media")
    if media.get("track", "inbound") != "inbound":  # a bidirectional stream sends only inbound
        raise _Malformed(f"unexpected track {media.get('track')!r}")
    try:
        audio = base64.b64decode(_str(media, "payload", empty_ok=True), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Malformed("payload is not base64") from exc
    return AudioReceived(
        stream_sid=stream_sid,
        audio=audio,
        timestamp_ms=_number(media.get("timestamp"), "media.timestamp"),
        chunk=_number(media.get("chunk"), "media.chunk"),
        sequence_number=seq,
    )


def _dtmf(message: dict[str, Any], stream_sid: str, seq: int | None) -> DtmfReceived:
    digit = _str(_obj(message, "dtmf"), "digit").upper()
    if digit not in DTMF_DIGITS:
        raise _Malformed(f"not a DTMF digit: {digit[:10]!r}")
    return DtmfReceived(stream_sid=stream_sid, digit=digit, sequence_number=seq)


def _mark(message: dict[str, Any], stream_sid: str, seq: int | None) -> MarkPlayed:
    name = _str(_obj(message, "mark"), "name", empty_ok=True)
    return MarkPlayed(stream_sid=stream_sid, name=name, sequence_number=seq)


def _stop(message: dict[str, Any], stream_sid: str, seq: int | None) -> StreamStopped:
    # Lenient on purpose: losing a stop would leave the call's pipeline running.
    stop = message.get("stop")
    call_id = stop.get("callSid") if isinstance(stop, dict) else None
    call_id = call_id if isinstance(call_id, str) and call_id else None
    return StreamStopped(stream_sid=stream_sid, call_id=call_id, sequence_number=seq)


_Parser = Callable[[dict[str, Any], str, int | None], StreamEvent]
_PARSERS: dict[str, _Parser] = {
    "start": _start,
    "media": _media,
    "dtmf": _dtmf,
    "mark": _mark,
    "stop": _stop,
}


def _obj(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise _Malformed(f"{key} is missing or not an object")
    return value


def _str(message: dict[str, Any], key: str, *, empty_ok: bool = False) -> str:
    value = message.get(key)
    if not isinstance(value, str) or (not value and not empty_ok):
        raise _Malformed(f"{key} is missing or not a string")
    return value


def _opt_str(message: dict[str, Any], key: str) -> str:
    value = message.get(key, "")
    if not isinstance(value, str):
        raise _Malformed(f"{key} is not a string")
    return value


def _number(value: object, name: str) -> int:
    """A non-negative integer sent as a string (as documented) or a JSON number."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15:
        return int(value)  # ASCII digits only: int() would also take "٣", "+1", "1_0"
    raise _Malformed(f"{name} is not a non-negative integer")


def _sequence(message: dict[str, Any]) -> int | None:
    value = message.get("sequenceNumber")
    return None if value is None else _number(value, "sequenceNumber")
