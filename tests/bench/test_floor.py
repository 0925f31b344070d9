"""The floor is measured on a recogniser that is already warm for the question."""

from __future__ import annotations

import pytest

from tests.bench import load

floor = load("floor")


class CountingRecognizer:
    """Counts what the floor's recogniser is given; hears no words."""

    def __init__(self) -> None:
        self.whole_passes = 0
        self.frames = 0

    def AcceptWaveform(self, pcm: bytes) -> bool:  # Vosk's own name
        if len(pcm) > floor.RATE * floor.FRAME_MS // 1000 * 2:
            self.whole_passes += 1  # the question in one piece: a warming pass
        else:
            self.frames += 1
        return False

    def FinalResult(self) -> str:  # Vosk's own name
        return "{}"


def test_a_new_question_is_heard_several_times_before_it_is_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heard = CountingRecognizer()
    monkeypatch.setattr(floor, "_recognizer", lambda: heard)
    monkeypatch.setattr(floor, "_warmed", set())
    question = b"\x00\x7f" * 4000  # a second of μ-law
    floor.call_floor(question, questions=2, frames=200)
    assert heard.whole_passes == floor.WARM_PASSES > 1
    measured = heard.frames
    assert measured > 0
    floor.call_floor(question, questions=2, frames=200)
    assert heard.whole_passes == floor.WARM_PASSES + 1  # warm already: one pass, as before
    assert heard.frames == 2 * measured
    floor.call_floor(b"\x01" * 8000, questions=2, frames=200)
    assert heard.whole_passes == 2 * floor.WARM_PASSES + 1  # another question warms anew


def test_a_runs_floor_is_the_median_of_several_measurements_with_their_range_and_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    measured = iter([0.39, 0.26, 0.25, 0.31, 0.27])
    asked: list[tuple[bytes, int, int]] = []

    def one(question: bytes, questions: int, frames: int) -> float:
        asked.append((question, questions, frames))
        return next(measured)

    monkeypatch.setattr(floor, "call_floor", one)
    steady = floor.floor_of_call(b"q", questions=3, frames=1350, samples=5)
    assert steady == floor.Floor(median_s=0.27, low_s=0.25, high_s=0.39, first_s=0.39)
    assert asked == [(b"q", 3, 1350)] * 5
