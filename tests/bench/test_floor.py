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
