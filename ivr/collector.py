"""Python's garbage collector, kept from holding every call back at once.

A full collection walks every object the process holds while holding the GIL, so for its
whole length no call's audio is taken. In a warm web process most of those objects were
built at start-up (the libraries' modules, the flows, the speech models' wrappers) and live
as long as the process: under 16 calls, a full collection took 45 to 64 ms and made every
call's frames 60 to 93 ms late together (docs/benchmarks.md). Once the process is warm,
:func:`settle` collects what warm-up left behind and freezes the rest (``gc.freeze``: later
collections skip it), so a full collection walks only what calls made since.
:class:`CollectionWatch` logs any collection still long enough to be heard.

Written here, not taken from a library: the standard library's ``gc`` is the whole tool.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

#: A collection this long holds every call's audio back noticeably (a frame is 20 ms).
SLOW_COLLECTION_MS = 20.0


def settle(
    warm: Sequence[threading.Event],
    settled: threading.Event,
    stop: threading.Event,
    freeze: bool = True,
) -> threading.Thread:
    """Once every event in ``warm`` is set, collect and freeze what is left; then ``settled``.

    However long the warm-up takes (a first start may train the NLU model for minutes), the
    freeze waits for it; a stopping process only sets ``settled``. With ``freeze`` off
    (``IVR_GC_FREEZE=off``) nothing is frozen. Nothing is frozen twice in one process: a second
    app in the same process (tests) only sets ``settled``.
    """

    def run() -> None:
        try:
            for event in warm:
                while not event.wait(0.5):
                    if stop.is_set():
                        return
            if freeze:
                freeze_once()
        finally:
            settled.set()

    thread = threading.Thread(target=run, name="gc-settle", daemon=True)
    thread.start()
    return thread


_frozen = threading.Lock()
_froze = False


def freeze_once() -> int:
    """Collect the garbage there is, then freeze every object left; returns how many.

    Only the first call in a process freezes; later ones return 0.
    """
    global _froze
    with _frozen:
        if _froze:
            return 0
        _froze = True
        started = time.perf_counter()
        WATCH.quiet = True  # before ready: no call waits for this one
        try:
            gc.collect()
        finally:
            WATCH.quiet = False
        gc.freeze()
        frozen = gc.get_freeze_count()
    log.info(
        "long-lived objects frozen: collections skip them",
        extra={"objects": frozen, "ms": round((time.perf_counter() - started) * 1000, 1)},
    )
    return frozen


class CollectionWatch:
    """Logs each garbage collection that took ``slow_ms`` or longer (every call waited for it)."""

    def __init__(self, slow_ms: float = SLOW_COLLECTION_MS) -> None:
        self.slow_ms = slow_ms
        self.slow = 0  # how many collections were slow since it was installed
        self.longest_ms = 0.0
        self.quiet = False  # a collection made on purpose while no call runs is not counted
        self._started = 0.0

    def install(self) -> None:
        """Start watching (once: installing again changes nothing), until the process exits."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
            atexit.register(self.uninstall)  # the collections of shutdown hold no call

    def uninstall(self) -> None:
        """Stop watching."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" or self.quiet:
            self._started = time.perf_counter()
            return
        took_ms = (time.perf_counter() - self._started) * 1000
        self.longest_ms = max(self.longest_ms, took_ms)
        if took_ms >= self.slow_ms:
            self.slow += 1
            log.warning(
                "slow garbage collection: every call waited",
                extra={
                    "generation": info["generation"],
                    "ms": round(took_ms, 1),
                    "collected": info["collected"],
                },
            )


#: The process's watch (the serving process installs it: :meth:`ivr.parts.Parts.start_background`).
WATCH = CollectionWatch()
