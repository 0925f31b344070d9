"""Audio messages taken from the socket in one read reach the call as one piece, in order.

The socket here is a script of reads (what one ``recv`` brought, as messages); the call records
what it is handed. The real socket's pacing is tested in ``test_websocket.py``, the listener's
handling of long pieces in ``tests/voice/test_listener.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simple_websocket import ConnectionClosed  # type: ignore[import-untyped]
from twilio_emulator import stream_messages

from ivr.twilio.stream import serve_stream
from tests.ivr.twilio.test_media_stream import CALL, SID

OTHER_SID = "MZ00000000000000000000000000000000"


def start() -> str:
    return stream_messages.start(1, SID, "AC123", CALL, {})


def media(audio: bytes, stream_sid: str = SID) -> str:
    return stream_messages.media(2, stream_sid, chunk=1, timestamp_ms=0, payload=audio)


def dtmf(digit: str) -> str:
    return stream_messages.dtmf(3, SID, digit)


class ScriptedSocket:
    """Each read of the script brings its messages at once; then the peer closes."""

    def __init__(self, reads: list[list[str]]) -> None:
        self.reads = [list(read) for read in reads]
        self.urgent: Any = None
        self.sent: list[str] = []

    @property
    def buffered(self) -> bool:
        return bool(self.reads and self.reads[0])

    def receive(self) -> str:
        while self.reads and not self.reads[0]:
            self.reads.pop(0)
        if not self.reads:
            raise ConnectionClosed(1000, "peer hung up")
        return self.reads[0].pop(0)

    def send(self, message: str) -> None:
        self.sent.append(message)

    def close(self) -> None:
        pass


class RecordingCall:
    """The call's side: what it was handed, in order."""

    def __init__(self) -> None:
        self.got: list[tuple[str, object]] = []
        self.mid_turn = False

    def start(self, parameters: Mapping[str, str]) -> None:
        self.got.append(("start", None))

    def audio(self, ulaw: bytes) -> None:
        self.got.append(("audio", ulaw))

    def dtmf(self, digit: str) -> None:
        self.got.append(("dtmf", digit))

    def close(self) -> None:
        self.got.append(("close", None))


class Opener:
    def __init__(self) -> None:
        self.call = RecordingCall()

    def open(self, call_id: str, parameters: Mapping[str, str], outbox: object) -> RecordingCall:
        return self.call


def serve(reads: list[list[str]]) -> tuple[list[tuple[str, object]], ScriptedSocket]:
    socket, opener = ScriptedSocket(reads), Opener()
    serve_stream(socket, opener)  # type: ignore[arg-type]  # the opener's call records
    return opener.call.got, socket


def test_audio_read_together_is_one_piece_and_each_read_its_own() -> None:
    got, _ = serve([[start()], [media(b"a"), media(b"b"), media(b"c")], [media(b"d")]])
    assert got == [("start", None), ("audio", b"abc"), ("audio", b"d"), ("close", None)]


def test_a_key_between_audio_keeps_its_place() -> None:
    got, _ = serve([[start(), media(b"a"), media(b"b"), dtmf("5"), media(b"c"), media(b"d")]])
    assert got == [
        ("start", None),
        ("audio", b"ab"),
        ("dtmf", "5"),
        ("audio", b"cd"),
        ("close", None),
    ]


def test_another_streams_audio_is_never_joined_to_this_ones() -> None:
    got, _ = serve([[start(), media(b"a"), media(b"x", OTHER_SID), media(b"b")]])
    assert got == [("start", None), ("audio", b"a"), ("audio", b"b"), ("close", None)]


def test_a_malformed_message_between_audio_is_skipped_and_the_audio_goes_on() -> None:
    got, _ = serve([[start(), media(b"a"), "{not json", media(b"b")]])
    assert got == [("start", None), ("audio", b"ab"), ("close", None)]


def test_the_socket_reads_at_once_while_the_caller_is_mid_turn() -> None:
    socket, opener = ScriptedSocket([[start()]]), Opener()
    serve_stream(socket, opener)  # type: ignore[arg-type]
    assert socket.urgent() is False
    opener.call.mid_turn = True  # the caller started a turn: its end is best heard at once
    assert socket.urgent() is True
