"""What the line's own listening of one call costs, against the floor, with nothing else running.

The capacity bench's call (the caller's question three times, with pauses) goes through the
line's :class:`~voice.listener.Listener` and a warmed Korean recogniser, each turn ended early
at 300 ms of silence as the line ends a turn whose words make sense. Three ways, CPU seconds
from ``time.thread_time`` of every thread that works:

* **in a loop**: the listener and the recogniser on one thread, as fast as it goes;
* **on its thread, at once**: the recogniser on its own thread (as in the line), fed at once;
* **on its thread, in real time**: the same, fed a 20 ms frame every 20 ms, as a call is;
* **held, in real time**: the same, with each turn's audio held back and decoded in one burst
  at the pause (``hold_ms``, the line's default while no one watches the call's words).

Against the floor (``floor.py``: Vosk and VAD of the same audio alone, in one loop). The
difference between the last two is what the call's pace costs the recogniser: between its
pieces the thread sleeps, and it wakes to cold caches.

    .venv/bin/python bench/listening_cost.py --rounds 3
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from capacity import TURNS, question_audio
from common import progress
from floor import call_floor, korean_model, pcm16

from ivr.call.live import CallSettings
from voice.asr import Recognizer, VoskRecognizer
from voice.listener import PHONE_RATE, Heard, HeardLater, Listener, Paused
from voice.recognizer_thread import RecognizerThread
from voice.resampling import ResamplingRecognizer
from voice.turns import TurnConfig

FRAME = 160  # μ-law bytes in 20 ms
PAUSE = b"\xff" * 8000  # a second of μ-law silence
#: The line's turn settings, as configured by default.
SETTINGS = CallSettings()


@dataclass(frozen=True)
class Cost:
    """One way of listening to the call: CPU of the feeding thread and of the recogniser's."""

    way: str
    feeding_s: float
    recognising_s: float
    turns: int

    @property
    def total_s(self) -> float:
        """All the CPU the call's listening took."""
        return self.feeding_s + self.recognising_s


def the_call(question: bytes) -> bytes:
    """The caller's side of the capacity bench's call: a pause, then each question and a pause."""
    return PAUSE + (question + PAUSE) * TURNS


def listen(call: bytes, recognizer: Recognizer, pace_s: float) -> int:
    """Feed ``call`` frame by frame (``pace_s`` apart, 0: at once); the turns heard."""
    turn = TurnConfig(silence_ms=SETTINGS.silence_ms, start_ms=SETTINGS.barge_in_ms)
    listener = Listener(recognizer, turn, prepare_ms=SETTINGS.confident_silence_ms // 2)
    turns, paused, start = 0, False, time.monotonic()
    for number, at in enumerate(range(0, len(call), FRAME), start=1):
        if pace_s and (wait := start + number * pace_s - time.monotonic()) > 0:
            time.sleep(wait)
        for event in listener.feed(call[at : at + FRAME]):
            paused = paused or isinstance(event, Paused)
            turns += _heard(event)
        if paused and listener.trailing_silence_ms >= SETTINGS.confident_silence_ms:
            paused = False
            ended = listener.end_now()
            turns += 0 if ended is None else _heard(ended)
    return turns


def _heard(event: object) -> int:
    if isinstance(event, HeardLater):
        event.heard.result(timeout=30)  # the recogniser's thread has caught up
        return 1
    return int(isinstance(event, Heard))


def measure(call: bytes, recognizer: VoskRecognizer, way: str) -> Cost:
    """The call's listening one ``way`` (one of :data:`WAYS`)."""
    if way == "in a loop":
        started = time.thread_time()
        turns = listen(call, ResamplingRecognizer(recognizer, PHONE_RATE), 0.0)
        return Cost(way, time.thread_time() - started, 0.0, turns)
    at_phone_rate = ResamplingRecognizer(recognizer, PHONE_RATE)  # on its thread, as on the line
    hold_ms = SETTINGS.hold_ms if way == "held, in real time" else 0
    thread = RecognizerThread(
        at_phone_rate, name="bench-asr", partials_wanted=lambda: False, hold_ms=hold_ms
    )
    started = time.thread_time()
    turns = listen(call, thread, 0.0 if way == "at once" else 0.02)
    feeding = time.thread_time() - started
    recognising = thread_cpu(thread)
    thread.close()
    return Cost(way, feeding, recognising, turns)


def thread_cpu(thread: RecognizerThread) -> float:
    """CPU seconds the recogniser's thread has used (it is still alive)."""
    ident = thread._thread.ident  # the thread is ours to measure; no public handle exists
    assert ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


WAYS = ("in a loop", "at once", "in real time", "held, in real time")


def report(costs: list[Cost], floors: list[float]) -> str:
    """A Markdown table: each way's CPU per call, its range over the rounds, against the floor."""
    floor = sum(floors) / len(floors)
    lines = [
        f"floor (Vosk and VAD of the same audio, one loop): {min(floors):.2f} to "
        f"{max(floors):.2f} s",
        "",
        "| listening | feeding thread | recogniser's thread | per call | ÷ floor |",
        "|---|---|---|---|---|",
    ]
    for way in WAYS:
        mine = [cost for cost in costs if cost.way == way]
        if not mine:
            continue
        total = sum(cost.total_s for cost in mine) / len(mine)
        lines.append(
            f"| {way} | {_span([c.feeding_s for c in mine])} | "
            f"{_span([c.recognising_s for c in mine])} | {_span([c.total_s for c in mine])} | "
            f"{total / floor:.2f} x |"
        )
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f} s" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f} to {high:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="each way this many times")
    args = parser.parse_args()
    question = question_audio()
    call = the_call(question)
    recognizer = VoskRecognizer(korean_model())
    recognizer.accept(pcm16(question))  # warm, as the line's pool hands recognisers out
    recognizer.final()
    costs, floors = [], []
    for number in range(args.rounds + 1):
        progress(f"round {number}/{args.rounds} ..." if number else "a round that warms ...")
        measured = [measure(call, recognizer, way) for way in WAYS]
        floor = call_floor(question, TURNS, len(call) // FRAME)
        if number:  # the first expands both recognisers' graphs for this audio: not counted
            costs += measured
            floors.append(floor)
    heard = {cost.turns for cost in costs}
    if heard != {TURNS}:
        raise SystemExit(f"bench: expected {TURNS} turns every time, heard {sorted(heard)}")
    print(report(costs, floors))


if __name__ == "__main__":
    main()
