"""What a wake-up costs: one frame's listening work, warm in a loop and woken every 20 ms.

A call's socket thread sleeps between the stream's messages. On a machine like CI's (a
virtual machine, 2 cores) the work a frame brings costs many times more CPU after a sleep than
in a tight loop: caches and predictors are cold again. This measures, on this process's
thread alone (``time.thread_time``):

* a bare sleep of the interval (the wake-up itself);
* one 20 ms frame's work (a Media Streams message through the line's serializer, μ-law →
  PCM, turn detection) in a loop, warm;
* the same frame's work after every 20 ms sleep (the socket read per message);
* three frames taken as one piece after every 60 ms sleep, per frame (a paced read).

    .venv/bin/python bench/wake_cost.py --frames 500
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from common import progress
from twilio_emulator import stream_messages

from ivr.twilio import media_stream
from voice.listener import Listener

FRAME_BYTES = 160  # μ-law, 20 ms at 8 kHz
STREAM = "MZ" + "0" * 32


class NoWords:
    """A recogniser that hears nothing: only the listening stage's own work is measured."""

    sample_rate = 8000  # the phone's: the listener feeds it as it feeds the line's recogniser

    def accept(self, pcm16: bytes, partial: bool = True) -> None:
        """Take audio, hear nothing."""
        return None

    def flush(self) -> str:
        """No words so far."""
        return ""

    def final(self) -> object:
        """Never asked: the measured audio is too quiet to start a turn."""
        raise AssertionError("the measured audio never ends a turn")

    def reset(self) -> None:
        """Nothing to drop."""
        return None


def message(seed: int) -> str:
    """A Media Streams ``media`` message, as Twilio sends it, carrying 20 ms of quiet noise."""
    noise = np.random.default_rng(seed).integers(0xF0, 0x100, FRAME_BYTES, np.uint8).tobytes()
    return stream_messages.media(seed + 2, STREAM, chunk=seed + 1, timestamp_ms=0, payload=noise)


def frame_work(frames: int) -> tuple[Listener, Callable[[], None]]:
    """One read's work: decode its ``frames`` messages and listen to their audio as one piece."""
    listener = Listener(NoWords())  # type: ignore[arg-type]  # hears no words, by design
    raw = [message(seed) for seed in range(frames)]

    def work() -> None:
        audio = b"".join(media_audio(one) for one in raw)
        listener.feed(audio)

    return listener, work


def media_audio(raw: str) -> bytes:
    """The audio of one ``media`` message, through the line's own serializer."""
    event = media_stream.decode(raw)
    assert isinstance(event, media_stream.AudioReceived), raw[:80]
    return event.audio


def cpu_per_round(rounds: int, sleep_s: float, work: Callable[[], None] | None) -> float:
    """Mean CPU seconds of this thread per round of (sleep, work)."""
    started = time.thread_time()
    for _ in range(rounds):
        if sleep_s:
            time.sleep(sleep_s)
        if work is not None:
            work()
    return (time.thread_time() - started) / rounds


def measure(frames: int) -> dict[str, float]:
    """Microseconds of CPU per 20 ms frame, each way."""
    (_, one), (_, three) = frame_work(1), frame_work(3)
    cpu_per_round(200, 0, one)  # warm the code once
    progress("warm loop ...")
    warm = cpu_per_round(frames * 20, 0, one)
    progress("bare sleeps ...")
    bare = cpu_per_round(frames, 0.02, None)
    progress("woken every 20 ms ...")
    woken = cpu_per_round(frames, 0.02, one)
    progress("three frames per 60 ms ...")
    paced = cpu_per_round(frames // 3, 0.06, three) / 3
    return {
        "warm": warm * 1e6,
        "bare wake-up (20 ms sleep)": bare * 1e6,
        "woken every 20 ms": woken * 1e6,
        "three per 60 ms read": paced * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=500, help="frames per measure")
    args = parser.parse_args()
    for name, micros in measure(args.frames).items():
        print(f"{name:28s} {micros:7.0f} µs CPU per frame", flush=True)


if __name__ == "__main__":
    main()
