"""The signal path behind TTS: resampling to 8 kHz and μ-law encoding (no engine needed)."""

from __future__ import annotations

import numpy as np
import pytest

from voice.codec import encode_ulaw
from voice.tts import _resample, _to_pcm16


def tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def amplitude(samples: np.ndarray) -> float:
    middle = samples[200:-200]  # ignore the filter's edges
    return float(np.sqrt(np.mean(middle**2)) * np.sqrt(2))


@pytest.mark.parametrize("freq", [300, 1000, 3000])
def test_speech_band_passes_down_to_8k(freq: int) -> None:
    out = _resample(tone(freq, 22050), 22050, 8000)
    assert len(out) == 8000
    assert amplitude(out) == pytest.approx(1.0, abs=0.05)
    assert np.allclose(out[200:-200], tone(freq, 8000)[200:-200], atol=0.05)


@pytest.mark.parametrize("freq", [5000, 9000])
def test_above_4k_is_removed_not_folded_back(freq: int) -> None:
    assert amplitude(_resample(tone(freq, 22050), 22050, 8000)) < 0.01


def test_upsampling_and_equal_rates() -> None:
    up = _resample(tone(440, 8000), 8000, 16000)
    assert np.abs(up[200:-200] - tone(440, 16000)[200:-200]).max() < 0.01
    same = tone(440, 8000)
    assert _resample(same, 8000, 8000) is same


def test_float_samples_clip_instead_of_wrapping() -> None:
    assert list(_to_pcm16(np.array([0.0, 0.5, 2.0, -2.0]))) == [0, 16384, 32767, -32768]
    assert encode_ulaw(_to_pcm16(np.zeros(3))) == b"\xff\xff\xff"
