"""The listener takes audio in pieces of any length, as if it had come frame by frame.

A socket read at most every 60 ms hands the listener three 20 ms messages at once; the turn's
events, their times and the audio the recogniser hears must not depend on how it was cut.
Real Vosk (Korean) and real espeak-ng speech.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voice import asr
from voice.asr import Partial, Transcript
from voice.listener import Heard, Listener, ListenEvent, Paused
from voice.turns import TurnConfig

FRAME = 160  # μ-law bytes in 20 ms at 8 kHz


class HeardAudio:
    """The real recogniser, keeping every piece of audio it is given."""

    def __init__(self, inner: asr.VoskRecognizer) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.audio = bytearray()

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.audio += pcm16
        return self.inner.accept(pcm16)

    def flush(self) -> str:
        return self.inner.flush()

    def final(self) -> Transcript:
        return self.inner.final()

    def reset(self) -> None:
        self.inner.reset()


def described(event: ListenEvent) -> tuple[object, ...]:
    """What an event decided: its kind and stream times, and whether it has words.

    Not the words themselves: two fresh recognisers given the very same audio can differ in a
    word (Vosk expands its graph as it goes), so the audio heard is compared instead.
    """
    if isinstance(event, Heard):
        return ("heard", bool(event.text), event.at_ms, event.end_of_turn_ms, event.speech_ms)
    if isinstance(event, Paused):
        return ("paused", bool(event.words.result(timeout=10)), event.at_ms)
    return (event,)


def listen(model_path: Path, ulaw: bytes, piece: int) -> tuple[list[tuple[object, ...]], bytes]:
    """Feed ``ulaw`` in pieces of ``piece`` bytes: what was decided and the audio recognised."""
    heard = HeardAudio(asr.VoskRecognizer(model_path))
    listener = Listener(heard, TurnConfig(start_ms=100), prepare_ms=150)
    events: list[ListenEvent] = []
    for start in range(0, len(ulaw), piece):
        events += listener.feed(ulaw[start : start + piece])
    return [described(event) for event in events], bytes(heard.audio)


@pytest.mark.slow
def test_pieces_of_three_frames_decide_what_frames_one_by_one_decide(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    silence = b"\xff" * 4000  # μ-law silence, half a second
    call = silence + speech_ulaw["greeting"] + silence * 2 + speech_ulaw["thanks"] + silence * 2
    one_by_one, audio_one_by_one = listen(model_path, call, FRAME)
    in_threes, audio_in_threes = listen(model_path, call, 3 * FRAME)
    heard = [event for event in one_by_one if event[0] == "heard"]
    assert len(heard) == 2 and all(event[1] for event in heard)  # two turns, real words
    assert in_threes == one_by_one  # the same events, at the same stream times
    assert audio_in_threes == audio_one_by_one  # the same audio, preroll included


@pytest.mark.slow
def test_an_odd_piece_length_still_decides_the_same(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    call = b"\xff" * 4000 + speech_ulaw["thanks"] + b"\xff" * 8000
    one_by_one, _ = listen(model_path, call, FRAME)
    odd, _ = listen(model_path, call, 250)  # not a whole number of frames: frames straddle
    assert odd == one_by_one
