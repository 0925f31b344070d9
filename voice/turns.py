"""End-of-turn and barge-in detection: voice activity over 20 ms frames, as pure logic.

Vosk 0.3.45 has no endpointer settings, so we decide ourselves when the caller has finished:
speech starts after ``start_ms`` of consecutive voiced frames, and the turn ends after
``silence_ms`` of consecutive unvoiced ones. A turn with less than ``min_speech_ms`` of voiced
audio in all was line noise, and is discarded instead. No threads, no clock: time is counted
in frames from the start of the stream.

Usage::

    detector = TurnDetector(TurnConfig(silence_ms=600))
    detector.bot_speaking = True                 # while a prompt plays, speech onset is a barge-in
    for event in detector.push(pcm16_bytes):     # any length; framed internally
        ...                                      # SpeechStarted, BargeIn, TurnEnded, TurnDiscarded
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

VAD_RATES = (8000, 16000, 32000, 48000)
VAD_FRAME_MS = (10, 20, 30)


@dataclass(frozen=True)
class TurnConfig:
    """Settings of a :class:`TurnDetector`.

    Attributes:
        sample_rate: Rate of the PCM given to ``push``: 8000, 16000, 32000 or 48000.
        frame_ms: VAD frame length: 10, 20 or 30 ms.
        vad_mode: webrtcvad aggressiveness, 0 (keeps most audio as speech) to 3 (strictest).
        silence_ms: Trailing silence that ends a turn.
        start_ms: Consecutive voiced audio that counts as speech onset (and as a barge-in).
        min_speech_ms: Voiced audio a turn needs in all; shorter ones are discarded as noise.
        energy_floor_dbfs: Frames quieter than this are unvoiced whatever the VAD says. The
            VAD holds "voiced" for about 100 ms after speech stops (its own hangover); on a
            quiet line this gate cuts that from the wait. ``None`` turns the gate off.
    """

    sample_rate: int = 16000
    frame_ms: int = 20
    vad_mode: int = 2
    silence_ms: int = 600
    start_ms: int = 100
    min_speech_ms: int = 200
    energy_floor_dbfs: float | None = -55.0

    def __post_init__(self) -> None:
        if self.sample_rate not in VAD_RATES:
            raise ValueError(f"sample_rate must be one of {VAD_RATES}, not {self.sample_rate}")
        if self.frame_ms not in VAD_FRAME_MS:
            raise ValueError(f"frame_ms must be one of {VAD_FRAME_MS}, not {self.frame_ms}")
        if not 0 <= self.vad_mode <= 3:
            raise ValueError(f"vad_mode must be 0 to 3, not {self.vad_mode}")
        if min(self.silence_ms, self.start_ms, self.min_speech_ms) <= 0:
            raise ValueError("silence_ms, start_ms and min_speech_ms must be positive")

    @property
    def frame_bytes(self) -> int:
        """Bytes of 16-bit PCM in one frame."""
        return self.sample_rate * self.frame_ms // 1000 * 2


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking; ``at_ms`` is the start of the first voiced frame."""

    at_ms: int


@dataclass(frozen=True)
class BargeIn:
    """The caller spoke over the bot: stop playback now. Comes with :class:`SpeechStarted`."""

    at_ms: int


@dataclass(frozen=True)
class TurnEnded:
    """The caller finished a turn: take the recogniser's final result now.

    Attributes:
        at_ms: When the trailing silence ran out (end of the frame that decided it).
        last_voiced_ms: End of the last voiced frame; ``at_ms - last_voiced_ms`` is the wait.
        speech_ms: Voiced audio in the turn.
    """

    at_ms: int
    last_voiced_ms: int
    speech_ms: int


@dataclass(frozen=True)
class TurnDiscarded:
    """What started as speech was too short to be a turn (line noise, a cough): reset."""

    at_ms: int
    speech_ms: int


TurnEvent: TypeAlias = SpeechStarted | BargeIn | TurnEnded | TurnDiscarded


class TurnDetector:
    """Turns a stream of PCM (or of voiced/unvoiced decisions) into turn events.

    Args:
        config: Thresholds and VAD settings; the defaults suit 16 kHz telephone speech.

    Attributes:
        bot_speaking: Set while a prompt plays; speech onset then also yields :class:`BargeIn`.
    """

    def __init__(self, config: TurnConfig | None = None) -> None:
        self.config = config or TurnConfig()
        self.bot_speaking = False
        self._vad: Any = None  # created on first push(): tests of the logic need no webrtcvad
        self._pending = b""
        self._frames = 0  # frames seen since the stream started
        self._in_speech = False
        self._voiced_run = 0
        self._silent_run = 0
        self._speech_frames = 0

    @property
    def in_speech(self) -> bool:
        """Whether the caller is mid-turn (speech started and the turn has not ended)."""
        return self._in_speech

    def push(self, pcm16: bytes) -> list[TurnEvent]:
        """Feed 16-bit mono PCM at ``config.sample_rate``, any length.

        Returns:
            The events decided by the whole frames now available, in order.
        """
        if self._vad is None:
            import webrtcvad  # type: ignore[import-untyped]  # the wheel ships no type information

            self._vad = webrtcvad.Vad(self.config.vad_mode)
        data = self._pending + pcm16
        size = self.config.frame_bytes
        whole = len(data) - len(data) % size
        self._pending = data[whole:]
        events: list[TurnEvent] = []
        floor = self.config.energy_floor_dbfs
        # Mean square of int16 samples for the floor, in the same units as the frames' energy.
        floor_power = None if floor is None else (32768.0 * 10 ** (floor / 20)) ** 2
        for start in range(0, whole, size):
            frame = data[start : start + size]
            voiced = bool(self._vad.is_speech(frame, self.config.sample_rate))
            if voiced and floor_power is not None:
                samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
                voiced = float(samples @ samples) >= floor_power * len(samples)
            events.extend(self.push_frame(voiced))
        return events

    def push_frame(self, voiced: bool) -> list[TurnEvent]:
        """Advance by one frame whose voice activity is already decided.

        Returns:
            The events this frame decides (usually none).
        """
        frame_ms = self.config.frame_ms
        self._frames += 1
        now = self._frames * frame_ms
        events: list[TurnEvent] = []
        if not self._in_speech:
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run * frame_ms >= self.config.start_ms:
                self._in_speech = True
                self._silent_run = 0
                self._speech_frames = self._voiced_run
                onset = now - self._voiced_run * frame_ms
                events.append(SpeechStarted(onset))
                if self.bot_speaking:
                    events.append(BargeIn(onset))
            return events
        if voiced:
            self._speech_frames += 1
            self._silent_run = 0
            return events
        self._silent_run += 1
        if self._silent_run * frame_ms >= self.config.silence_ms:
            speech_ms = self._speech_frames * frame_ms
            if speech_ms >= self.config.min_speech_ms:
                events.append(TurnEnded(now, now - self._silent_run * frame_ms, speech_ms))
            else:
                events.append(TurnDiscarded(now, speech_ms))
            self._in_speech = False
            self._voiced_run = 0
        return events

    @property
    def trailing_silence_ms(self) -> int:
        """Unvoiced audio since the caller last spoke in the current turn (0 outside a turn)."""
        return self._silent_run * self.config.frame_ms if self._in_speech else 0

    @property
    def stream_ms(self) -> int:
        """Audio seen since the stream started, in whole frames."""
        return self._frames * self.config.frame_ms

    def end_turn(self) -> TurnEnded | TurnDiscarded | None:
        """End the current turn now, before the full silence ran out.

        For a caller who has clearly finished (their words stopped changing): the same
        event the silence would have produced, or ``None`` when no turn is in progress.
        """
        if not self._in_speech:
            return None
        now = self._frames * self.config.frame_ms
        speech_ms = self._speech_frames * self.config.frame_ms
        last_voiced = now - self._silent_run * self.config.frame_ms
        self._in_speech = False
        self._voiced_run = 0
        if speech_ms >= self.config.min_speech_ms:
            return TurnEnded(now, last_voiced, speech_ms)
        return TurnDiscarded(now, speech_ms)

    def reset(self) -> None:
        """Forget any turn in progress (the stream clock keeps counting)."""
        self._pending = b""
        self._in_speech = False
        self._voiced_run = 0
        self._silent_run = 0
        self._speech_frames = 0
