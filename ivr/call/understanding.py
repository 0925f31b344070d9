"""Understanding a caller's words during their pause, so a clear turn can end early.

When the listener reports a pause, the words so far are settled and sent to the NLU on a
shared thread pool (owned by the app, one for all calls) while the caller is silent. Later
frames ask whether that answer is in and confident; the end of the turn takes it if the final
words are the same, so the turn need not wait for the NLU again.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

from bot.dialogue import Dialogue, Understood
from voice.listener import Paused

#: How long the end of a turn waits for words already being understood in a pause.
NLU_WAIT_SECONDS = 2.0


def _understand(dialogue: Dialogue, paused: Paused) -> tuple[str, Understood]:
    text = paused.words.result(timeout=NLU_WAIT_SECONDS)
    return text, dialogue.understand(text) if text else (None, None, 0.0)


class PauseUnderstanding:
    """One call's understanding-in-the-pause stage. Not thread-safe: the call's thread uses it."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool
        self._prepared: Future[tuple[str, Understood]] | None = None

    def pause(self, paused: Paused, dialogue: Dialogue) -> None:
        """The caller paused: start understanding their words; nothing here waits."""
        self._prepared = self._pool.submit(_understand, dialogue, paused)

    def forget(self) -> None:
        """The caller spoke again (or the call moved on): the pause's answer no longer counts."""
        self._prepared = None

    def confident(self, dialogue: Dialogue) -> bool:
        """Whether the pause's words are understood, with the confidence to act on them."""
        prepared = self._prepared
        if prepared is None or not prepared.done() or prepared.exception() is not None:
            return False
        _, understood = prepared.result()
        return dialogue.is_confident(understood[0])

    def detach(self) -> PauseUnderstanding:
        """This pause's answer on its own, for a turn whose words come back later."""
        detached = PauseUnderstanding(self._pool)
        detached._prepared, self._prepared = self._prepared, None
        return detached

    def take(self, text: str) -> Understood | None:
        """The pause's answer if it was about exactly ``text`` (the turn's final words)."""
        prepared, self._prepared = self._prepared, None
        if prepared is None:
            return None
        try:  # usually long done; the words and the NLU are quick once settled
            words, answer = prepared.result(timeout=NLU_WAIT_SECONDS)
        except Exception:  # the turn is understood afresh by the dialogue
            return None
        return answer if words == text else None
