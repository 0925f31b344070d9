"""The common case of a WebSocket read, done quickly: whole data frames from the client.

Why by hand: a call's stream is fifty small text messages a second, each one masked,
unfragmented, uncompressed frame. Under load (16 calls on 2 cores, ``py-spy record --gil``)
wsproto and simple_websocket's event loop took 37 % of the socket hub's time, about 100 µs a
message: pure-Python frame parsing, an incremental UTF-8 decoder and event objects per message.
No maintained library offers a fast synchronous (sans-I/O) reader to use instead: wsproto is the
sans-I/O one, and the fast readers (aiohttp's, picows) belong to their asyncio transports.

So this reads only what it can read exactly as RFC 6455 says, and leaves everything else to
the library: at the first frame that is not a whole masked text or binary frame with FIN set
and no RSV bits (a ping, a close, a fragment, a compressed or oversized message, text that is
not UTF-8), it hands the bytes from that frame's first byte on back, and the caller gives them
to wsproto from then on. wsproto sees a frame boundary with no message in progress, which is
the state it would be in after the frames read here.

    frames = DataFrames(max_size=None)
    rest = frames.feed(data, messages)   # messages += whole data frames' payloads
    if rest is not None:                 # from here on the library reads
        ws.receive_data(rest)
"""

from __future__ import annotations

from wsproto.frame_protocol import XorMaskerSimple

#: FIN set, no RSV bits: the first byte of a whole, uncompressed message's frame.
_FIN = 0x80
_TEXT, _BINARY = 0x1, 0x2
_MASKED = 0x80
#: A payload length of 126 means two more bytes of length; 127, eight (left to the library).
_LENGTH_16, _LENGTH_64 = 126, 127


class DataFrames:
    """Reads a client's whole data frames, until the first frame it leaves to the library.

    Args:
        max_size: The largest message taken here (``None``: any a 16-bit length allows);
            a larger one is left to the library, which enforces its own limit.
    """

    def __init__(self, max_size: int | None = None) -> None:
        self.max_size = max_size
        self._pending = b""  # the start of a frame not yet whole

    def feed(self, data: bytes, messages: list[str | bytes]) -> bytes | None:
        """Take what ``data`` completes; its messages are appended to ``messages``.

        Returns:
            ``None`` when every frame so far was taken (a frame not yet whole is kept for the
            next read); else the bytes from the first frame left to the library on, which
            the caller gives it, with every later read.
        """
        buffer = self._pending + data if self._pending else data
        self._pending = b""
        position = 0
        while position < len(buffer):
            frame = self._frame_at(buffer, position)
            if frame is None:
                return buffer[position:]  # the library's from here on
            end, message = frame
            if message is None:
                self._pending = buffer[position:]  # not whole yet
                return None
            messages.append(message)
            position = end
        return None

    def _frame_at(self, buffer: bytes, start: int) -> tuple[int, str | bytes | None] | None:
        """The frame at ``start``: its end and message (``None``: not whole yet), or ``None``."""
        if len(buffer) - start < 2:
            return start, None
        first, second = buffer[start], buffer[start + 1]
        if first not in (_FIN | _TEXT, _FIN | _BINARY) or not second & _MASKED:
            return None  # a control frame, a fragment, compressed or reserved bits, unmasked
        length, head = second & 0x7F, start + 2
        if length == _LENGTH_64:
            return None
        if length == _LENGTH_16:
            if len(buffer) - head < 2:
                return start, None
            length, head = int.from_bytes(buffer[head : head + 2], "big"), head + 2
        if self.max_size is not None and length > self.max_size:
            return None
        end = head + 4 + length
        if end > len(buffer):
            return start, None
        payload = XorMaskerSimple(buffer[head : head + 4]).process(
            bytearray(buffer[head + 4 : end])
        )
        if first & 0x0F == _BINARY:
            return end, bytes(payload)
        try:
            return end, payload.decode("utf-8")
        except UnicodeDecodeError:
            return None  # the library closes the connection as the protocol says
