"""The wake-up cost bench measures the listening stage's real work, one read at a time."""

from __future__ import annotations

from tests.bench import load

wake_cost = load("wake_cost")


def test_one_reads_work_listens_to_every_frame_it_carries() -> None:
    listener, work = wake_cost.frame_work(3)
    work()
    work()
    assert listener.detector.stream_ms == 2 * 3 * 20  # two reads of three 20 ms frames
    assert not listener.in_speech  # quiet noise: no turn, so no recogniser is needed


def test_every_measure_is_reported_per_frame() -> None:
    measured = wake_cost.measure(frames=9)
    assert list(measured) == [
        "warm",
        "bare wake-up (20 ms sleep)",
        "woken every 20 ms",
        "three per 60 ms read",
    ]
    assert all(micros > 0 for micros in measured.values())
