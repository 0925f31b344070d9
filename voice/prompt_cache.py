"""Prompt audio, synthesised once: in memory and on disk, keyed by what makes the sound.

Use it like this::

    cache = PromptCache(Pyttsx3Synthesizer(), Path("var/tts"))
    cache.warm(flow)  # when the flows load: every static prompt, every language
    for frame in frames(cache.get(say)):  # during a call
        send(frame)

The key is the sha256 of the text, the language, the voice and the engine version, so editing a
prompt, changing a voice or upgrading espeak-ng all miss the cache instead of playing stale audio.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import string
import tempfile
import threading
import time
from pathlib import Path

from bot.engine.actions import Say
from bot.flow.model import Flow
from voice.tts import SAMPLE_RATE, SynthesisFailed, Synthesizer

log = logging.getLogger(__name__)

#: μ-law silence (the code for a zero sample), used to pad the last frame.
ULAW_SILENCE = b"\xff"


class PromptCache:
    """Synthesised audio by content hash: a dict in front of one ``<key>.ulaw`` file per audio.

    Thread-safe: calls share one cache. Two calls missing the same key at once may both
    synthesise it; the result is identical, so that is cheaper than holding a lock across
    synthesis.

    Args:
        synthesizer: makes the audio (its ``voice_for`` and ``engine_version`` go in the key).
        directory: where audio files live; created if missing, safe to share between processes.
    """

    def __init__(self, synthesizer: Synthesizer, directory: Path | str) -> None:
        self.synthesizer = synthesizer
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def key(self, text: str, language: str) -> str:
        """The cache key of ``text`` spoken in ``language`` by this synthesizer."""
        parts = [
            text,
            language,
            self.synthesizer.voice_for(language),
            self.synthesizer.engine_version,
        ]
        # JSON, not a plain join, so no choice of text can collide with another field split.
        return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()

    def get(self, say: Say) -> bytes:
        """Audio for ``say``: from memory, else disk, else synthesised (and stored if cacheable).

        Raises:
            SynthesisFailed: the audio was not cached and could not be made.
        """
        if not say.cacheable:
            # Slots were filled in (an account number, a time): never store caller data.
            return self.synthesizer.synthesize(say.text, say.language)
        key = self.key(say.text, say.language)
        audio = self._lookup(key)
        if audio is None:
            audio = self.synthesizer.synthesize(say.text, say.language)
            self._store(key, audio)
        return audio

    def __contains__(self, say: Say) -> bool:
        """Whether ``say`` is already in memory or on disk (synthesises nothing)."""
        key = self.key(say.text, say.language)
        return key in self._memory or self._path(key).is_file()

    def warm(self, flow: Flow) -> int:
        """Make sure every static prompt of ``flow`` has audio in every flow language.

        Prompts with ``{placeholders}`` are skipped: they are only known once slots are
        filled. A prompt that fails to synthesise is logged and skipped; ``get`` retries it.

        Returns:
            The number of prompt audios now cached (found on disk or synthesised).
        """
        todo = static_prompts(flow)
        log.info("warming %d prompt audios of flow %r", len(todo), flow.name)
        started = time.perf_counter()
        ready = made = 0
        for number, say in enumerate(todo, 1):
            key = self.key(say.text, say.language)
            if self._lookup(key) is None:
                try:
                    self._store(key, self.synthesizer.synthesize(say.text, say.language))
                except SynthesisFailed as exc:
                    log.warning(
                        "cannot synthesise prompt %s [%s]: %s", say.prompt_id, say.language, exc
                    )
                    continue
                made += 1
            ready += 1
            log.debug("warmed %d/%d: %s [%s]", number, len(todo), say.prompt_id, say.language)
        log.info(
            "warmed %d/%d prompt audios of flow %r (%d synthesised) in %.2f s",
            ready,
            len(todo),
            flow.name,
            made,
            time.perf_counter() - started,
        )
        return ready

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.ulaw"

    def _lookup(self, key: str) -> bytes | None:
        audio = self._memory.get(key)
        if audio is not None:
            return audio
        try:
            audio = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        if not audio:
            return None  # cannot happen with atomic writes; treat a stray empty file as a miss
        with self._lock:
            self._memory[key] = audio
        return audio

    def _store(self, key: str, audio: bytes) -> None:
        with self._lock:
            self._memory[key] = audio
        # Write a temporary file beside the target and rename: a reader (another process, or a
        # crash half-way) never sees a partial file.
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(audio)
            os.replace(temporary, self._path(key))
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            # The audio is still in memory; a read-only or full disk must not fail the call.
            log.exception("cannot write prompt audio %s", self._path(key))


def static_prompts(flow: Flow) -> list[Say]:
    """Every prompt of ``flow`` in every flow language whose text is fixed (no ``{slot}``)."""
    return [
        Say(text, language, prompt.id)
        for prompt in flow.all_prompts()
        for language in flow.languages
        if (text := prompt.text.get(language)) and not has_placeholders(text)
    ]


def has_placeholders(template: str) -> bool:
    """Whether ``template`` has ``{slot}`` fields (``{{`` and ``}}`` are literal braces)."""
    try:
        return any(field is not None for _, field, _, _ in string.Formatter().parse(template))
    except ValueError:  # unbalanced braces: not a template we can fill, but not static either
        return True


def frames(audio: bytes, ms: int = 20) -> list[bytes]:
    """Split μ-law ``audio`` into ``ms``-millisecond frames (160 bytes for 20 ms at 8 kHz).

    The last frame is padded with μ-law silence so every frame has the same length, which
    keeps playback timing and marks exact.
    """
    size = SAMPLE_RATE * ms // 1000
    chunks = [audio[start : start + size] for start in range(0, len(audio), size)]
    if chunks and len(chunks[-1]) < size:
        chunks[-1] += ULAW_SILENCE * (size - len(chunks[-1]))
    return chunks
