"""The quick reader of whole data frames: the messages wsproto would give, and the rest to it."""

from __future__ import annotations

import random

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Message, Ping, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate

from ivr.twilio.data_frames import DataFrames


def client_bytes(*events: Event, deflate: bool = False) -> bytes:
    """What a WebSocket client puts on the wire for ``events`` (masked, as clients must)."""
    extensions: list[Extension] = []
    if deflate:
        compression = PerMessageDeflate()
        compression.finalize("permessage-deflate")  # as if the server had agreed
        extensions.append(compression)
    client = Connection(ConnectionType.CLIENT, extensions=extensions)
    return b"".join(client.send(event) for event in events)


def server_reads(data: bytes) -> list[str | bytes]:
    """The messages wsproto's server side reads from ``data``."""
    server = Connection(ConnectionType.SERVER)
    server.receive_data(data)
    return [event.data for event in server.events() if isinstance(event, Message)]


def media(n: int) -> str:
    """A Media Streams message's size: long enough for a 16-bit length."""
    payload = "/" * 216
    return f'{{"event":"media","sequenceNumber":"{n}","media":{{"payload":"{payload}"}}}}'


def read_in_pieces(data: bytes, sizes: list[int]) -> tuple[list[str | bytes], bytes | None]:
    frames, messages = DataFrames(), list[str | bytes]()
    position, rest = 0, None
    for size in sizes:
        rest = frames.feed(data[position : position + size], messages)
        position += size
        if rest is not None:
            return messages, rest + data[position:]
    assert position >= len(data)
    return messages, rest


def test_whole_frames_of_every_length_are_the_messages_wsproto_reads() -> None:
    sent: list[TextMessage | BytesMessage] = [
        TextMessage(""),
        TextMessage("a"),
        TextMessage("é" * 62),  # 124 bytes: the longest 7-bit length in two-byte characters
        TextMessage(media(1)),
        BytesMessage(bytes(range(256)) * 40),  # 10,240 bytes
        TextMessage("ž" * 32767),  # 65,534 bytes: the longest 16-bit length
    ]
    data = client_bytes(*sent)
    messages, rest = read_in_pieces(data, [len(data)])
    assert rest is None
    assert messages == server_reads(data)
    assert messages == [event.data for event in sent]


@pytest.mark.parametrize("seed", range(5))
def test_frames_cut_anywhere_across_reads_give_the_same_messages(seed: int) -> None:
    sent = [TextMessage(media(n)) for n in range(30)]
    data = client_bytes(*sent)
    rng = random.Random(seed)
    sizes = [rng.choice((1, 2, 3, 7, 50, 333, 1000)) for _ in range(len(data))]
    messages, rest = read_in_pieces(data, sizes)
    assert rest is None
    assert messages == [event.data for event in sent]


@pytest.mark.parametrize(
    "other",
    [
        Ping(b"are you there"),
        CloseConnection(1000, "bye"),
        TextMessage("part one", message_finished=False),  # a fragment
        TextMessage("x" * 70000),  # a 64-bit length
    ],
    ids=["ping", "close", "fragment", "long"],
)
def test_any_other_frame_and_all_after_it_are_left_to_the_library(other: Event) -> None:
    before, after = client_bytes(TextMessage(media(1))), client_bytes(TextMessage(media(2)))
    data = before + client_bytes(other) + after
    for sizes in ([len(data)], [1] * len(data)):
        messages, rest = read_in_pieces(data, sizes)
        assert messages == [media(1)]
        assert rest == data[len(before) :]  # from the other frame's first byte, all of it


def test_a_compressed_message_is_left_to_the_library() -> None:
    data = client_bytes(TextMessage(media(1) * 4), deflate=True)
    assert data[0] & 0x40  # RSV1: compressed
    messages, rest = read_in_pieces(data, [len(data)])
    assert messages == [] and rest == data


def test_text_that_is_not_utf8_is_left_to_the_library() -> None:
    data = bytearray(client_bytes(TextMessage("ok")))
    data[6] = 0xFF ^ data[2]  # the first payload byte, unmasked, is 0xFF: never UTF-8
    messages, rest = read_in_pieces(bytes(data), [len(data)])
    assert messages == [] and rest == bytes(data)


def test_an_unmasked_frame_is_left_to_the_library() -> None:
    data = b"\x81\x02ok"  # a server's frame: clients must mask theirs
    messages, rest = read_in_pieces(data, [len(data)])
    assert messages == [] and rest == data


def test_a_message_over_the_size_limit_is_left_to_the_library() -> None:
    small, large = client_bytes(TextMessage("x" * 100)), client_bytes(TextMessage("x" * 101))
    frames, messages = DataFrames(max_size=100), list[str | bytes]()
    assert frames.feed(small, messages) is None and messages == ["x" * 100]
    assert frames.feed(large, messages) == large
