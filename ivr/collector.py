"""Python's garbage collector, kept from holding every call back at once.

A full collection walks every object the process holds while holding the GIL, so for its
whole length no call's audio is taken. In a warm web process most of those objects were
built at start-up (the libraries' modules, the flows, the speech models' wrappers) and live
as long as the process: under 16 calls, a full collection took 45 to 64 ms and made every
call's frames 60 to 93 ms late together (docs/benchmarks.md). Once the process is warm
(:func:`ivr.warmup.settle_memory`), :func:`freeze_once` collects what warm-up left behind and
freezes the rest (``gc.freeze``: later collections skip it), so a full collection walks only
what calls made since. :class:`CollectionWatch` then logs any collection still long enough to
be heard.

Written here, not taken from a library: the standard library's ``gc`` is the whole tool.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

#: A collection this long holds every call's audio back noticeably (a frame is 20 ms).
SLOW_COLLECTION_MS = 20.0

_freezing = threading.Lock()  # two apps in one process (tests) may settle at once


def freeze_once() -> int:
    """Collect the garbage there is, then freeze every object left; returns how many.

    Only the first call in a process freezes; later ones return 0.
    """
    with _freezing:
        if gc.get_freeze_count():
            return 0
        started = time.perf_counter()
        gc.collect()
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
        if phase == "start":
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


#: The process's watch (installed once the process is warm: :func:`ivr.warmup.settle_memory`).
WATCH = CollectionWatch()
