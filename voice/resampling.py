"""A recogniser fed the phone's 8 kHz audio that hands its model the model's own rate.

The one place where a turn's audio is brought to the model's rate. The listener always
gives its recogniser the phone's audio; the line wraps its recogniser thread's recogniser in
this, so the resampling runs on the recogniser's thread, on its 60 ms pieces, not on the
thread that reads every call's socket for each 20 ms frame (a third as many calls into numpy,
and none on the thread every call's audio waits for). Warm-up, benches and tests wrap a plain
recogniser the same way.

Each turn gets a fresh resampler: a turn ends with :meth:`final` or :meth:`reset`, and the next
turn's first samples are filtered with no audio of the last one, as if the call had just
started. :meth:`flush` (a pause mid-turn) keeps it.
"""

from __future__ import annotations

from voice import codec
from voice.asr import Partial, Recognizer, Transcript


class ResamplingRecognizer:
    """A :class:`~voice.asr.Recognizer` at ``rate`` in front of ``inner`` at its own rate.

    Args:
        inner: The recogniser that decodes (its ``sample_rate`` is the model's).
        rate: The rate of the audio this is fed (the phone's 8 kHz on the line).

    Raises:
        ValueError: For a pair of rates :class:`voice.codec.Resampler` cannot convert, when
            made rather than when the caller first speaks.
    """

    def __init__(self, inner: Recognizer, rate: int) -> None:
        self.inner = inner
        self.sample_rate = rate
        self._resampler = self._fresh()

    def _fresh(self) -> codec.Resampler | None:
        """A new turn's resampler (``None`` when the rates are equal: audio passes untouched)."""
        if self.sample_rate == self.inner.sample_rate:
            return None
        return codec.Resampler(self.sample_rate, self.inner.sample_rate)

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        """Feed audio at ``rate``; ``inner`` gets it at its own."""
        if self._resampler is not None:
            pcm16 = self._resampler.process(codec.pcm16_from_bytes(pcm16)).tobytes()
        return self.inner.accept(pcm16, partial)

    def flush(self) -> str:
        """The turn's words so far; the turn (and its resampler) go on."""
        return self.inner.flush()

    def final(self) -> Transcript:
        """The turn's transcript; the next turn starts with a fresh resampler."""
        self._resampler = self._fresh()
        return self.inner.final()

    def reset(self) -> None:
        """Drop the turn; the next one starts with a fresh resampler."""
        self._resampler = self._fresh()
        self.inner.reset()
