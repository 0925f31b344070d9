"""A call's recogniser for the language it is in, changed when the caller's language changes.

Each language has its own model; a call takes a recogniser from its language's pool and, when
the caller switches language, gives it back and takes one of the new language (or none: a
language without a model is not heard at all, never heard by another language's model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voice.asr import Recognizer
from voice.hearing import Hearing, RecognizerPool
from voice.listener import Listener
from voice.recognizer_thread import RecognizerThread

log = logging.getLogger(__name__)


class CallEars:
    """The recogniser thread and listener of one call, for one language at a time."""

    def __init__(
        self,
        hearing: Hearing,
        listener: Callable[[RecognizerThread], Listener],
        name: str,
        on_partial: Callable[[str], None] | None = None,
        partials_wanted: Callable[[], bool] = lambda: True,
    ) -> None:
        self._hearing = hearing
        self._new_listener = listener
        self._name = name
        self._on_partial = on_partial
        self._partials_wanted = partials_wanted
        self.language: str | None = None
        self.listener: Listener | None = None
        self._held: tuple[RecognizerPool, Recognizer, RecognizerThread] | None = None

    def use(self, language: str) -> Listener | None:
        """Hear ``language`` from now on; ``None`` when it has no speech model."""
        if language == self.language:
            return self.listener
        self.close()
        self.language = language
        pool = self._hearing.pool(language)
        if pool is None:
            self.listener = None
            return None
        recognizer = pool.acquire()
        thread = RecognizerThread(
            recognizer,
            name=self._name,
            on_partial=self._on_partial,
            partials_wanted=self._partials_wanted,
        )
        self._held = (pool, recognizer, thread)
        self.listener = self._new_listener(thread)
        return self.listener

    @property
    def thread(self) -> RecognizerThread | None:
        """The recogniser thread in use, if any."""
        return self._held[2] if self._held else None

    def close(self) -> None:
        """Stop the recogniser thread and give the recogniser back to its pool."""
        held, self._held, self.listener = self._held, None, None
        if held is None:
            return
        pool, recognizer, thread = held
        thread.close()
        pool.release(recognizer)
