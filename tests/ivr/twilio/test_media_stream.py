"""The Media Streams serializer: documented messages in, documented shapes out, never a raise."""

from __future__ import annotations

import base64
import json
import logging
import random
from typing import Any

import pytest

from ivr.twilio.media_stream import (
    AudioReceived,
    DtmfReceived,
    MarkPlayed,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    decode,
    encode_clear,
    encode_mark,
    encode_media,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA0123456789abcdef0123456789abcdef"
AUDIO = bytes(range(256)) + b"\xff" * 160
PAYLOAD = base64.b64encode(AUDIO).decode()

# The examples of twilio.md section 1.2, with the elided ids filled in.
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "AC123",
        "streamSid": SID,
        "callSid": CALL,
        "tracks": ["inbound"],
        "customParameters": {"FirstName": "Jane"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
    "streamSid": SID,
}
MEDIA = {
    "event": "media",
    "sequenceNumber": "4",
    "media": {"track": "inbound", "chunk": "2", "timestamp": "5", "payload": PAYLOAD},
    "streamSid": SID,
}
DTMF = {
    "event": "dtmf",
    "streamSid": SID,
    "sequenceNumber": "5",
    "dtmf": {"track": "inbound_track", "digit": "1"},
}
MARK = {"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "my label"}}
STOP = {
    "event": "stop",
    "sequenceNumber": "5",
    "stop": {"accountSid": "AC123", "callSid": CALL},
    "streamSid": SID,
}


def test_connected() -> None:
    assert decode(json.dumps(CONNECTED)) == StreamConnected(protocol="Call", version="1.0.0")


def test_start() -> None:
    event = decode(json.dumps(START))
    assert event == StreamStarted(
        stream_sid=SID,
        call_id=CALL,
        account_sid="AC123",
        custom_parameters={"FirstName": "Jane"},
        tracks=("inbound",),
        sequence_number=1,
    )
    assert isinstance(event, StreamStarted)
    with pytest.raises(TypeError):
        event.custom_parameters["x"] = "y"  # type: ignore[index]


def test_start_without_custom_parameters() -> None:
    message = json.loads(json.dumps(START))
    del message["start"]["customParameters"], message["start"]["tracks"]
    event = decode(json.dumps(message))
    assert isinstance(event, StreamStarted)
    assert dict(event.custom_parameters) == {}
    assert event.tracks == ()


def test_media() -> None:
    assert decode(json.dumps(MEDIA)) == AudioReceived(
        stream_sid=SID, audio=AUDIO, timestamp_ms=5, chunk=2, sequence_number=4
    )


def test_media_accepts_json_numbers_and_no_track() -> None:
    message = {
        "event": "media",
        "streamSid": SID,
        "media": {"chunk": 3, "timestamp": 60, "payload": ""},
    }
    assert decode(json.dumps(message)) == AudioReceived(SID, b"", 60, 3)


def test_dtmf() -> None:
    assert decode(json.dumps(DTMF)) == DtmfReceived(stream_sid=SID, digit="1", sequence_number=5)


@pytest.mark.parametrize("digit", [*"0123456789*#", "A", "d"])
def test_every_dtmf_key(digit: str) -> None:
    message = {**DTMF, "dtmf": {"track": "inbound_track", "digit": digit}}
    assert decode(json.dumps(message)) == DtmfReceived(SID, digit.upper(), 5)


def test_mark() -> None:
    assert decode(json.dumps(MARK)) == MarkPlayed(
        stream_sid=SID, name="my label", sequence_number=4
    )


def test_stop() -> None:
    assert decode(json.dumps(STOP)) == StreamStopped(
        stream_sid=SID, call_id=CALL, sequence_number=5
    )


def test_stop_is_kept_even_without_its_body() -> None:
    assert decode(json.dumps({"event": "stop", "streamSid": SID})) == StreamStopped(SID)


def test_events_are_frozen_and_hashable() -> None:
    event = decode(json.dumps(START))
    assert isinstance(event, StreamStarted)
    with pytest.raises(AttributeError):
        event.stream_sid = "other"  # type: ignore[misc]
    assert len({event, decode(json.dumps(START))}) == 1


def _with(base: dict[str, Any], path: str, value: Any) -> str:
    """``base`` as JSON with the value at dotted ``path`` replaced (``...`` deletes it)."""
    message = json.loads(json.dumps(base))
    *parents, last = path.split(".")
    target = message
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return json.dumps(message)


MALFORMED = {
    "not json": "{event: media}",
    "empty": "",
    "truncated": json.dumps(MEDIA)[:-5],
    "json list": json.dumps([MEDIA]),
    "json string": json.dumps("media"),
    "json null": "null",
    "deep nesting": "[" * 100_000,
    "missing event": _with(MEDIA, "event", ...),
    "unknown event": _with(MEDIA, "event", "closed"),
    "event not a string": _with(MEDIA, "event", 7),
    "missing streamSid": _with(MEDIA, "streamSid", ...),
    "streamSid not a string": _with(MARK, "streamSid", 1),
    "empty streamSid": _with(STOP, "streamSid", ""),
    "media without media": _with(MEDIA, "media", ...),
    "media not an object": _with(MEDIA, "media", PAYLOAD),
    "media without payload": _with(MEDIA, "media.payload", ...),
    "payload not a string": _with(MEDIA, "media.payload", 12),
    "bad base64": _with(MEDIA, "media.payload", "not*base64!"),
    "bad base64 padding": _with(MEDIA, "media.payload", "abc"),
    "non-ascii base64": _with(MEDIA, "media.payload", "äbcd"),
    "outbound track": _with(MEDIA, "media.track", "outbound"),
    "missing timestamp": _with(MEDIA, "media.timestamp", ...),
    "negative timestamp": _with(MEDIA, "media.timestamp", "-5"),
    "float timestamp": _with(MEDIA, "media.timestamp", "5.0"),
    "unicode digits": _with(MEDIA, "media.timestamp", "\u0665"),
    "bool chunk": _with(MEDIA, "media.chunk", True),
    "missing chunk": _with(MEDIA, "media.chunk", ...),
    "huge sequence": _with(MEDIA, "sequenceNumber", "9" * 5000),
    "sequence not a number": _with(MARK, "sequenceNumber", "four"),
    "start without streamSid": _with(START, "start.streamSid", ...),
    "start streamSid differs": _with(START, "start.streamSid", "MZother"),
    "start without callSid": _with(START, "start.callSid", ...),
    "start without mediaFormat": _with(START, "start.mediaFormat", ...),
    "wrong encoding": _with(START, "start.mediaFormat.encoding", "audio/l16"),
    "wrong rate": _with(START, "start.mediaFormat.sampleRate", 16000),
    "rate as string": _with(START, "start.mediaFormat.sampleRate", "8000"),
    "stereo": _with(START, "start.mediaFormat.channels", 2),
    "channels as bool": _with(START, "start.mediaFormat.channels", True),
    "custom parameter not a string": _with(START, "start.customParameters", {"a": 1}),
    "customParameters a list": _with(START, "start.customParameters", ["a"]),
    "tracks not a list": _with(START, "start.tracks", "inbound"),
    "start not an object": _with(START, "start", "go"),
    "dtmf without digit": _with(DTMF, "dtmf.digit", ...),
    "dtmf two digits": _with(DTMF, "dtmf.digit", "12"),
    "dtmf not a key": _with(DTMF, "dtmf.digit", "x"),
    "mark without name": _with(MARK, "mark.name", ...),
    "mark name not a string": _with(MARK, "mark.name", 3),
    "connected version not a string": _with(CONNECTED, "version", 1),
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_gives_none_and_a_log_line(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.twilio.media_stream"):
        assert decode(text) is None
    [record] = caplog.records
    assert hasattr(record, "stream_sid")
    assert record.stream_sid in (None, SID)


def test_log_line_carries_the_stream_sid(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.twilio.media_stream"):
        decode(_with(MEDIA, "media.payload", "###"))
        decode(_with(MEDIA, "event", "closed"))
    assert [r.stream_sid for r in caplog.records] == [SID, SID]  # type: ignore[attr-defined]
    assert caplog.records[0].levelno == logging.WARNING
    assert caplog.records[0].problem == "payload is not base64"  # type: ignore[attr-defined]
    assert caplog.records[1].levelno == logging.INFO


def test_binary_frame_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.twilio.media_stream"):
        assert decode(json.dumps(MEDIA).encode()) is None  # type: ignore[arg-type]
    assert len(caplog.records) == 1


def test_encode_media_has_the_documented_shape() -> None:
    text = encode_media(SID, AUDIO)
    assert json.loads(text) == {"event": "media", "streamSid": SID, "media": {"payload": PAYLOAD}}
    assert "track" not in text


def test_encode_mark_and_clear_have_the_documented_shapes() -> None:
    mark = json.loads(encode_mark(SID, "reply-42"))
    assert mark == {"event": "mark", "streamSid": SID, "mark": {"name": "reply-42"}}
    assert json.loads(encode_clear(SID)) == {"event": "clear", "streamSid": SID}


def test_an_echoed_mark_decodes_to_its_name() -> None:
    sent = json.loads(encode_mark(SID, 'prompt "ü" 7'))
    echoed = {**sent, "sequenceNumber": "9"}
    assert decode(json.dumps(echoed)) == MarkPlayed(SID, 'prompt "ü" 7', 9)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 160, 161, 8000])
def test_audio_round_trip(size: int) -> None:
    audio = random.Random(size).randbytes(size)
    sent = json.loads(encode_media(SID, audio))
    inbound = {
        **sent,
        "media": {**sent["media"], "track": "inbound", "chunk": "1", "timestamp": "0"},
    }
    event = decode(json.dumps(inbound))
    assert isinstance(event, AudioReceived)
    assert event.audio == audio


EVENT_TYPES = (
    StreamConnected,
    StreamStarted,
    AudioReceived,
    DtmfReceived,
    MarkPlayed,
    StreamStopped,
)


def test_fuzz_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    """Every frame decodes to an event or None; the well-formed ones to their own event."""
    rng = random.Random(1234)
    documented = (CONNECTED, START, MEDIA, DTMF, MARK, STOP)
    valid = [json.dumps(m) for m in documented]
    alphabet = '{}[]":,0123456789abcdefghijklmnopqrstuvwxyz-+.eE \\/\u00e9\ud800\x00'
    outcomes: dict[int, list[object]] = {kind: [] for kind in range(5)}
    with caplog.at_level(logging.CRITICAL, logger="ivr.twilio.media_stream"):
        for _ in range(3000):
            kind = rng.randrange(5)
            if kind == 4:  # a documented message as Twilio sends it
                index = rng.randrange(len(valid))
                event = decode(valid[index])
                assert isinstance(event, EVENT_TYPES[index]), (documented[index], event)
                outcomes[kind].append(event)
                continue
            if kind == 0:
                text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(60)))
            elif kind == 1:
                text = rng.randbytes(rng.randrange(60)).decode("latin-1")
            elif kind == 2:  # flip, drop or insert characters in a real message
                chars = list(rng.choice(valid))
                for _ in range(rng.randint(1, 4)):
                    i = rng.randrange(len(chars))
                    op = rng.randrange(3)
                    if op == 0:
                        chars[i] = rng.choice(alphabet)
                    elif op == 1:
                        del chars[i]
                    else:
                        chars.insert(i, rng.choice(alphabet))
                text = "".join(chars)
            else:  # structurally valid JSON with random values in random places
                message = json.loads(rng.choice(valid))
                key = rng.choice(list(message))
                message[key] = rng.choice([None, 0, -1, "", [], {}, "x", True, 1e308])
                text = json.dumps(message)
            try:
                event = decode(text)
            except Exception as error:  # the assertion names the frame
                raise AssertionError(f"decode raised {error!r} on {text!r}") from error
            assert event is None or isinstance(event, EVENT_TYPES), (text, event)
            outcomes[kind].append(event)
    # Every kind of frame was tried; random text never decodes, damaged messages sometimes do.
    assert all(len(decoded) > 400 for decoded in outcomes.values())
    assert {type(event) for event in outcomes[4]} == set(EVENT_TYPES)
    assert all(event is None for event in outcomes[1])
    assert any(event is None for event in outcomes[2])
    assert any(event is None for event in outcomes[3])
    assert any(event is not None for event in outcomes[3])
