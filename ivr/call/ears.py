"""A call's recogniser for the language it is in, changed when the caller's language changes.

Each language has its own model; a call hears each turn with a recogniser borrowed from its
language's pool for that turn (``voice.turn_recognizer``) and, when the caller switches
language, borrows from the new language's pool (or none: a language without a model is not
heard at all, never heard by another language's model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voice.asr import Recognizer
from voice.hearing import Hearing
from voice.listener import PHONE_RATE, Listener
from voice.recognizer_thread import RecognizerThread
from voice.resampling import ResamplingRecognizer
from voice.turn_recognizer import TurnRecognizer

log = logging.getLogger(__name__)


class CallEars:
    """The recogniser thread and listener of one call, for one language at a time."""

    def __init__(
        self,
        hearing: Hearing,
        listener: Callable[[RecognizerThread], Listener],
        thread: Callable[[Recognizer], RecognizerThread],
    ) -> None:
        """``thread`` puts a recogniser on its thread with the call's options (name, hold...)."""
        self._hearing = hearing
        self._new_listener = listener
        self._new_thread = thread
        self.language: str | None = None
        self.listener: Listener | None = None
        self._thread: RecognizerThread | None = None

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
        # The phone's audio is resampled on the recogniser's thread, not the socket hub's.
        thread = self._new_thread(ResamplingRecognizer(TurnRecognizer(pool), PHONE_RATE))
        self._thread = thread
        self.listener = self._new_listener(thread)
        return self.listener

    @property
    def thread(self) -> RecognizerThread | None:
        """The recogniser thread in use, if any."""
        return self._thread

    def close(self) -> None:
        """Stop the recogniser thread; a turn in progress is dropped and its recogniser given back.

        The thread drops it itself once the audio already handed over is decoded, so the
        recogniser goes back after its last use.
        """
        thread, self._thread, self.listener = self._thread, None, None
        if thread is not None:
            thread.close()
