"""G.711 μ-law ↔ 16-bit PCM, and resampling between 8 kHz and 16 kHz.

Twilio Media Streams carry 8 kHz μ-law; Vosk models mostly want 16 kHz linear PCM. Both
conversions are numpy table look-ups and a short polyphase FIR, so one 20 ms frame costs
microseconds. ``audioop`` is not used: it is deprecated and gone in Python 3.13.

Typical use on the way in::

    up = Resampler(8000, 16000)          # one per call: it keeps filter history
    pcm = up.process(decode_ulaw(payload))
    recognizer.accept(pcm.tobytes())
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

PCM = NDArray[np.int16]

_BIAS: Final = 0x84  # G.711 μ-law bias (132), added before finding the segment
_BIAS14: Final = 0x21  # the same bias on the encoder's 14-bit scale
_CLIP14: Final = 8159  # largest 14-bit magnitude the encoder represents


def _build_decode_table() -> PCM:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_encode_table() -> NDArray[np.uint8]:
    # The reference encoder (Sun's g711.c, as in audioop) works on 14 bits: shift, take the
    # magnitude, clip, bias, find the segment (the highest set bit), keep four mantissa bits.
    # Indexed by the int16 sample viewed as uint16, so negative samples sit in the top half.
    samples = np.arange(65536, dtype=np.int32)
    samples = np.where(samples >= 32768, samples - 65536, samples) >> 2
    mask = np.where(samples < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(samples), _CLIP14) + _BIAS14
    _, bit_length = np.frexp(magnitude.astype(np.float64))
    segment = np.clip(bit_length - 6, 0, 8)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)  # beyond the last segment: the largest code
    return ((code ^ mask) & 0xFF).astype(np.uint8)


ULAW_DECODE: Final[PCM] = _build_decode_table()
"""The 256 linear values of the μ-law codes, as in the G.711 reference implementation."""

ULAW_ENCODE: Final[NDArray[np.uint8]] = _build_encode_table()
"""The μ-law code of every 16-bit sample, indexed by the sample viewed as ``uint16``."""

# The low and the high byte of each code's little-endian sample, as ``bytes.translate`` tables.
_ULAW_LOW: Final = ULAW_DECODE.astype("<i2").view(np.uint8)[0::2].tobytes()
_ULAW_HIGH: Final = ULAW_DECODE.astype("<i2").view(np.uint8)[1::2].tobytes()


def decode_ulaw(data: bytes) -> PCM:
    """Decode μ-law bytes to 16-bit linear samples.

    Args:
        data: μ-law codes, one byte per sample (a Twilio ``media`` payload after base64).

    Returns:
        The samples as an ``int16`` array of the same length.
    """
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def decode_ulaw_bytes(data: bytes) -> bytes:
    """Decode μ-law bytes to 16-bit little-endian PCM bytes (what recognisers are fed).

    The same samples as :func:`decode_ulaw`, without numpy: two ``bytes.translate`` look-ups
    interleaved. On a line's shared socket thread, which wakes to cold caches for every
    frame, this is about half the CPU of numpy's indexing (``bench/wake_cost.py``).
    """
    pcm = bytearray(2 * len(data))
    pcm[0::2] = data.translate(_ULAW_LOW)
    pcm[1::2] = data.translate(_ULAW_HIGH)
    return bytes(pcm)


def encode_ulaw(samples: PCM) -> bytes:
    """Encode 16-bit linear samples to μ-law bytes.

    Args:
        samples: ``int16`` samples.

    Returns:
        One μ-law byte per sample.
    """
    return ULAW_ENCODE[np.asarray(samples, dtype=np.int16).view(np.uint16)].tobytes()


def pcm16_from_bytes(data: bytes) -> PCM:
    """View little-endian 16-bit PCM bytes as an ``int16`` array (no copy)."""
    return np.frombuffer(data, dtype="<i2").astype(np.int16, copy=False)


def _lowpass_taps(num_taps: int, cutoff: float) -> NDArray[np.float64]:
    """Windowed-sinc low-pass, ``cutoff`` as a fraction of the sampling rate, unity DC gain."""
    n = np.arange(num_taps) - (num_taps - 1) / 2
    taps = np.sinc(2 * cutoff * n) * np.blackman(num_taps)
    result: NDArray[np.float64] = taps / taps.sum()
    return result


# 63 taps at 16 kHz, cut-off 3.8 kHz: telephone audio stops at 3.4 kHz, and the Blackman window
# keeps the images of the 8 kHz signal about 70 dB down. Odd length gives a whole-sample delay.
_NUM_TAPS: Final = 63
_TAPS: Final = _lowpass_taps(_NUM_TAPS, 3800 / 16000)
_DELAY: Final = (_NUM_TAPS - 1) // 2  # in 16 kHz samples


def _to_int16(values: NDArray[np.float64]) -> PCM:
    return np.clip(np.rint(values), -32768, 32767).astype(np.int16)


# Polyphase: each 16 kHz output phase is an 8 kHz convolution with every other tap. The factor
# 2 restores the energy lost to the zeros of the implicit zero-stuffing. Shared by every
# upsampler (a turn makes one): only each stream's history is its own.
_UP_PHASES: Final = [2 * _TAPS[0::2], 2 * np.append(_TAPS[1::2], 0.0)]


class Resampler:
    """Stream resampler between 8 kHz and 16 kHz (or a pass-through for equal rates).

    Keep one per stream: it carries the filter history across chunks, so chunk boundaries leave
    no clicks. The output lags the input by 31 samples at 16 kHz (about 2 ms).

    Args:
        from_rate: Input sampling rate in Hz.
        to_rate: Output sampling rate in Hz.

    Raises:
        ValueError: For a pair of rates other than 8000/16000 either way or equal rates.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        if from_rate != to_rate and {from_rate, to_rate} != {8000, 16000}:
            raise ValueError(f"cannot resample {from_rate} Hz to {to_rate} Hz: only 8000 ↔ 16000")
        self.from_rate = from_rate
        self.to_rate = to_rate
        if to_rate > from_rate:
            self._phases = _UP_PHASES
            history = len(self._phases[0]) - 1
        else:
            history = _NUM_TAPS - 1
        self._history = np.zeros(history, dtype=np.float64)
        # Decimation keeps odd filter outputs first: with 31 samples of delay that keeps the even
        # input samples, as resample() does, 15 output samples late.
        self._parity = 1

    def process(self, samples: PCM) -> PCM:
        """Resample one chunk.

        Args:
            samples: ``int16`` samples at ``from_rate``, any length.

        Returns:
            ``int16`` samples at ``to_rate``: twice as many when upsampling; when downsampling
            half as many, give or take one across chunks of odd length.
        """
        if self.from_rate == self.to_rate:
            return np.asarray(samples, dtype=np.int16)
        if not len(samples):  # np.convolve would swap its arguments: nothing in, nothing out
            return np.empty(0, dtype=np.int16)
        x = np.concatenate([self._history, np.asarray(samples, dtype=np.float64)])
        if len(self._history):
            self._history = x[len(x) - len(self._history) :]
        if self.to_rate > self.from_rate:
            out = np.empty(2 * len(samples), dtype=np.float64)
            out[0::2] = np.convolve(x, self._phases[0], mode="valid")
            out[1::2] = np.convolve(x, self._phases[1], mode="valid")
            return _to_int16(out)
        filtered = np.convolve(x, _TAPS, mode="valid")
        kept = filtered[self._parity :: 2]
        self._parity = (self._parity + len(samples)) % 2
        return _to_int16(kept)


def resample(samples: PCM, from_rate: int, to_rate: int) -> PCM:
    """Resample a whole buffer, with the filter delay removed so the output lines up in time.

    Args:
        samples: ``int16`` samples at ``from_rate``.
        from_rate: Input rate in Hz (8000 or 16000).
        to_rate: Output rate in Hz (8000 or 16000).

    Returns:
        ``int16`` samples at ``to_rate``; exactly ``len(samples) * to_rate // from_rate`` of them.
    """
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.int16)
    Resampler(from_rate, to_rate)  # validates the pair of rates
    x = np.asarray(samples, dtype=np.float64)
    if to_rate > from_rate:
        stuffed = np.zeros(2 * len(x), dtype=np.float64)
        stuffed[0::2] = x
        return _to_int16(2 * _centred(stuffed))
    return _to_int16(_centred(x)[0 : 2 * (len(x) // 2) : 2])


def _centred(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Low-pass ``x`` with the filter delay removed (``mode="same"`` misbehaves on short input)."""
    full: NDArray[np.float64] = np.convolve(x, _TAPS)
    return full[_DELAY : _DELAY + len(x)]
