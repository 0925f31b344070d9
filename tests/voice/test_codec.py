from __future__ import annotations

import numpy as np
import pytest

from voice import codec


@pytest.mark.parametrize(
    ("code", "value"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xF0, 120), (0x70, -120), (0xDF, 396)],
)
def test_decode_table_matches_the_g711_reference(code: int, value: int) -> None:
    assert codec.decode_ulaw(bytes([code]))[0] == value


def test_decode_table_is_odd_symmetric_and_monotonic() -> None:
    table = codec.ULAW_DECODE.astype(np.int32)
    assert np.array_equal(table[:128], -table[128:])
    assert np.all(np.diff(table[128:]) < 0)  # 0x80 is the loudest positive, 0xFF is zero


def test_encode_reference_points() -> None:
    samples = np.array([0, 3, -5, 32767, -32768, 32124, -32124], dtype=np.int16)
    assert codec.encode_ulaw(samples) == bytes([0xFF, 0xFF, 0x7E, 0x80, 0x00, 0x80, 0x00])


def test_every_code_but_negative_zero_survives_decode_then_encode() -> None:
    codes = bytes(c for c in range(256) if c != 0x7F)  # 0x7F is -0, encoded back as +0 (0xFF)
    assert codec.encode_ulaw(codec.decode_ulaw(codes)) == codes


def test_round_trip_error_is_within_one_quantisation_step() -> None:
    samples = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    decoded = codec.decode_ulaw(codec.encode_ulaw(samples)).astype(np.int32)
    wide = samples.astype(np.int32)
    error = np.abs(decoded - wide)
    assert error[np.abs(wide) < 120].max() <= 8  # the finest segment: steps of 8 (14-bit shift)
    mid = (np.abs(wide) >= 256) & (np.abs(wide) <= 32124)
    # Log companding with a truncating encoder (as the reference): within one step, ≤ 1/16.
    assert (error[mid] / np.abs(wide[mid])).max() < 1 / 16
    assert error.max() <= 32768 - 32124  # only clipping beyond the largest code costs more


def _tone(freq: float, rate: int, seconds: float) -> codec.PCM:
    t = np.arange(int(rate * seconds)) / rate
    return (10000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _peak_hz(samples: codec.PCM, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000)])
def test_resample_keeps_a_1khz_tone_and_the_length_ratio(src: int, dst: int) -> None:
    tone = _tone(1000, src, 1.0)
    out = codec.resample(tone, src, dst)
    assert len(out) == len(tone) * dst // src
    assert abs(_peak_hz(out, dst) - 1000) <= 2
    # Amplitude is kept (pass band is flat) away from the edges.
    core = out[len(out) // 10 : -len(out) // 10].astype(np.float64)
    assert np.sqrt(np.mean(core**2)) == pytest.approx(10000 / np.sqrt(2), rel=0.02)


def test_upsampling_leaves_no_image_of_the_tone() -> None:
    out = codec.resample(_tone(1000, 8000, 1.0), 8000, 16000)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    freqs = np.fft.rfftfreq(len(out), 1 / 16000)
    image = spectrum[np.abs(freqs - 7000) < 50].max()  # the zero-stuffing image of 1 kHz
    assert 20 * np.log10(image / spectrum.max()) < -60


def test_downsampling_removes_what_8khz_cannot_carry() -> None:
    out = codec.resample(_tone(6000, 16000, 1.0), 16000, 8000)  # would alias to 2 kHz
    core = out[100:-100].astype(np.float64)  # the zero padding at the ends is a step, not a tone
    assert np.sqrt(np.mean(core**2)) < 10000 / np.sqrt(2) * 0.001


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000)])
def test_streaming_in_20ms_chunks_matches_the_whole_buffer(src: int, dst: int) -> None:
    tone = _tone(1000, src, 0.5)
    resampler = codec.Resampler(src, dst)
    chunk = src // 50
    streamed = np.concatenate(
        [resampler.process(tone[i : i + chunk]) for i in range(0, len(tone), chunk)]
    )
    whole = codec.resample(tone, src, dst)
    assert len(streamed) == len(whole)
    delay = 31 if dst > src else 15  # the filter's group delay, in output samples
    difference = streamed[delay + 50 : -50].astype(np.int32) - whole[50 : -50 - delay]
    assert np.abs(difference).max() <= 40  # chunk seams add nothing beyond the half-sample shift


def test_odd_chunks_when_downsampling_keep_every_other_sample() -> None:
    resampler = codec.Resampler(16000, 8000)
    sizes = [3, 5, 7, 1, 320, 161]
    out = [resampler.process(np.zeros(n, dtype=np.int16)) for n in sizes]
    assert sum(len(o) for o in out) == sum(sizes) // 2


def test_same_rate_is_a_pass_through_and_other_pairs_are_refused() -> None:
    tone = _tone(1000, 8000, 0.02)
    assert np.array_equal(codec.Resampler(8000, 8000).process(tone), tone)
    with pytest.raises(ValueError, match="44100"):
        codec.Resampler(44100, 16000)


def test_decoding_to_bytes_gives_the_same_little_endian_samples_as_the_table() -> None:
    codes = bytes(range(256)) + bytes(np.random.default_rng(7).integers(0, 256, 997, np.uint8))
    assert codec.decode_ulaw_bytes(codes) == codec.decode_ulaw(codes).astype("<i2").tobytes()
    assert codec.decode_ulaw_bytes(b"") == b""


@pytest.mark.parametrize(("src", "dst"), [(8000, 16000), (16000, 8000)])
def test_an_empty_chunk_gives_nothing_and_leaves_the_stream_as_it_was(src: int, dst: int) -> None:
    tone = _tone(1000, src, 0.1)
    with_empty, without = codec.Resampler(src, dst), codec.Resampler(src, dst)
    first = with_empty.process(tone[:80])
    assert len(with_empty.process(tone[:0])) == 0
    streamed = np.concatenate([first, with_empty.process(tone[80:])])
    assert np.array_equal(
        streamed, np.concatenate([without.process(tone[:80]), without.process(tone[80:])])
    )
