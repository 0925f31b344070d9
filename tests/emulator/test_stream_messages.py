"""Twilio's side of the stream messages: the documented shapes exactly, and the server's parsed."""

from __future__ import annotations

import base64
import json
from typing import TypeAlias

import pytest
from twilio_emulator import stream_messages as msg

from ivr.twilio.media_stream import (
    AudioReceived,
    DtmfReceived,
    MarkPlayed,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    decode,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
CALL = "CA0123456789abcdef0123456789abcdef"


#: A JSON value's shape: its type's name, or an object's keys in order with their values' shapes.
Shape: TypeAlias = str | list[tuple[str, "Shape"]]


def shape(text: str) -> list[tuple[str, Shape]]:
    """Keys in order, recursively, with value types: what the docs' examples fix."""

    def walk(value: object) -> Shape:
        if isinstance(value, dict):
            return [(key, walk(item)) for key, item in value.items()]
        return type(value).__name__

    return walk(json.loads(text))  # type: ignore[return-value]


def test_connected_matches_the_documented_example() -> None:
    assert json.loads(msg.connected()) == {
        "event": "connected",
        "protocol": "Call",
        "version": "1.0.0",
    }


def test_start_matches_the_documented_shape() -> None:
    text = msg.start(1, SID, ACCOUNT, CALL, {"FirstName": "Jane"})
    assert json.loads(text) == {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": ACCOUNT,
            "streamSid": SID,
            "callSid": CALL,
            "tracks": ["inbound"],
            "customParameters": {"FirstName": "Jane"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
        "streamSid": SID,
    }
    assert shape(text) == [
        ("event", "str"),
        ("sequenceNumber", "str"),
        (
            "start",
            [
                ("accountSid", "str"),
                ("streamSid", "str"),
                ("callSid", "str"),
                ("tracks", "list"),
                ("customParameters", [("FirstName", "str")]),
                ("mediaFormat", [("encoding", "str"), ("sampleRate", "int"), ("channels", "int")]),
            ],
        ),
        ("streamSid", "str"),
    ]


def test_media_uses_strings_for_sequence_chunk_and_timestamp() -> None:
    audio = bytes(range(160))
    text = msg.media(4, SID, chunk=2, timestamp_ms=20, payload=audio)
    assert json.loads(text) == {
        "event": "media",
        "sequenceNumber": "4",
        "media": {
            "track": "inbound",
            "chunk": "2",
            "timestamp": "20",
            "payload": base64.b64encode(audio).decode(),
        },
        "streamSid": SID,
    }
    assert [key for key, _ in shape(text)] == ["event", "sequenceNumber", "media", "streamSid"]


def test_dtmf_mark_and_stop_match_the_documented_examples() -> None:
    assert json.loads(msg.dtmf(5, SID, "1")) == {
        "event": "dtmf",
        "streamSid": SID,
        "sequenceNumber": "5",
        "dtmf": {"track": "inbound_track", "digit": "1"},
    }
    assert json.loads(msg.mark(4, SID, "my label")) == {
        "event": "mark",
        "sequenceNumber": "4",
        "streamSid": SID,
        "mark": {"name": "my label"},
    }
    assert json.loads(msg.stop(5, SID, ACCOUNT, CALL)) == {
        "event": "stop",
        "sequenceNumber": "5",
        "stop": {"accountSid": ACCOUNT, "callSid": CALL},
        "streamSid": SID,
    }


def test_our_own_server_decoder_reads_every_message() -> None:
    """The project's server-side serializer is an independent reader of the same format."""
    audio = b"\x00\x7f\xff" * 10
    assert isinstance(decode(msg.connected()), StreamConnected)
    started = decode(msg.start(1, SID, ACCOUNT, CALL, {"k": "v"}))
    assert isinstance(started, StreamStarted)
    assert (started.call_id, dict(started.custom_parameters)) == (CALL, {"k": "v"})
    media = decode(msg.media(2, SID, chunk=7, timestamp_ms=120, payload=audio))
    assert media == AudioReceived(SID, audio, timestamp_ms=120, chunk=7, sequence_number=2)
    assert decode(msg.dtmf(3, SID, "#")) == DtmfReceived(SID, "#", sequence_number=3)
    assert decode(msg.mark(4, SID, "m")) == MarkPlayed(SID, "m", sequence_number=4)
    assert decode(msg.stop(5, SID, ACCOUNT, CALL)) == StreamStopped(SID, CALL, sequence_number=5)


def server(event: str, **fields: object) -> str:
    return json.dumps({"event": event, "streamSid": SID, **fields})


def test_server_media_mark_and_clear_are_parsed() -> None:
    audio = b"\x01\x02\xff"
    payload = base64.b64encode(audio).decode()
    assert msg.parse_server_message(server("media", media={"payload": payload}), SID) == (
        msg.ServerMedia(audio)
    )
    assert msg.parse_server_message(server("mark", mark={"name": "r1"}), SID) == msg.ServerMark(
        "r1"
    )
    assert msg.parse_server_message(server("clear"), SID) == msg.ServerClear()


def test_server_media_with_a_track_or_a_wav_header_is_played_with_notes() -> None:
    payload = base64.b64encode(b"RIFF....WAVE").decode()
    parsed = msg.parse_server_message(
        server("media", media={"payload": payload, "track": "outbound"}), SID
    )
    assert isinstance(parsed, msg.ServerMedia)
    assert len(parsed.notes) == 2


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"\x00\x01", "binary frame"),
        ("{not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (server("start"), "unknown event 'start'"),
        (json.dumps({"event": "clear"}), "streamSid None"),
        (json.dumps({"event": "clear", "streamSid": "MZother"}), "streamSid 'MZother'"),
        (server("media"), "'media' object is missing"),
        (server("media", media={"payload": ""}), "non-empty base64"),
        (server("media", media={"payload": "@@@@"}), "not valid base64"),
        (server("mark", mark={}), "mark.name"),
        (server("mark", mark={"name": 3}), "mark.name"),
    ],
)
def test_malformed_server_messages_are_refused_with_a_reason(
    raw: str | bytes, fragment: str
) -> None:
    with pytest.raises(msg.MalformedMessage) as raised:
        msg.parse_server_message(raw, SID)
    assert fragment in str(raised.value)
