from __future__ import annotations

import numpy as np
import pytest

from voice.turns import BargeIn, SpeechStarted, TurnConfig, TurnDetector, TurnDiscarded, TurnEnded


def run(detector: TurnDetector, pattern: str) -> list[object]:
    """Feed one frame per character: '#' voiced, '.' unvoiced."""
    return [event for mark in pattern for event in detector.push_frame(mark == "#")]


def test_speech_starts_after_100ms_voiced_and_the_turn_ends_after_the_silence() -> None:
    detector = TurnDetector(TurnConfig(silence_ms=600))
    events = run(detector, "...." + "#" * 20 + "." * 30)
    assert events == [SpeechStarted(80), TurnEnded(at_ms=1080, last_voiced_ms=480, speech_ms=400)]


def test_short_pauses_inside_speech_do_not_end_the_turn() -> None:
    detector = TurnDetector(TurnConfig(silence_ms=200))
    events = run(detector, "#####" + "........." + "#####" + "..........")
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    assert events[-1] == TurnEnded(at_ms=580, last_voiced_ms=380, speech_ms=200)


def test_a_click_shorter_than_the_onset_is_ignored() -> None:
    assert run(TurnDetector(), "####." * 10 + "." * 40) == []


def test_noise_that_starts_speech_but_is_too_short_is_discarded() -> None:
    detector = TurnDetector(TurnConfig(start_ms=100, min_speech_ms=300, silence_ms=200))
    events = run(detector, "######" + "." * 10)
    assert events == [SpeechStarted(0), TurnDiscarded(at_ms=320, speech_ms=120)]
    assert not detector.in_speech


def test_barge_in_only_while_the_bot_speaks_and_at_onset() -> None:
    detector = TurnDetector()
    detector.bot_speaking = True
    events = run(detector, "..#####")
    assert events == [SpeechStarted(40), BargeIn(40)]  # decided on the 5th voiced frame: 140 ms
    detector.reset()
    detector.bot_speaking = False
    assert run(detector, "#####") == [SpeechStarted(140)]


def test_push_frames_pcm_of_any_length_through_webrtcvad() -> None:
    detector = TurnDetector(TurnConfig(sample_rate=8000, silence_ms=200, vad_mode=3))
    t = np.arange(8000) / 8000
    # A voice-like buzz: a 150 Hz pulse train with harmonics, then digital silence.
    buzz = 8000 * np.sign(np.sin(2 * np.pi * 150 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    audio = np.concatenate([buzz.astype(np.int16), np.zeros(4000, np.int16)]).tobytes()
    events = [e for i in range(0, len(audio), 333) for e in detector.push(audio[i : i + 333])]
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]


def test_the_energy_gate_ends_the_turn_where_the_audio_goes_quiet() -> None:
    t = np.arange(8000) / 8000
    buzz = 8000 * np.sign(np.sin(2 * np.pi * 150 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    # -60 dBFS hiss after the speech: the VAD may call it voiced for a while, the gate does not.
    hiss = np.random.default_rng(0).normal(0, 32768 * 10 ** (-60 / 20), 8000)
    audio = np.concatenate([buzz, hiss]).astype(np.int16).tobytes()
    gated = TurnDetector(TurnConfig(sample_rate=8000, silence_ms=300))
    ended = [e for e in gated.push(audio) if isinstance(e, TurnEnded)]
    assert ended and ended[0].last_voiced_ms == 1000


@pytest.mark.parametrize(
    "kwargs",
    [{"sample_rate": 22050}, {"frame_ms": 25}, {"vad_mode": 4}, {"silence_ms": 0}],
)
def test_config_refuses_what_webrtcvad_cannot_do(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TurnConfig(**kwargs)
