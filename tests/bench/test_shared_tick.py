"""The shared-tick bench does the same work both ways and reports each measure."""

from __future__ import annotations

import threading

from tests.bench import load

shared_tick = load("shared_tick")


class Counted:
    """A call's work that counts its runs and the threads that ran it."""

    def __init__(self) -> None:
        self.runs = 0
        self.threads: set[int] = set()

    def __call__(self) -> None:
        self.runs += 1
        self.threads.add(threading.get_ident())


def test_a_thread_per_call_runs_each_calls_work_every_tick_on_its_own_thread() -> None:
    works = [Counted() for _ in range(3)]
    per_item = shared_tick.thread_per_call(works, every_s=0.001, ticks=5)
    assert [work.runs for work in works] == [5, 5, 5] and per_item > 0
    assert len(set().union(*(work.threads for work in works))) == 3


def test_one_thread_runs_every_calls_work_every_tick() -> None:
    works = [Counted() for _ in range(3)]
    per_item = shared_tick.one_thread(works, every_s=0.001, ticks=5)
    assert [work.runs for work in works] == [5, 5, 5] and per_item > 0
    assert set().union(*(work.threads for work in works)) == {threading.get_ident()}


def test_the_question_is_cut_into_the_recognisers_pieces_whole() -> None:
    pcm = bytes(range(256)) * 20
    cut = shared_tick.pieces(pcm)
    assert b"".join(cut) == pcm
    assert all(len(piece) == shared_tick.PIECE_BYTES for piece in cut[:-1])


def test_every_measure_is_reported() -> None:
    measured = shared_tick.measure(calls=2, seconds=0.3, busy=1)
    assert list(measured) == [
        "frame, a thread per call (µs)",
        "frame, one thread per tick (µs)",
        "audio second, a thread per call (ms)",
        "audio second, one thread per tick (ms)",
        "audio second, in a loop (ms)",
    ]
    assert all(value > 0 for value in measured.values())
