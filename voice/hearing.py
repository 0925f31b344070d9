"""The speech models of a line's languages: one recogniser pool per language that has a model.

    hearing = Hearing.from_models({"en": en_path, "cs": cs_path, "lv": None})
    hearing.can_hear("cs")          # True
    hearing.pool("lv")              # None: no Latvian model exists; keypad and a person
    hearing.heard, hearing.deaf     # ("cs", "en"), ("lv",)

Each model is loaded once per process (:func:`voice.asr.load_model`) and shared by its
language's recognisers; a pool keeps warmed recognisers between turns (a call borrows one
for each turn: ``voice.turn_recognizer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from voice.asr import PoolUsage, Recognizer, VoskRecognizerPool


class RecognizerPool(Protocol):
    """Hands out recognisers of one model (see :class:`voice.asr.VoskRecognizerPool`)."""

    model_path: Path
    sample_rate: int  # what its recognisers take

    def acquire(self) -> Recognizer:
        """A recogniser for one turn (``voice.turn_recognizer``) or one warm-up."""
        ...

    def release(self, recognizer: Recognizer) -> None:
        """Take a recogniser back; whatever it was hearing is dropped."""
        ...

    def discard(self, recognizer: Recognizer) -> None:
        """A recogniser that failed, borrowed and never to be handed out again."""
        ...

    def usage(self) -> PoolUsage:
        """How its recognisers are used (``/healthz`` shows it)."""
        ...

    def forget_peak(self) -> None:
        """Count the most in use at once afresh from now (after warm-up's own borrowing)."""
        ...


class Hearing:
    """Recogniser pools by flow language; a language missing from ``pools`` cannot be heard."""

    def __init__(self, pools: Mapping[str, RecognizerPool], deaf: tuple[str, ...] = ()) -> None:
        self._pools = dict(pools)
        self.deaf = tuple(sorted(set(deaf) - set(pools)))

    @classmethod
    def from_models(cls, models: Mapping[str, Path | None], max_idle: int = 8) -> Hearing:
        """Pools for the languages with a model directory; the others are deaf."""
        pools: dict[str, RecognizerPool] = {
            language: VoskRecognizerPool(path, max_idle=max_idle)
            for language, path in models.items()
            if path is not None
        }
        return cls(pools, tuple(language for language, path in models.items() if path is None))

    @property
    def heard(self) -> tuple[str, ...]:
        """The languages that have a speech model, sorted."""
        return tuple(sorted(self._pools))

    @property
    def models(self) -> dict[str, str]:
        """Each heard language's model directory, for ``/healthz``."""
        return {language: str(pool.model_path) for language, pool in sorted(self._pools.items())}

    def can_hear(self, language: str) -> bool:
        """Whether callers in ``language`` can be heard."""
        return language in self._pools

    def pool(self, language: str) -> RecognizerPool | None:
        """The recogniser pool for ``language``, or ``None`` when it has no model."""
        return self._pools.get(language)

    def usage(self) -> dict[str, PoolUsage]:
        """Each heard language's recogniser use, for ``/healthz``."""
        return {language: pool.usage() for language, pool in sorted(self._pools.items())}

    def pools(self) -> dict[str, RecognizerPool]:
        """Every pool by language (warm-up goes through them)."""
        return dict(self._pools)

    def __bool__(self) -> bool:
        return bool(self._pools)
