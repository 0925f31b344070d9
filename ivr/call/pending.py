"""Turns whose words are still being decoded on the recogniser's thread.

The call's thread never waits for a turn's words (:class:`voice.listener.HeardLater`): they
come back later as a job on the call's queue. Meanwhile the call may move on without them (a
key, a typed line, a silence timeout answered at once); words that come back after that no
longer answer anything and are dropped, so the caller never gets a reply to a question the
call has left. While words are pending the silence clock does not run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from voice.listener import Heard

log = logging.getLogger(__name__)

#: Queues named work on the call's thread, behind what it already received.
Later = Callable[[str, Callable[[], None]], None]


class PendingWords:
    """One call's turns still decoding. Not thread-safe: the call's thread uses it."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.later: Later | None = None  # the call's queue (its worker sets it); None: no defer
        self.count = 0
        self._moves = 0

    def moved_on(self) -> None:
        """The call moved on without words: what is still decoding will not be answered."""
        self._moves += 1

    def defer(self, words: Future[Heard], answer: Callable[[], None]) -> bool:
        """Queue ``answer`` on the call's thread once ``words`` are decoded, if still wanted.

        False when the words are already there or there is no queue: answer them now.
        """
        later = self.later
        if later is None or words.done():
            return False
        moves = self._moves
        self.count += 1

        def run() -> None:
            self.count -= 1
            if self._moves != moves:
                log.info("words dropped: the call moved on", extra={"call_id": self.call_id})
                return
            answer()

        words.add_done_callback(lambda _: later("heard", run))
        return True
