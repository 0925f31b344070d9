"""Emulated callers in processes of their own, so the callers' side is never the limit.

Each call runs in its own process (``spawn``): the emulator's 20 ms send loop never waits
for another caller's Python. A process is started for every caller before the first level,
and each waits for its start time on the machine's monotonic clock (the same in every
process on Linux), so arrivals are placed as exactly as the scheduler allows.

    with Callers(20) as callers:
        views = callers.run(server_url, [script] * 8, starts)

Arrivals: ``synchronised`` (every caller at the same instant, no pause before speaking: the
worst case, everyone decoding at once) or ``poisson`` (exponential gaps between calls and a
random pause before each question, as real callers are not in step).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from types import TracebackType

from common import emulator_for
from twilio_emulator import Hangup, Silence, SpeakAudio, WaitForBot
from twilio_emulator.caller import Step

ARRIVALS = ("synchronised", "poisson")
#: Poisson arrivals: mean gap between two calls, and the longest pause before a question.
MEAN_GAP_S = 1.0
MAX_THINK_S = 2.0


@dataclass(frozen=True)
class CallerView:
    """One call as its caller lived it."""

    call_sid: str
    replies_ms: list[float]  # last voiced frame -> first reply audio, per question
    greeting_ms: float | None  # stream start -> the greeting's first audio
    send_late_ms: float  # how late the caller's own worst frame left (the callers' health)
    frames: int  # 20 ms frames the caller sent
    errors: int


def script(speech: bytes, turns: int, thinks: Sequence[float]) -> list[Step]:
    """Wait for the greeting, then ``turns`` questions, each after its pause in ``thinks``."""
    steps: list[Step] = [WaitForBot(30)]
    for think in thinks[:turns]:
        if think > 0:
            steps.append(Silence(think))
        steps += [SpeakAudio(speech, "question"), WaitForBot(30)]
    return [*steps, Hangup()]


def plan(arrival: str, calls: int, turns: int, seed: int) -> tuple[list[float], list[list[float]]]:
    """Start offsets (seconds) and per-call pauses before each question, for ``arrival``."""
    if arrival == "synchronised":
        return [0.0] * calls, [[0.0] * turns for _ in range(calls)]
    rng = random.Random(seed)
    offsets, at = [], 0.0
    for _ in range(calls):
        offsets.append(at)
        at += rng.expovariate(1 / MEAN_GAP_S)
    thinks = [[rng.uniform(0, MAX_THINK_S) for _ in range(turns)] for _ in range(calls)]
    return offsets, thinks


def place(url: str, steps: list[Step], start_at: float) -> CallerView:
    """Run in a caller process: wait for ``start_at`` (``time.monotonic``), place one call."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    result = emulator_for(url).call(steps, max_seconds=240)
    replies = [float(u.reply_latency_ms) for u in result.utterances if u.reply_latency_ms]
    start = next((m.at for m in result.sent if m.event == "start"), None)
    first = next((m.at for m in result.received if m.event == "media"), None)
    greeting = (first - start) * 1000 if start is not None and first is not None else None
    media = [m for m in result.sent if m.event == "media" and m.detail.isdigit()]
    late = 0.0
    if media:
        origin = media[0].at - (int(media[0].detail) - 1) * 0.02
        late = max((m.at - origin - (int(m.detail) - 1) * 0.02) * 1000 for m in media)
    return CallerView(result.call_sid, replies, greeting, late, len(media), len(result.errors))


class Callers:
    """A process per caller, started once and reused level after level."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=get_context("spawn"))

    def __enter__(self) -> Callers:
        # Start every process now (imports included), not while a level is being measured.
        list(self._pool.map(_ready_after, [0.5] * self.processes))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(cancel_futures=True)

    def run(
        self,
        url: str,
        scripts: Sequence[list[Step]],
        offsets: Sequence[float],
        on_wait: Callable[[], object] = lambda: None,
    ) -> list[CallerView]:
        """Place one call per script, ``offsets[i]`` s after now; ``on_wait`` twice a second."""
        if len(scripts) > self.processes:
            raise ValueError(f"{len(scripts)} calls but {self.processes} caller processes")
        origin = time.monotonic() + 1.0  # every process is waiting well before its start
        futures = [
            self._pool.submit(place, url, steps, origin + offset)
            for steps, offset in zip(scripts, offsets, strict=True)
        ]
        while wait(futures, timeout=0.5).not_done:
            on_wait()
        return [future.result() for future in futures]


def _ready_after(seconds: float) -> bool:
    """Keep a process busy a moment so the pool starts all of them, not one reused."""
    time.sleep(seconds)
    return True
