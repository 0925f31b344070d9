"""Words in, audio out: espeak-ng speech as 8 kHz μ-law, the format Twilio Media Streams play.

Use it like this::

    synthesizer = Pyttsx3Synthesizer()
    audio = synthesizer.synthesize("Hello, how can I help?", "en")  # raw μ-law, 8000 bytes/s

:class:`Pyttsx3Synthesizer` drives libespeak-ng in-process through pyttsx3 and falls back to the
``espeak-ng`` command line (:class:`EspeakNgSynthesizer`) if pyttsx3 ever wedges. Every failure
raises :class:`SynthesisFailed`; the caller turns that into its own fallback (an apology and a
transfer). No call waits longer than the synthesizer's timeout.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from voice.codec import encode_ulaw

log = logging.getLogger(__name__)

#: Telephone audio: Twilio Media Streams carry 8 kHz mono μ-law, one byte per sample.
SAMPLE_RATE = 8000

#: espeak-ng voice per flow language. A flow language missing here is tried as a voice name.
DEFAULT_VOICES: Mapping[str, str] = {"en": "en", "cs": "cs", "pl": "pl", "lv": "lv"}

#: Words per minute. espeak's default (175) is already brisk for a phone line's narrow band.
DEFAULT_RATE = 165


class SynthesisFailed(Exception):
    """Speech could not be made; ``text`` and ``language`` say what was asked for."""

    def __init__(self, message: str, *, text: str = "", language: str = "") -> None:
        super().__init__(message)
        self.text = text
        self.language = language


class Synthesizer(Protocol):
    """Turns text into 8 kHz μ-law audio. ``PromptCache`` keys its audio on the two attributes."""

    @property
    def engine_version(self) -> str:
        """Names the engine and every setting that changes the audio (part of the cache key)."""
        ...

    def voice_for(self, language: str) -> str:
        """The voice used for ``language``; raises :class:`SynthesisFailed` if there is none."""
        ...

    def synthesize(self, text: str, language: str) -> bytes:
        """Raw μ-law bytes at 8 kHz mono, no header; raises :class:`SynthesisFailed`."""
        ...


# --- espeak-ng as a command -------------------------------------------------------------------


@functools.cache
def _espeak_ng() -> tuple[str, str, frozenset[str]]:
    """Path, version and voice names of the ``espeak-ng`` command (asked once per process)."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise SynthesisFailed("espeak-ng is not installed (apt-get install espeak-ng)")
    try:
        version_out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        voices_out = subprocess.run(
            [path, "--voices"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisFailed(f"espeak-ng does not run: {exc}") from exc
    # "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "1.51"
    version = version_out.split(":", 1)[-1].split()[0] if ":" in version_out else "unknown"
    names: set[str] = set()
    for line in voices_out.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            # A voice answers to its language ("cs"), its file ("gmw/en") and the file's last
            # part ("en"): SetVoiceByName accepts each of them.
            names.update({columns[1], columns[4], columns[4].rsplit("/", 1)[-1]})
    return path, version, frozenset(name.lower() for name in names)


class EspeakNgSynthesizer:
    """Runs ``espeak-ng -w`` once per text: a process per call, so a hang can always be killed.

    Args:
        voices: espeak-ng voice per language (defaults to :data:`DEFAULT_VOICES`).
        rate: speaking rate in words per minute.
        timeout: seconds one synthesis may take before :class:`SynthesisFailed`.
    """

    def __init__(
        self,
        voices: Mapping[str, str] | None = None,
        rate: int = DEFAULT_RATE,
        timeout: float = 10.0,
    ) -> None:
        self._path, version, self._known = _espeak_ng()
        self._voices = dict(DEFAULT_VOICES if voices is None else voices)
        self._rate = rate
        self._timeout = timeout
        self._version = f"espeak-ng {version}, rate {rate}"

    @property
    def engine_version(self) -> str:
        """The espeak-ng version and speaking rate."""
        return self._version

    def voice_for(self, language: str) -> str:
        """The espeak-ng voice for ``language`` (must be an installed voice)."""
        voice = self._voices.get(language, language)
        if voice.lower() not in self._known:
            # SetVoiceByName keeps the previous voice on an unknown name, so Czech text would
            # be read in English: refuse instead.
            raise SynthesisFailed(f"no espeak-ng voice {voice!r}", language=language)
        return voice

    def synthesize(self, text: str, language: str) -> bytes:
        """Speak ``text`` in ``language`` as 8 kHz μ-law."""
        voice = self.voice_for(language)
        _require_words(text, language)
        return _synthesize_to_wav(lambda path: self.write_wav(text, voice, path), text, language)

    def write_wav(self, text: str, voice: str, path: str, timeout: float | None = None) -> None:
        """Write espeak-ng's own WAV (22050 Hz mono) of ``text`` to ``path``."""
        try:
            subprocess.run(
                # "--" so a text starting with "-" is spoken, not parsed as an option.
                [self._path, "-v", voice, "-s", str(self._rate), "-w", path, "--", text],
                capture_output=True,
                timeout=self._timeout if timeout is None else timeout,
                check=True,
            )
        except subprocess.TimeoutExpired as exc:  # run() has already killed the child
            raise SynthesisFailed("espeak-ng timed out", text=text) from exc
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SynthesisFailed(f"espeak-ng failed: {exc}", text=text) from exc


# --- espeak-ng through pyttsx3 ----------------------------------------------------------------


class _Engine:
    """The process's one pyttsx3 espeak engine.

    pyttsx3 keeps one engine per driver name and libespeak-ng one synthesis callback per process,
    so every :class:`Pyttsx3Synthesizer` shares this state and this lock.
    """

    lock = threading.Lock()
    engine: Any = None  # pyttsx3.Engine; pyttsx3 ships no type hints
    wedged = False  # set for good once runAndWait overruns: nobody touches the engine again


class Pyttsx3Synthesizer:
    """espeak-ng speech through pyttsx3 (in-process, about 10 ms for a sentence).

    Synthesis is serialised behind one process-wide lock because pyttsx3 engines are not
    thread-safe. ``runAndWait`` runs in a short-lived daemon thread that the caller waits for
    at most ``timeout`` seconds: a call that overruns marks the engine wedged (a stuck ctypes call
    cannot be interrupted) and this and every later synthesis go to ``espeak-ng`` on the command
    line, which is killable. Audio is the same library's either way.

    Args:
        voices: espeak-ng voice per language (defaults to :data:`DEFAULT_VOICES`).
        rate: speaking rate in words per minute.
        timeout: seconds one synthesis may take, waiting for the lock included.
    """

    def __init__(
        self,
        voices: Mapping[str, str] | None = None,
        rate: int = DEFAULT_RATE,
        timeout: float = 5.0,
    ) -> None:
        self._fallback = EspeakNgSynthesizer(voices, rate, timeout)
        self._rate = rate
        self._timeout = timeout
        try:
            self._version = (
                f"pyttsx3 {metadata.version('pyttsx3')}, {self._fallback.engine_version}"
            )
        except metadata.PackageNotFoundError:
            raise SynthesisFailed("pyttsx3 is not installed (pip install pyttsx3)") from None
        with _Engine.lock:
            if _Engine.engine is None:
                _Engine.engine = _start_engine()

    @property
    def engine_version(self) -> str:
        """pyttsx3 and espeak-ng versions and the speaking rate."""
        return self._version

    def voice_for(self, language: str) -> str:
        """The espeak-ng voice for ``language`` (must be an installed voice)."""
        return self._fallback.voice_for(language)

    def synthesize(self, text: str, language: str) -> bytes:
        """Speak ``text`` in ``language`` as 8 kHz μ-law."""
        voice = self.voice_for(language)
        _require_words(text, language)
        try:
            return _synthesize_to_wav(
                lambda path: self._write_wav(text, voice, path), text, language
            )
        except SynthesisFailed as failure:
            if not str(failure.args[0]).startswith((NO_AUDIO, UNREADABLE)):
                raise
        # pyttsx3's espeak driver sometimes returns from runAndWait having written an empty
        # WAV (about one call in four here), or a file with no header at all (a caller was
        # put through to a person for it); the same library on the command line does not.
        log.warning("pyttsx3 produced no audio; retrying with espeak-ng", extra={"voice": voice})
        return _synthesize_to_wav(
            lambda path: self._fallback.write_wav(text, voice, path, self._timeout),
            text,
            language,
        )

    def _write_wav(self, text: str, voice: str, path: str) -> None:
        deadline = time.monotonic() + self._timeout
        if not _Engine.lock.acquire(timeout=self._timeout):
            raise SynthesisFailed("speech engine busy for too long", text=text)
        try:
            if not _Engine.wedged:
                if self._run_engine(text, voice, path, deadline - time.monotonic()):
                    return
                _Engine.wedged = True
                log.error("pyttsx3 overran %.1f s; using espeak-ng from now on", self._timeout)
        finally:
            _Engine.lock.release()
        self._fallback.write_wav(text, voice, path, max(0.5, deadline - time.monotonic()))

    def _run_engine(self, text: str, voice: str, path: str, timeout: float) -> bool:
        """Run pyttsx3 in a daemon thread; False if it did not finish within ``timeout``."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                engine = _Engine.engine
                engine.setProperty("voice", voice)
                engine.setProperty("rate", self._rate)
                engine.save_to_file(text, path)
                engine.runAndWait()
            except Exception as exc:  # handed to the caller's thread below
                errors.append(exc)

        worker = threading.Thread(target=run, name="pyttsx3", daemon=True)
        worker.start()
        worker.join(max(0.0, timeout))
        if worker.is_alive():
            return False
        if errors:
            raise SynthesisFailed(f"pyttsx3 failed: {errors[0]}", text=text) from errors[0]
        return True


def _start_engine() -> Any:
    """pyttsx3's espeak engine (the import is lazy: it loads libespeak-ng)."""
    try:
        import pyttsx3  # type: ignore[import-untyped]  # no stubs or py.typed upstream
    except ImportError as exc:
        raise SynthesisFailed("pyttsx3 is not installed (pip install pyttsx3)") from exc
    try:
        return pyttsx3.init("espeak")
    except Exception as exc:  # pyttsx3 raises RuntimeError, OSError or ImportError here
        raise SynthesisFailed(f"pyttsx3 cannot start espeak: {exc}") from exc


# --- WAV to telephone audio -------------------------------------------------------------------


NO_AUDIO = "the engine produced no audio"
UNREADABLE = "unreadable WAV from the engine"


def _require_words(text: str, language: str) -> None:
    if not text.strip():
        # pyttsx3 asserts on an empty text; say what went wrong instead.
        raise SynthesisFailed("nothing to say", text=text, language=language)


def _synthesize_to_wav(write: Callable[[str], None], text: str, language: str) -> bytes:
    """Call ``write(path)`` with a fresh temporary WAV path and convert the result."""
    fd, path = tempfile.mkstemp(prefix="tts-", suffix=".wav")
    os.close(fd)
    try:
        write(path)
        samples, rate = _read_wav(path)
    except SynthesisFailed as exc:
        exc.text, exc.language = text, language
        raise
    finally:
        Path(path).unlink(missing_ok=True)
    if samples.size == 0:
        raise SynthesisFailed(NO_AUDIO, text=text, language=language)
    return encode_ulaw(_to_pcm16(_resample(samples, rate, SAMPLE_RATE)))


def _read_wav(path: str) -> tuple[NDArray[np.float64], int]:
    """Samples (mono, in -1..1) and rate of a 16-bit WAV file."""
    try:
        with wave.open(path, "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise SynthesisFailed(f"{UNREADABLE}: {exc}") from exc
    if width != 2:
        raise SynthesisFailed(f"expected 16-bit WAV, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


# espeak-ng writes 22050 Hz; voice.codec's streaming resampler only does 8 <-> 16 kHz (the
# call path), so synthesis keeps its own arbitrary-ratio resampler for this one-off step.


def _resample(samples: NDArray[np.float64], from_rate: int, to_rate: int) -> NDArray[np.float64]:
    """Band-limited resampling by windowed-sinc interpolation (Hann window, rational ratio).

    The low-pass sits at 90 % of the lower Nyquist rate (3.6 kHz for 8 kHz output), so speech
    keeps the telephone band and nothing above 4 kHz folds back as hiss. Polyphase: the output
    positions repeat their fractional offsets every ``to_rate / gcd`` samples, so each phase is
    one strided matrix-vector product (3 s of 22050 Hz audio takes a few milliseconds).
    """
    if from_rate == to_rate or samples.size == 0:
        return samples
    up, down = to_rate // math.gcd(from_rate, to_rate), from_rate // math.gcd(from_rate, to_rate)
    filters, first = _phase_filters(up, down)
    half = filters.shape[1] // 2
    padded = np.concatenate([np.zeros(half), samples, np.zeros(half)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, filters.shape[1])
    count = samples.size * up // down
    out = np.empty(count)
    for phase in range(min(up, count)):
        outputs = len(range(phase, count, up))
        out[phase::up] = windows[first[phase] :: down][:outputs] @ filters[phase]
    return out


@functools.cache
def _phase_filters(up: int, down: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per output phase: the filter taps and the first window (into the padded input)."""
    cutoff = 0.45 * min(1.0, up / down)  # cycles per input sample
    half = int(np.ceil(8 / (2 * cutoff)))  # eight zero crossings either side
    positions = np.arange(up) * down / up
    base = np.floor(positions).astype(np.int64)
    distance = (positions - base)[:, None] - np.arange(-half + 1, half + 1)[None, :]
    filters = np.sinc(2 * cutoff * distance) * (0.5 + 0.5 * np.cos(np.pi * distance / half))
    filters /= filters.sum(axis=1, keepdims=True)  # unity gain at DC
    filters.setflags(write=False)  # cached and shared
    return filters, base + 1


def _to_pcm16(samples: NDArray[np.float64]) -> NDArray[np.int16]:
    """16-bit samples from floats in -1..1 (values outside are clipped, not wrapped)."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
