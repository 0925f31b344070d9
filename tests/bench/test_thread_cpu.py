"""The thread CPU bench's own logic: it tells threads apart and charges CPU to the right one."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from tests.bench import load
from voice.asr import Partial, Transcript
from voice.recognizer_thread import RecognizerThread

thread_cpu = load("thread_cpu")


class BusyRecognizer:
    """Spins for ``seconds`` of CPU on every piece of audio, like a decoder at work."""

    sample_rate = 16000

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        until = time.thread_time() + self.seconds
        while time.thread_time() < until:
            pass
        return None

    def flush(self) -> str:
        return ""

    def final(self) -> Transcript:
        return Transcript("", 0.0)

    def reset(self) -> None:
        return None


def py_spy_can_read_this_process() -> bool:
    """py-spy is a dev dependency, and reading another process needs ptrace rights."""
    if not thread_cpu.PY_SPY.exists():
        return False
    dump = subprocess.run(
        [str(thread_cpu.PY_SPY), "dump", "--pid", str(os.getpid())], capture_output=True
    )
    return dump.returncode == 0


@pytest.mark.skipif(not py_spy_can_read_this_process(), reason="py-spy cannot read processes")
def test_the_recognisers_cpu_is_charged_to_the_recogniser() -> None:
    recognizer = RecognizerThread(BusyRecognizer(0.4), batch_ms=0)
    try:
        sampler = thread_cpu.Sampler(os.getpid())
        recognizer.accept(b"\x00" * 640)
        recognizer.flush()  # waits until the 0.4 s of decoding is done
        time.sleep(0.3)  # the sampler names the threads at its first reading
        used = sampler.stop()
    finally:
        recognizer.close()
    user, system = used["recogniser"]
    assert 0.3 <= user + system <= 1.0
    others = sum(sum(times) for kind, times in used.items() if kind != "recogniser")
    assert others < 0.3  # this thread only waited


def test_a_threads_times_are_read_from_proc() -> None:
    times = thread_cpu.thread_times(os.getpid())
    assert str(threading.get_native_id()) in times
    user, system = times[str(threading.get_native_id())]
    assert user >= 0.0 and system >= 0.0
