"""A recogniser on its own thread, so recognition never holds up turn detection.

Vosk decodes in chunks: most 20 ms feeds return at once, every few hundred milliseconds one
takes 100-250 ms while the network runs. Fed on the call's pipeline thread, those bursts would
delay barge-in detection and make the call's audio fall behind real time. Here ``accept``
only queues the audio; ``flush``, ``final`` and ``reset`` wait for the queue to drain, so
their answers cover every frame fed before them. ``flush_later`` and ``final_later`` answer
the same way without waiting: a call's thread that must keep up with real time asks for the
turn's words and goes on reading frames while the recogniser catches up.

With ``hold_ms``, while the line is busy (``hold_wanted``) and no one is shown the words so
far, a turn's audio is held back and decoded in one burst when the caller pauses
(``hand_over``, or when its words are asked for, whichever comes first): the turn then borrows
its recogniser (``voice.turn_recognizer``) for the pause, not the whole turn, so fewer
recognisers take turns at the busiest hour and the same audio costs less
(``docs/benchmarks.md``). A noise dropped before its words were asked for is never decoded.
On a quiet line the audio goes as it comes: words new to a recogniser then cost their
decoding while the caller speaks, not in the pause before the reply.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from voice.asr import Partial, Recognizer, Transcript

log = logging.getLogger(__name__)


class RecognizerThread:
    """Runs ``inner`` on a thread of its own; the same interface as any :class:`Recognizer`.

    A failure while decoding queued audio is raised by the next call that waits for an answer
    (``flush``, ``final``, ``reset``); only the recogniser's thread touches it. One thread feeds
    it (the call's), as with any recogniser. ``on_partial``, if given, is told the turn's words
    so far whenever they change (on the recogniser's thread), while ``partials_wanted()`` says
    someone is shown them: working them out costs about a tenth of the decoding.

    Audio goes to the thread every ``batch_ms``; while ``hold_wanted()`` and no one is shown
    the words so far it is held back up to ``hold_ms`` (0: never), until an answer is asked for.
    """

    def __init__(
        self,
        inner: Recognizer,
        name: str = "recognizer",
        on_partial: Callable[[str], None] | None = None,
        batch_ms: int = 60,
        partials_wanted: Callable[[], bool] = lambda: True,
        hold_ms: int = 0,
        hold_wanted: Callable[[], bool] = lambda: True,
    ) -> None:
        self.inner = inner
        self._hold_wanted = hold_wanted
        self._partials_wanted = partials_wanted
        self._held = bytearray()  # audio not yet handed to the thread (one feeder)
        self._batch_bytes = inner.sample_rate * 2 * batch_ms // 1000
        self._hold_bytes = inner.sample_rate * 2 * hold_ms // 1000
        self._on_partial = on_partial
        self.sample_rate = inner.sample_rate
        self._jobs: queue.Queue[tuple[str, bytes, Future[Any] | None] | None] = queue.Queue()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        """Queue audio for decoding; partial words are not reported here (``None``).

        They go to ``on_partial`` while ``partials_wanted()`` says so (``partial`` is unused).

        Audio is handed over in pieces of ``batch_ms`` (any operation that answers sends what
        is held first): waking the recogniser's thread for every 20 ms frame costs more CPU
        than the decoding of the frame itself on a busy machine. While ``hold_wanted()`` and
        no one is shown the words so far, pieces of up to ``hold_ms``.
        """
        self._held += pcm16
        if len(self._held) >= self._handover_bytes():
            self._send_held()
        return None

    def _handover_bytes(self) -> int:
        if self._hold_bytes and self._hold_wanted() and self._partials_shown_to() is None:
            return self._hold_bytes
        return self._batch_bytes

    def _partials_shown_to(self) -> Callable[[str], None] | None:
        """Whom to tell the words so far, if someone is shown them now."""
        if self._on_partial is not None and self._partials_wanted():
            return self._on_partial
        return None

    def hand_over(self) -> None:
        """Start decoding the audio held back, without waiting (the caller has paused).

        Its words will be asked for soon; decoding from the pause's first moments, not from
        then, leaves the burst that much more time before the answer is due.
        """
        self._send_held()

    def flush(self) -> str:
        """Settle the words so far, once all queued audio is decoded."""
        text: str = self._ask("flush")
        return text

    def flush_later(self) -> Future[str]:
        """:meth:`flush` without waiting: the words arrive when the queue is decoded."""
        return self._later("flush")

    def final(self) -> Transcript:
        """The turn's transcript, once all queued audio is decoded."""
        transcript: Transcript = self._ask("final")
        return transcript

    def final_later(self) -> Future[Transcript]:
        """:meth:`final` without waiting: the caller's thread goes on with the next frames."""
        return self._later("final")

    def reset(self) -> None:
        """Drop the turn after the queued audio, which is then thrown away.

        Audio still held back is never decoded.
        """
        self._held.clear()
        self._ask("reset")

    def reset_later(self) -> None:
        """:meth:`reset` without waiting (a failure surfaces at the next answer waited for)."""
        self._held.clear()
        self._jobs.put(("reset", b"", None))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread once the queue is done; a turn still in progress is then dropped.

        The drop runs on the recogniser's own thread after its last use, so a recogniser
        borrowed for the turn (``voice.turn_recognizer``) goes back to its pool exactly once,
        whatever is still queued when the call ends. Audio still held back is not decoded.
        """
        self._held.clear()
        self._jobs.put(None)
        self._thread.join(timeout)

    def _send_held(self) -> None:
        if self._held:
            self._jobs.put(("accept", bytes(self._held), None))
            self._held.clear()

    def _ask(self, operation: str) -> Any:
        return self._later(operation).result()

    def _later(self, operation: str) -> Future[Any]:
        """Queue ``operation`` behind the audio; its answer arrives on the returned future."""
        answer: Future[Any] = Future()
        self._send_held()
        self._jobs.put((operation, b"", answer))
        return answer

    def _run(self) -> None:
        self._serve()
        try:
            self.inner.reset()
        except Exception:  # the call is over: nothing is waiting for an answer
            log.exception("the recogniser failed to drop the last turn")

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            operation, pcm, answer = job
            if answer is not None and self._failure is not None:
                failure, self._failure = self._failure, None
                answer.set_exception(failure)
                continue
            try:
                result = None
                if operation == "accept":
                    self._accept(pcm)
                else:
                    result = getattr(self.inner, operation)()
            except BaseException as failure:
                if answer is None:
                    self._failure = failure
                else:
                    answer.set_exception(failure)
                continue
            if answer is not None:
                answer.set_result(result)

    def _accept(self, pcm: bytes) -> None:
        """Decode ``pcm``; tell ``on_partial`` the words so far if someone is shown them."""
        show = self._partials_shown_to()
        if show is None:
            self.inner.accept(pcm, partial=False)
            return
        words = self.inner.accept(pcm)
        if words is not None:
            show(words.text)
