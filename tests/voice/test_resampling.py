"""The one place a turn's phone audio is brought to the model's rate, and who must use it."""

from __future__ import annotations

import numpy as np
import pytest

from voice import codec
from voice.asr import Transcript
from voice.listener import PHONE_RATE, Listener
from voice.resampling import ResamplingRecognizer


class RecordingTurns:
    """A recogniser at 16 kHz that keeps each turn's audio apart and hears no words."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.turns: list[bytearray] = [bytearray()]
        self.flushed = 0

    def accept(self, pcm16: bytes, partial: bool = True) -> None:
        self.turns[-1] += pcm16

    def flush(self) -> str:
        self.flushed += 1
        return ""

    def final(self) -> Transcript:
        self.turns.append(bytearray())
        return Transcript("", 0.0)

    def reset(self) -> None:
        self.turns.append(bytearray())


def phone_audio(seconds: float, seed: int) -> bytes:
    samples = np.random.default_rng(seed).normal(0, 3000, int(PHONE_RATE * seconds))
    return samples.clip(-32768, 32767).astype("<i2").tobytes()


def upsampled(pcm8k: bytes) -> bytes:
    """What a fresh resampler makes of the audio in one go."""
    samples = np.frombuffer(pcm8k, dtype="<i2").astype(np.int16)
    return codec.Resampler(PHONE_RATE, 16000).process(samples).tobytes()


def test_phone_audio_reaches_the_model_resampled_per_turn_whatever_the_pieces() -> None:
    model = RecordingTurns()
    heard = ResamplingRecognizer(model, PHONE_RATE)
    first, second, third = (phone_audio(s, seed) for seed, s in enumerate([1.3, 0.7, 0.4]))
    assert heard.sample_rate == PHONE_RATE  # what the listener and the recogniser thread feed

    for start in range(0, len(first), 320):  # the phone's 20 ms frames
        heard.accept(first[start : start + 320])
    heard.flush()  # a pause mid-turn: the same resampler goes on
    heard.accept(b"")
    heard.final()
    heard.accept(second[:960])  # the next turn, in the recogniser thread's 60 ms pieces
    heard.accept(second[960:])
    heard.reset()  # a dropped turn ends too
    heard.accept(third)
    heard.final()

    assert model.flushed == 1
    assert [bytes(turn) for turn in model.turns] == [*map(upsampled, [first, second, third]), b""]


def test_audio_at_the_models_rate_is_passed_on_untouched() -> None:
    model = RecordingTurns()
    heard = ResamplingRecognizer(model, 16000)
    audio = phone_audio(0.5, seed=3)
    heard.accept(audio[:100])
    heard.accept(audio[100:])
    assert heard.sample_rate == 16000 and bytes(model.turns[0]) == audio


def test_a_rate_it_cannot_convert_is_refused_when_made_not_when_the_caller_speaks() -> None:
    with pytest.raises(ValueError, match="44100"):
        ResamplingRecognizer(RecordingTurns(), 44100)


def test_the_listener_refuses_a_recogniser_that_does_not_take_the_phones_audio() -> None:
    with pytest.raises(ValueError, match="ResamplingRecognizer"):
        Listener(RecordingTurns())
    listener = Listener(ResamplingRecognizer(RecordingTurns(), PHONE_RATE))
    assert listener.recognizer.sample_rate == PHONE_RATE
