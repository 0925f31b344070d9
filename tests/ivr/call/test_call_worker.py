"""A call's jobs: one at a time, in order, on the transport's thread while the call keeps up.

And the lateness of its audio, measured against the stream's own clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from ivr.call.live import CallWorker
from ivr.call.timing import LagMeter
from tests.fixtures.waiting import wait_for


def test_an_idle_call_runs_the_transports_job_on_the_transports_thread() -> None:
    worker = CallWorker("CA-inline")
    ran_on: list[threading.Thread] = []
    worker.run_here("audio", lambda: ran_on.append(threading.current_thread()))
    worker.finish()
    assert ran_on == [threading.current_thread()]


def test_a_job_from_another_thread_runs_on_the_calls_thread() -> None:
    worker = CallWorker("CA-queued")
    ran_on: list[threading.Thread] = []
    worker.submit("typed", lambda: ran_on.append(threading.current_thread()))
    worker.finish()
    assert len(ran_on) == 1 and ran_on[0] is not threading.current_thread()


def test_what_arrives_while_a_job_runs_waits_its_turn_in_order() -> None:
    worker = CallWorker("CA-busy")
    order: list[str] = []
    release = threading.Event()
    running = threading.Event()

    def slow_words() -> None:
        running.set()
        release.wait(5)
        order.append("words")

    worker.submit("words", slow_words)  # runs on the call's thread
    assert running.wait(5)
    here = threading.current_thread()
    threads: list[threading.Thread] = []

    def frame(n: int) -> None:
        order.append(f"frame {n}")
        threads.append(here)

    for n in range(3):  # the transport goes on: it must not run these before the words
        worker.run_here("audio", partial(frame, n))
    assert order == []  # queued, not run here while the words job holds the call
    release.set()
    wait_for("the queued frames", lambda: len(order) == 4, timeout=5)
    worker.run_here("audio", lambda: order.append("frame 3"))  # idle again: runs here
    worker.finish()
    assert order == ["words", "frame 0", "frame 1", "frame 2", "frame 3"]


def test_jobs_from_many_threads_never_overlap_and_none_is_lost() -> None:
    worker = CallWorker("CA-many")
    inside = threading.Lock()
    overlaps: list[str] = []
    done: list[int] = []

    def job(n: int) -> None:
        if not inside.acquire(blocking=False):
            overlaps.append(f"job {n} ran beside another")
            return
        try:
            done.append(n)
        finally:
            inside.release()

    def transport() -> None:
        for n in range(300):
            worker.run_here("audio", partial(job, n))

    def other() -> None:
        for n in range(300, 600):
            worker.submit("typed", partial(job, n))

    threads = [threading.Thread(target=transport), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    worker.finish()
    assert overlaps == []
    assert sorted(done) == list(range(600))
    frames = [n for n in done if n < 300]
    assert frames == sorted(frames)  # one thread's jobs keep their order


def test_a_failing_job_does_not_stop_the_call() -> None:
    worker = CallWorker("CA-fails")
    order: list[str] = []

    def fails() -> None:
        raise RuntimeError("a stage broke")

    worker.run_here("audio", fails)
    worker.run_here("audio", lambda: order.append("next frame"))
    worker.finish()
    assert order == ["next frame"]


def test_frames_on_the_streams_clock_are_on_time() -> None:
    meter = LagMeter()
    for n in range(50):  # 20 ms frames, each processed 20 ms after the one before
        assert meter.frame(n * 20, now=100.0 + n * 0.020) < 1e-6
    assert meter.summary()["max_ms"] < 1e-6


def test_a_frame_processed_late_shows_its_lateness_wherever_it_waited() -> None:
    meter = LagMeter()
    meter.frame(0, now=100.0)
    meter.frame(20, now=100.020)
    late = meter.frame(40, now=100.040 + 0.150)  # held back 150 ms (a queue, the socket...)
    assert round(late) == 150
    summary = meter.summary()
    assert (summary["frames"], round(summary["max_ms"]), summary["over_100ms"]) == (3, 150, 1)


def test_a_late_first_frame_is_not_counted_against_the_rest() -> None:
    meter = LagMeter()
    meter.frame(0, now=100.060)  # the first frame arrived 60 ms late (network)
    assert meter.frame(20, now=100.020) == 0.0  # on time: the clock is anchored here instead
    assert round(meter.frame(40, now=100.140)) == 100


def test_a_shared_thread_runs_only_the_part_and_the_calls_thread_acts_next() -> None:
    """What the part leaves runs on the call's thread before anything queued meanwhile."""
    worker = CallWorker("CA-part")
    here = threading.current_thread()
    ran: list[tuple[str, bool]] = []

    def part() -> Callable[[], None]:
        worker.submit("words", lambda: ran.append(("words", threading.current_thread() is here)))
        ran.append(("listen", threading.current_thread() is here))
        return lambda: ran.append(("act", threading.current_thread() is here))

    worker.run_part_here("audio", part, lambda: ran.append(("whole", True)))
    worker.finish()
    assert ran == [("listen", True), ("act", False), ("words", False)]


def test_a_part_with_nothing_left_wakes_no_other_thread() -> None:
    worker = CallWorker("CA-nothing-left")
    ran_on: list[threading.Thread] = []
    for _ in range(3):
        worker.run_part_here("audio", lambda: ran_on.append(threading.current_thread()), print)
    worker.finish()
    assert ran_on == [threading.current_thread()] * 3


def test_a_busy_call_queues_the_whole_job_not_the_part() -> None:
    worker = CallWorker("CA-part-busy")
    release, running = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow() -> None:
        running.set()
        release.wait(5)
        ran.append("slow")

    def part() -> None:  # leaves nothing to run after it
        ran.append("part")

    worker.submit("slow", slow)
    assert running.wait(5)
    worker.run_part_here("audio", part, lambda: ran.append("whole"))
    release.set()
    worker.finish()
    assert ran == ["slow", "whole"]


class CountingCondition(threading.Condition):
    """A condition that counts how often it was told to wake its waiter."""

    notified = 0

    def notify(self, n: int = 1) -> None:
        CountingCondition.notified += 1
        super().notify(n)


def test_frames_run_here_do_not_wake_the_calls_idle_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waking it per frame for nothing to do would cost what running here saves."""
    monkeypatch.setattr(threading, "Condition", CountingCondition)
    worker = CallWorker("CA-quiet")
    CountingCondition.notified = 0  # its thread has started (that sets an event)
    for _ in range(50):
        worker.run_here("audio", lambda: None)
        worker.run_part_here("audio", lambda: None, lambda: None)
    assert CountingCondition.notified == 0
    worker.run_part_here("audio", lambda: lambda: None, lambda: None)  # leaves a job: wakes it
    assert CountingCondition.notified == 1
    worker.finish()
