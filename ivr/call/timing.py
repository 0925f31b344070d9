"""A turn's stage times, how late a call's audio was processed, and the call's own clock.

The clock is the caller's audio; it also times the caller's silence. The measurements are
handed forward: the turn's timings are stored with the turn (and reported by the benchmarks),
the lag summary is stored with the call (capacity planning).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.engine.actions import Listen


@dataclass
class TurnTiming:
    """Milliseconds per stage of the turn being answered (keys as stored with the turn)."""

    stages: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str, since: float) -> float:
        """Record ``stage`` as the time from ``since`` to now; returns now."""
        now = time.perf_counter()
        self.stages[stage] = round((now - since) * 1000, 2)
        return now


class LagMeter:
    """How far behind real time a call's audio was processed, against the stream's own clock.

    The caller's phone sends audio in real time, so the frame that follows ``stream_ms`` of
    audio is due ``stream_ms`` after the first; processing it later than that is lateness,
    wherever it waited (the socket, a queue, a busy thread). The clock is anchored at the
    earliest-running frame seen so far, so network jitter on the first frame is not counted.
    Keeps the largest delay and a coarse histogram (10 ms buckets), not every value.
    """

    def __init__(self) -> None:
        self.count = 0
        self.max_ms = 0.0
        self._buckets: dict[int, int] = {}
        self._origin: float | None = None  # perf_counter when the stream's audio began

    def frame(self, stream_ms: int, now: float | None = None) -> float:
        """Count the frame that starts ``stream_ms`` into the stream, processed at ``now``.

        Returns:
            Its lateness in milliseconds (0 for the frame that anchors the clock).
        """
        now = time.perf_counter() if now is None else now
        due = now - stream_ms / 1000
        if self._origin is None or due < self._origin:
            self._origin = due  # on time or early: the stream's clock starts here
        late_ms = max(0.0, (now - self._origin) * 1000 - stream_ms)  # not below 0 by rounding
        self.add(late_ms)
        return late_ms

    def add(self, ms: float) -> None:
        """Count one frame's delay."""
        self.count += 1
        self.max_ms = max(self.max_ms, ms)
        bucket = int(ms // 10)
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1

    def percentile(self, fraction: float) -> float:
        """Upper bound of the bucket holding ``fraction`` of the frames."""
        wanted, seen = fraction * self.count, 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= wanted:
                return float((bucket + 1) * 10)
        return self.max_ms

    def summary(self) -> dict[str, float]:
        """For the call's record."""
        return {
            "frames": self.count,
            "max_ms": round(self.max_ms, 1),
            "p95_ms": self.percentile(0.95),
            "over_100ms": sum(n for b, n in self._buckets.items() if b >= 10),
        }


class CallClock:
    """The call's own clock: the caller's audio (20 ms a frame), so a timeout is exact.

    It counts how late each piece of audio was processed (:class:`LagMeter`) and how long the
    caller has been waited for since they heard everything (the flow's silence timeout).
    """

    def __init__(self) -> None:
        self.stream_ms = 0  # caller audio received so far
        self.lag = LagMeter()
        self._waiting_since_ms: int | None = None

    def audio(self, ulaw_bytes: int, now: float) -> float:
        """A piece of the caller's audio (8 kHz μ-law) processed at ``now``: its lateness, ms."""
        late_ms = self.lag.frame(self.stream_ms, now)
        self.stream_ms += ulaw_bytes // 8
        return late_ms

    def wait(self, waiting: bool = True) -> None:
        """The caller is waited for from now on (``False``: not any more)."""
        self._waiting_since_ms = self.stream_ms if waiting else None

    def waited(self, listening: Listen | None) -> bool:
        """Whether the caller, asked ``listening``, has been waited for its timeout by now."""
        since = self._waiting_since_ms
        if listening is None or since is None:
            return False
        return self.stream_ms - since >= listening.timeout_seconds * 1000
