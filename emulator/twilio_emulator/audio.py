"""Audio for the emulated phone: any WAV in as 8 kHz μ-law, loudness per frame, WAV out.

Usage::

    audio = read_wav_ulaw("caller.wav")      # PCM 8-32 bit, float, μ-law or A-law; any rate
    is_voiced(audio[:160])                   # louder than -40 dBFS?
    write_wav_ulaw("heard.wav", heard)       # 16-bit PCM WAV, 8 kHz mono
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from voice.codec import decode_ulaw, encode_ulaw, resample

SAMPLE_RATE = 8000
FRAME_BYTES = 160  # 20 ms of 8 kHz μ-law
VOICED_DBFS = -40.0

_PCM, _FLOAT, _ALAW, _ULAW, _EXTENSIBLE = 1, 3, 6, 7, 0xFFFE


class AudioFileError(ValueError):
    """A WAV file that cannot be read; the message names the file."""


def read_wav_ulaw(path: str | Path) -> bytes:
    """Read any common WAV file as 8 kHz mono μ-law.

    Args:
        path: The file: integer PCM (8, 16, 24 or 32 bit), IEEE float, μ-law or A-law, any
            sampling rate and channel count (channels are averaged).

    Returns:
        μ-law bytes, one per sample at 8 kHz.

    Raises:
        AudioFileError: The file is missing, not RIFF/WAVE or in another encoding.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AudioFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        fmt, channels, rate, bits, raw = wav_layout(data)
        samples = _samples(fmt, bits, raw)
    except (ValueError, struct.error) as exc:
        raise AudioFileError(f"{path}: {exc}") from None
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(1)
    return encode_ulaw(_to_8k(samples, rate))


def wav_layout(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Format tag, channels, rate, bits per sample and sample data of a RIFF/WAVE file.

    Raises:
        ValueError: not a WAV file, or one without its ``fmt `` or ``data`` chunk.
        struct.error: a ``fmt `` chunk too short to read.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file (no RIFF/WAVE header)")
    position, fmt, payload = 12, None, None
    while position + 8 <= len(data):
        chunk_id, size = (
            data[position : position + 4],
            struct.unpack_from("<I", data, position + 4)[0],
        )
        body = data[position + 8 : position + 8 + size]
        if chunk_id == b"fmt ":
            fmt = body
        elif chunk_id == b"data":
            payload = body
        position += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None or payload is None:
        raise ValueError("no 'fmt ' or 'data' chunk")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # the sub-format GUID starts with the tag
    if channels < 1 or rate < 1:
        raise ValueError(f"{channels} channels at {rate} Hz")
    return tag, channels, rate, bits, payload


def _samples(tag: int, bits: int, raw: bytes) -> NDArray[np.float64]:
    """Samples as floats in -1..1."""
    if tag == _ULAW and bits == 8:
        return decode_ulaw(raw).astype(np.float64) / 32768.0
    if tag == _ALAW and bits == 8:
        return _decode_alaw(np.frombuffer(raw, dtype=np.uint8)) / 32768.0
    if tag == _FLOAT and bits in (32, 64):
        dtype = "<f4" if bits == 32 else "<f8"
        usable = len(raw) // (bits // 8) * (bits // 8)
        return np.frombuffer(raw[:usable], dtype=dtype).astype(np.float64)
    if tag == _PCM and bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if tag == _PCM and bits in (16, 32):
        dtype = "<i2" if bits == 16 else "<i4"
        usable = len(raw) // (bits // 8) * (bits // 8)
        scale = float(2 ** (bits - 1))
        return np.frombuffer(raw[:usable], dtype=dtype).astype(np.float64) / scale
    if tag == _PCM and bits == 24:
        bytes3 = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3)
        values = bytes3[:, 0].astype(np.int32) | (bytes3[:, 1].astype(np.int32) << 8)
        values |= bytes3[:, 2].astype(np.int8).astype(np.int32) << 16  # sign from the top byte
        return values.astype(np.float64) / float(2**23)
    raise ValueError(f"unsupported WAV encoding (format {tag:#x}, {bits} bits)")


def _decode_alaw(codes: NDArray[np.uint8]) -> NDArray[np.float64]:
    """G.711 A-law to linear (the reference decoder)."""
    value = codes.astype(np.int32) ^ 0x55
    exponent = (value & 0x70) >> 4
    mantissa = (value & 0x0F) << 4
    magnitude = np.where(
        exponent == 0, mantissa + 8, (mantissa + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(value & 0x80, magnitude, -magnitude).astype(np.float64)


def _to_8k(samples: NDArray[np.float64], rate: int) -> NDArray[np.int16]:
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
    if rate in (8000, 16000):
        return np.asarray(resample(pcm, rate, SAMPLE_RATE), dtype=np.int16)
    # Other rates: low-pass below 4 kHz (when decimating), then interpolate at 8 kHz instants.
    x = samples
    if rate > SAMPLE_RATE:
        x = np.convolve(x, _lowpass(3600 / rate), mode="same")
    count = len(x) * SAMPLE_RATE // rate
    positions = np.arange(count) * (rate / SAMPLE_RATE)
    out = np.interp(positions, np.arange(len(x)), x) if len(x) else np.zeros(0)
    pcm8k: NDArray[np.int16] = np.clip(np.round(out * 32768.0), -32768, 32767).astype(np.int16)
    return pcm8k


def _lowpass(cutoff: float, taps: int = 101) -> NDArray[np.float64]:
    """Windowed-sinc low-pass; ``cutoff`` as a fraction of the sampling rate."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff * n) * np.hamming(taps)
    result: NDArray[np.float64] = kernel / kernel.sum()
    return result


def frame_dbfs(frame: bytes) -> float:
    """RMS level of μ-law audio in dB relative to full scale (``-inf`` for digital silence)."""
    if not frame:
        return -math.inf
    pcm = decode_ulaw(frame).astype(np.float64)
    rms = float(np.sqrt(np.mean(pcm * pcm)))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else -math.inf


def is_voiced(frame: bytes, threshold_dbfs: float = VOICED_DBFS) -> bool:
    """Whether a frame is speech rather than (near) silence: louder than ``threshold_dbfs``."""
    return frame_dbfs(frame) > threshold_dbfs


def write_wav_ulaw(path: str | Path, audio: bytes) -> None:
    """Write 8 kHz μ-law audio as a 16-bit PCM WAV file (every player opens that)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(decode_ulaw(audio).astype("<i2").tobytes())
