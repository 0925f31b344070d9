"""A call's recogniser, one turn at a time: borrowed from its pool, given back when the turn ends.

Why: every Vosk recogniser expands the decoding graph into a cache of its own, so each one
decodes from memory of its own. The more recognisers a process takes turns with, the less of
that memory stays in the processor's caches, and the more CPU the same audio costs: a second
of the caller's question costs 41-44 ms of CPU on one warm recogniser, 58-67 ms spread over
eight and 64-79 ms over sixteen (``bench/recogniser_share.py``). A call needs a recogniser
only while its caller speaks, so with one borrowed per turn a line decodes with as many
recognisers as turns overlap, not as many as calls; the pool hands out the one given back
last, which is in most use and so usually the warmest.

A turn's words do not depend on which recogniser hears it: each turn starts after a final
result (a dropped turn is finished too, see :meth:`voice.asr.VoskRecognizer.reset`), as turns
always started between one call and the next. It takes the model's rate; the line puts a
:class:`voice.resampling.ResamplingRecognizer` in front of it for the phone's.
"""

from __future__ import annotations

from voice.asr import Partial, Recognizer, Transcript
from voice.hearing import RecognizerPool


class TurnRecognizer:
    """A :class:`~voice.asr.Recognizer` that holds one of ``pool``'s only during a turn.

    The first audio of a turn borrows a recogniser; :meth:`final` and :meth:`reset` give it
    back (a call that ends drops its turn with :meth:`reset`). Like any recogniser, one thread
    uses it.

    Args:
        pool: Where the recognisers come from (their rate is this one's).
    """

    def __init__(self, pool: RecognizerPool) -> None:
        self._pool = pool
        self.sample_rate = pool.sample_rate
        self._borrowed: Recognizer | None = None

    @property
    def borrowed(self) -> Recognizer | None:
        """The recogniser hearing the turn in progress, if one is."""
        return self._borrowed

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        """Feed the turn's audio, borrowing a recogniser when the turn starts."""
        if self._borrowed is None:
            self._borrowed = self._pool.acquire()
        return self._borrowed.accept(pcm16, partial)

    def flush(self) -> str:
        """The turn's words so far (none before its first audio); the turn goes on."""
        return self._borrowed.flush() if self._borrowed is not None else ""

    def final(self) -> Transcript:
        """The turn's transcript; the recogniser goes back to the pool.

        One whose final result failed is not given back (the next turn would get it first):
        it is discarded, and the pool makes a new one when needed.
        """
        borrowed, self._borrowed = self._borrowed, None
        if borrowed is None:
            return Transcript("", 0.0)
        try:
            transcript = borrowed.final()
        except BaseException:
            self._pool.discard(borrowed)
            raise
        self._pool.release(borrowed)
        return transcript

    def reset(self) -> None:
        """Drop the turn; the recogniser goes back to the pool (which resets it)."""
        borrowed, self._borrowed = self._borrowed, None
        if borrowed is not None:
            self._pool.release(borrowed)
