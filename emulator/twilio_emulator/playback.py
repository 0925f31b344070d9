"""The caller's loudspeaker: Twilio's playback buffer for a bidirectional stream, by wall clock.

Pure: no socket, no clock, no lock; every method takes ``now`` (monotonic seconds), so tests
drive it with made-up times::

    playback = Playback()
    playback.push_media(reply_audio, now)      # plays from now (or after what is queued)
    echo = playback.push_mark("reply-1", now)  # [] while audio is queued before it
    echo = playback.due_marks(later)           # ["reply-1"] once that audio has played
    echo = playback.clear(now)                 # discard the rest, echo every outstanding mark

Semantics are Twilio's (twilio.md section 1.3): audio plays in the order received at 8000
bytes a second; a mark is echoed when the audio queued before it has played, or straight away
if nothing is buffered; ``clear`` discards buffered audio and echoes all outstanding marks.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

#: μ-law bytes per second (8 kHz, one byte per sample).
BYTES_PER_SECOND = 8000

#: μ-law digital silence.
SILENCE = 0xFF


@dataclass
class _Segment:
    start: float
    audio: bytes


class Playback:
    """Queued server audio, what of it has played, and the marks waiting behind it."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._end = -math.inf  # when the queued audio finishes playing
        self._marks: deque[tuple[str, float]] = deque()  # (name, due time), in arrival order
        self.last_media_at: float | None = None
        self.discarded_bytes = 0

    def push_media(self, audio: bytes, now: float) -> None:
        """Queue ``audio``: it starts now if nothing is playing, else after the queued audio."""
        if not audio:
            return
        start = max(now, self._end)
        self._segments.append(_Segment(start, audio))
        self._end = start + len(audio) / BYTES_PER_SECOND
        self.last_media_at = now

    def push_mark(self, name: str, now: float) -> list[str]:
        """Queue a mark behind the buffered audio.

        Returns:
            The marks to echo now, in order: any already due, then ``name`` itself if nothing
            is buffered.
        """
        self._marks.append((name, max(now, self._end)))
        return self.due_marks(now)

    def due_marks(self, now: float) -> list[str]:
        """Pop the marks whose audio has finished playing by ``now``, in order."""
        due = []
        while self._marks and self._marks[0][1] <= now:
            due.append(self._marks.popleft()[0])
        return due

    def clear(self, now: float) -> list[str]:
        """Discard the audio not yet played and return every outstanding mark, in order."""
        kept: list[_Segment] = []
        for segment in self._segments:
            played = max(
                0, min(len(segment.audio), round((now - segment.start) * BYTES_PER_SECOND))
            )
            self.discarded_bytes += len(segment.audio) - played
            if played:
                kept.append(_Segment(segment.start, segment.audio[:played]))
        self._segments = kept
        self._end = min(self._end, now)
        marks = [name for name, _ in self._marks]
        self._marks.clear()
        return marks

    def buffered_seconds(self, now: float) -> float:
        """Seconds of queued audio still to play after ``now``."""
        return max(0.0, self._end - now)

    def is_playing(self, now: float) -> bool:
        """Whether the caller hears bot audio at ``now``."""
        return self._end > now

    def idle_since(self, now: float) -> float | None:
        """When the bot went quiet (buffer empty, no mark outstanding), or ``None`` if not."""
        if self._end > now or any(due > now for _, due in self._marks):
            return None
        return self._end

    def render(self, origin: float, until: float) -> bytes:
        """What the caller heard from ``origin`` to ``until``: μ-law, silence where none played.

        Audio queued past ``until`` is left out (the line was gone by then).
        """
        total = max(0, round((until - origin) * BYTES_PER_SECOND))
        heard = bytearray([SILENCE]) * total
        for segment in self._segments:
            offset = round((segment.start - origin) * BYTES_PER_SECOND)
            audio = segment.audio
            if offset < 0:
                audio, offset = audio[-offset:], 0
            audio = audio[: max(0, total - offset)]
            heard[offset : offset + len(audio)] = audio
        return bytes(heard)
