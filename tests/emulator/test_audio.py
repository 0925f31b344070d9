"""WAV files in any common encoding become 8 kHz μ-law; loudness; the heard WAV out."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from twilio_emulator.audio import (
    AudioFileError,
    frame_dbfs,
    is_voiced,
    read_wav_ulaw,
    write_wav_ulaw,
)

from voice.codec import decode_ulaw, encode_ulaw


def tone(rate: int, seconds: float = 0.5, hz: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return level * np.sin(2 * np.pi * hz * t)


def riff(fmt_tag: int, channels: int, rate: int, bits: int, data: bytes) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk to skip
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def dominant_hz(ulaw: bytes) -> float:
    pcm = decode_ulaw(ulaw).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm))
    return float(np.argmax(spectrum) * 8000 / len(pcm))


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000, 11025])
def test_pcm16_at_any_rate_becomes_half_a_second_of_8k_with_the_same_pitch(
    tmp_path: Path, rate: int
) -> None:
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((tone(rate) * 32767).astype("<i2").tobytes())
    audio = read_wav_ulaw(path)
    assert abs(len(audio) - 4000) <= 1
    assert dominant_hz(audio) == pytest.approx(440, abs=4)


@pytest.mark.parametrize(
    ("tag", "bits", "encode"),
    [
        (1, 8, lambda x: ((x * 127) + 128).astype(np.uint8).tobytes()),
        (
            1,
            24,
            lambda x: b"".join(
                int(v).to_bytes(3, "little", signed=True) for v in (x * 8388607).astype(np.int32)
            ),
        ),
        (1, 32, lambda x: (x * 2147483647).astype("<i4").tobytes()),
        (3, 32, lambda x: x.astype("<f4").tobytes()),
        (3, 64, lambda x: x.astype("<f8").tobytes()),
        (7, 8, lambda x: encode_ulaw((x * 32767).astype(np.int16))),
    ],
)
def test_other_encodings(tmp_path: Path, tag: int, bits: int, encode: object) -> None:
    samples = tone(8000)
    path = tmp_path / "x.wav"
    path.write_bytes(riff(tag, 1, 8000, bits, encode(samples)))  # type: ignore[operator]
    audio = read_wav_ulaw(path)
    assert len(audio) == 4000
    assert dominant_hz(audio) == pytest.approx(440, abs=4)
    assert frame_dbfs(audio) == pytest.approx(-9.0, abs=1.0)  # a 0.5 sine: -9 dBFS RMS


def test_alaw_and_stereo(tmp_path: Path) -> None:
    # A-law code 0xD5 is +8, 0x55 is -8 (the smallest magnitudes); 0xAA is large positive.
    path = tmp_path / "a.wav"
    path.write_bytes(riff(6, 2, 8000, 8, bytes([0xAA, 0xAA] * 800)))
    audio = read_wav_ulaw(path)
    assert len(audio) == 800
    assert decode_ulaw(audio).min() > 10000  # both channels loud, averaged


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match=r"nope\.wav"):
        read_wav_ulaw(tmp_path / "nope.wav")
    bad = tmp_path / "adpcm.wav"
    bad.write_bytes(riff(2, 1, 8000, 4, b"\x00" * 100))
    with pytest.raises(AudioFileError, match=r"adpcm\.wav: unsupported WAV encoding"):
        read_wav_ulaw(bad)


def test_voiced_frames_are_louder_than_minus_40_dbfs() -> None:
    assert not is_voiced(b"\xff" * 160)
    assert not is_voiced(encode_ulaw(np.full(160, 200, dtype=np.int16)))  # about -44 dBFS
    assert is_voiced(encode_ulaw(np.full(160, 400, dtype=np.int16)))  # about -38 dBFS


def test_write_wav_writes_16_bit_pcm(tmp_path: Path) -> None:
    audio = encode_ulaw((tone(8000) * 32767).astype(np.int16))
    write_wav_ulaw(tmp_path / "heard.wav", audio)
    with wave.open(str(tmp_path / "heard.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() == 4000
    assert read_wav_ulaw(tmp_path / "heard.wav") == audio
