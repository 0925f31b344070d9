"""What serving many calls from one thread per tick would save, before building it.

Today every call has its own threads: the socket's (woken for each 20 ms message) and the
recogniser's (woken for each 60 ms of a turn's audio). ``wake_cost.py`` found that a frame's
work costs many times more CPU right after a wake-up than warm in a loop. A design where one
thread serves all calls per tick (a selector over every call's socket; a recogniser pool fed
per tick) would wake once for many calls' work. This measures both shapes of the same work on
this machine, each thread's CPU with ``time.thread_time``, while other calls' recognisers
decode at real time (``--busy``), as on a line under load:

* **frames**: ``--calls`` streams' listening work (a Media Streams message through the line's
  serializer, μ-law → 16 kHz, turn detection) every 20 ms, by a thread per call, and by one
  thread taking every call's frame per tick; CPU per frame;
* **recognition**: ``--calls`` recognisers (real Vosk, the Korean model) each fed 60 ms of the
  caller's question every 60 ms, by a thread per call, and by one thread feeding every
  recogniser per tick; CPU per second of audio, against Vosk fed the same audio in a loop.

    .venv/bin/python bench/shared_tick.py --calls 16 --seconds 10 --busy 4
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from capacity import question_audio
from common import progress
from floor import RATE, pcm16, recogniser
from wake_cost import frame_work

FRAME_S = 0.02
#: The recogniser's piece of audio, as the line's RecognizerThread(batch_ms=60) takes it.
PIECE_S = 0.06
PIECE_BYTES = int(RATE * PIECE_S) * 2

Work = Callable[[], None]


def pieces(pcm: bytes) -> list[bytes]:
    """The question in the recogniser's 60 ms pieces."""
    return [pcm[i : i + PIECE_BYTES] for i in range(0, len(pcm), PIECE_BYTES)]


def recognition_work(speech: list[bytes]) -> Work:
    """One recogniser's work per tick: the next 60 ms of the question (final words at its end)."""
    recognizer = recogniser()
    position = 0

    def work() -> None:
        nonlocal position
        recognizer.AcceptWaveform(speech[position])
        position = (position + 1) % len(speech)
        if position == 0:
            recognizer.FinalResult()  # the turn ends; the next starts on the same recogniser

    for _ in speech:  # warm, as the line's pool hands out recognisers that have decoded speech
        work()
    return work


def thread_per_call(works: list[Work], every_s: float, ticks: int) -> float:
    """Mean CPU seconds per work item, each call's work on its own thread woken every tick."""
    spent = [0.0] * len(works)
    start = threading.Barrier(len(works))

    def run(index: int) -> None:
        start.wait()
        began = time.thread_time()
        for _ in range(ticks):
            time.sleep(every_s)
            works[index]()
        spent[index] = time.thread_time() - began

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(spent) / (len(works) * ticks)


def one_thread(works: list[Work], every_s: float, ticks: int) -> float:
    """Mean CPU seconds per work item, one thread doing every call's work once per tick."""
    began = time.thread_time()
    for _ in range(ticks):
        time.sleep(every_s)
        for work in works:
            work()
    return (time.thread_time() - began) / (len(works) * ticks)


def in_a_loop(work: Work, times: int) -> float:
    """Mean CPU seconds per work item, warm, with no sleep between."""
    began = time.thread_time()
    for _ in range(times):
        work()
    return (time.thread_time() - began) / times


@contextmanager
def busy_recognisers(count: int, speech: list[bytes]) -> Iterator[None]:
    """``count`` other calls' recognisers decoding at real time meanwhile (a thread each)."""
    stop = threading.Event()

    def decode(work: Work) -> None:
        while not stop.wait(PIECE_S):
            work()

    threads = [
        threading.Thread(target=decode, args=(recognition_work(speech),), daemon=True)
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def measure(calls: int, seconds: float, busy: int) -> dict[str, float]:
    """CPU per frame (µs) and per second of audio (ms), a thread per call and one per tick."""
    speech = pieces(pcm16(question_audio()))
    frame_ticks, piece_ticks = int(seconds / FRAME_S), int(seconds / PIECE_S)
    per_second = 1 / PIECE_S
    measured: dict[str, float] = {}
    with busy_recognisers(busy, speech):
        progress(f"frames: {calls} threads, each woken every 20 ms ...")
        frames = [frame_work(1)[1] for _ in range(calls)]
        measured["frame, a thread per call (µs)"] = (
            thread_per_call(frames, FRAME_S, frame_ticks) * 1e6
        )
        progress(f"frames: one thread, {calls} calls' frames per 20 ms tick ...")
        frames = [frame_work(1)[1] for _ in range(calls)]
        measured["frame, one thread per tick (µs)"] = one_thread(frames, FRAME_S, frame_ticks) * 1e6
        progress(f"recognition: {calls} threads, each woken every 60 ms ...")
        voices = [recognition_work(speech) for _ in range(calls)]
        measured["audio second, a thread per call (ms)"] = (
            thread_per_call(voices, PIECE_S, piece_ticks) * per_second * 1e3
        )
        progress(f"recognition: one thread, {calls} recognisers per 60 ms tick ...")
        voices = [recognition_work(speech) for _ in range(calls)]
        measured["audio second, one thread per tick (ms)"] = (
            one_thread(voices, PIECE_S, piece_ticks) * per_second * 1e3
        )
    progress("recognition in a loop, nothing else running ...")
    measured["audio second, in a loop (ms)"] = (
        in_a_loop(recognition_work(speech), piece_ticks) * per_second * 1e3
    )
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=16, help="calls served at once")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measure")
    parser.add_argument("--busy", type=int, default=4, help="other recognisers decoding meanwhile")
    args = parser.parse_args()
    for name, value in measure(args.calls, args.seconds, args.busy).items():
        print(f"{name:40s} {value:8.1f}", flush=True)


if __name__ == "__main__":
    main()
