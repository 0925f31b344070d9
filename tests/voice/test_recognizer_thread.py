"""The recogniser thread: same answers as the recogniser itself, without blocking the feeder."""

from __future__ import annotations

import time
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from voice import asr, codec
from voice.asr import Partial, Transcript
from voice.recognizer_thread import RecognizerThread


def frames_16k(speech: NDArray[np.int16]) -> list[bytes]:
    pcm = codec.resample(speech, 8000, 16000).tobytes()
    return [pcm[i : i + 640] for i in range(0, len(pcm), 640)]


@pytest.mark.slow
def test_answers_match_the_recogniser_fed_directly(
    model_path: Path, speech_8k: dict[str, NDArray[np.int16]]
) -> None:
    frames = frames_16k(speech_8k["thanks"])
    direct = asr.VoskRecognizer(model_path)
    for frame in frames:
        direct.accept(frame)
    expected = direct.final()
    threaded = RecognizerThread(asr.VoskRecognizer(model_path))
    try:
        for frame in frames:
            assert threaded.accept(frame) is None
        heard = threaded.final()
        # Vosk is not bit-for-bit repeatable between recognisers; the words must agree.
        assert expected.text and SequenceMatcher(None, heard.text, expected.text).ratio() > 0.6
        for frame in frames[: len(frames) // 2]:
            threaded.accept(frame)
        settled = threaded.flush()
        for frame in frames[len(frames) // 2 :]:
            threaded.accept(frame)
        assert settled and threaded.final().text.startswith(settled)
    finally:
        threaded.close()


class SlowRecognizer:
    sample_rate = 16000

    def __init__(self) -> None:
        self.fed = 0

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        time.sleep(0.05)
        self.fed += 1
        if pcm16 == b"boom":
            raise RuntimeError("decoder exploded")
        return None

    def flush(self) -> str:
        return f"{self.fed} pieces"

    def final(self) -> Transcript:
        return Transcript(f"{self.fed} pieces", 1.0)

    def reset(self) -> None:
        self.fed = 0


def test_feeding_never_waits_and_answers_cover_everything_fed() -> None:
    threaded = RecognizerThread(SlowRecognizer(), batch_ms=0)  # every piece handed over alone
    try:
        started = time.perf_counter()
        for _ in range(10):
            threaded.accept(b"x")
        assert time.perf_counter() - started < 0.05  # ten 50 ms decodes did not block
        assert threaded.flush() == "10 pieces"
        threaded.accept(b"x")
        assert threaded.final() == Transcript("11 pieces", 1.0)
    finally:
        threaded.close()


def test_a_decoding_failure_surfaces_at_the_next_answer() -> None:
    threaded = RecognizerThread(SlowRecognizer(), batch_ms=0)
    try:
        threaded.accept(b"boom")
        with pytest.raises(RuntimeError, match="decoder exploded"):
            threaded.final()
        assert threaded.flush() == "1 pieces"  # reported once; the thread goes on
    finally:
        threaded.close()


class ResetAfter(SlowRecognizer):
    """Notes what was done, in order: each piece fed, then each drop of the turn."""

    def __init__(self) -> None:
        super().__init__()
        self.done: list[str] = []

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.done.append("accept")
        return super().accept(pcm16, partial)

    def reset(self) -> None:
        self.done.append("reset")
        super().reset()


def test_closing_drops_the_turn_in_progress_after_the_audio_already_handed_over() -> None:
    inner = ResetAfter()
    threaded = RecognizerThread(inner, batch_ms=0)
    for _ in range(3):
        threaded.accept(b"x")  # 150 ms of decoding still queued
    threaded.close()
    assert inner.done == ["accept", "accept", "accept", "reset"]  # on its thread, last


class RecordingRecognizer(SlowRecognizer):
    """Keeps every piece of audio it was given, as it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[bytes] = []

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.pieces.append(pcm16)
        return None


def test_frames_are_handed_over_in_batches_and_every_answer_covers_the_rest() -> None:
    inner = RecordingRecognizer()
    threaded = RecognizerThread(inner, batch_ms=60)  # 60 ms at 16 kHz: three 20 ms frames
    frames = [bytes([n]) * 640 for n in range(7)]
    try:
        for frame in frames:
            threaded.accept(frame)
        threaded.final()  # the seventh frame, still held, goes before the answer
        assert [len(piece) for piece in inner.pieces] == [1920, 1920, 640]
        assert b"".join(inner.pieces) == b"".join(frames)  # nothing lost, nothing reordered
        threaded.accept(frames[0])
        threaded.reset_later()  # a dropped turn: its audio not yet handed over is never decoded
        threaded.accept(frames[1])
        threaded.flush()
        threaded.accept(frames[2])
        threaded.close()  # nor is a turn's held audio once the call is over
        assert inner.pieces[3:] == [frames[1]]
    finally:
        threaded.close()


def test_audio_no_one_is_shown_is_held_until_its_words_are_asked_for() -> None:
    inner = RecordingRecognizer()
    threaded = RecognizerThread(inner, batch_ms=60, hold_ms=200)  # 200 ms: 6,400 bytes
    frames = [bytes([n]) * 640 for n in range(16)]
    try:
        for frame in frames[:5]:
            threaded.accept(frame)
        threaded.flush()  # the caller paused: the turn so far in one burst
        assert [len(piece) for piece in inner.pieces] == [3200]
        for frame in frames[5:]:
            threaded.accept(frame)
        threaded.final()  # ten frames held at most, then the last one with the answer
        assert [len(piece) for piece in inner.pieces] == [3200, 6400, 640]
        assert b"".join(inner.pieces) == b"".join(frames)
        threaded.accept(frames[0])
        threaded.reset()  # a noise: dropped before its words were asked for
        threaded.final()
        assert len(inner.pieces) == 3  # never decoded
    finally:
        threaded.close()


def test_held_audio_is_decoded_from_the_moment_the_caller_pauses() -> None:
    inner = RecordingRecognizer()
    threaded = RecognizerThread(inner, batch_ms=60, hold_ms=200)
    frames = [bytes([n]) * 640 for n in range(5)]
    try:
        for frame in frames[:3]:
            threaded.accept(frame)
        threaded.hand_over()  # the caller paused: what is held starts decoding now
        threaded.hand_over()  # nothing more held: nothing more handed over
        for frame in frames[3:]:
            threaded.accept(frame)
        threaded.flush()  # the rest of the pause, with the question for the words
        assert [len(piece) for piece in inner.pieces] == [1920, 1280]  # not one 3,200 burst
        assert b"".join(inner.pieces) == b"".join(frames)
    finally:
        threaded.close()


def test_audio_is_handed_over_as_it_comes_while_someone_is_shown_the_words() -> None:
    inner, watched = RecordingRecognizer(), [True]
    threaded = RecognizerThread(
        inner,
        on_partial=lambda words: None,
        batch_ms=60,
        hold_ms=200,
        partials_wanted=lambda: watched[0],
    )
    frames = [bytes([n]) * 640 for n in range(7)]
    try:
        for frame in frames[:4]:
            threaded.accept(frame)
        watched[0] = False  # the watcher closed the call: held from now on
        for frame in frames[4:]:
            threaded.accept(frame)
        threaded.final()
        assert [len(piece) for piece in inner.pieces] == [1920, 2560]
    finally:
        threaded.close()


def test_audio_is_held_only_while_the_line_is_busy() -> None:
    inner, busy = RecordingRecognizer(), [False]
    threaded = RecognizerThread(inner, batch_ms=60, hold_ms=200, hold_wanted=lambda: busy[0])
    frames = [bytes([n]) * 640 for n in range(10)]
    try:
        for frame in frames[:3]:
            threaded.accept(frame)  # a quiet line: handed over as it comes
        busy[0] = True  # more calls came in: held from now on
        for frame in frames[3:]:
            threaded.accept(frame)
        threaded.final()
        assert [len(piece) for piece in inner.pieces] == [1920, 4480]
        assert b"".join(inner.pieces) == b"".join(frames)
    finally:
        threaded.close()


class WordsSoFar(SlowRecognizer):
    """Says the words so far ("n pieces") when asked for them; notes whether it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[bool] = []

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.fed += 1
        self.asked.append(partial)
        return Partial(f"{self.fed} pieces") if partial else None


def test_the_words_so_far_are_worked_out_only_while_someone_is_shown_them() -> None:
    inner, watched = WordsSoFar(), [False]
    shown: list[str] = []
    threaded = RecognizerThread(
        inner, on_partial=shown.append, batch_ms=0, partials_wanted=lambda: watched[0]
    )
    try:
        threaded.accept(b"a")
        threaded.accept(b"b")
        threaded.flush()  # every piece so far decoded
        watched[0] = True  # a watcher opens the call mid-turn
        threaded.accept(b"c")
        threaded.flush()
        watched[0] = False
        threaded.accept(b"d")
        assert threaded.final().text == "4 pieces"  # every piece decoded either way
    finally:
        threaded.close()
    assert inner.asked == [False, False, True, False]
    assert shown == ["3 pieces"]  # the turn's words so far, as soon as someone watches


def test_with_no_one_to_tell_the_words_so_far_are_never_worked_out() -> None:
    inner = WordsSoFar()
    threaded = RecognizerThread(inner, batch_ms=0)
    try:
        threaded.accept(b"a")
        threaded.final()
    finally:
        threaded.close()
    assert inner.asked == [False]
