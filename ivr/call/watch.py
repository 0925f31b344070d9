"""The calls running in this process, and who is watching them as they happen.

    feed = calls.watch(call_id)              # the browser phone, before the call starts
    calls.publish(call_id, "turn", {...})    # the call's stages; nearly free when unwatched
    event = feed.next(timeout=1.0)           # ("turn", {...}) or None
    calls.find(call_id).typed("my bill")     # a typed line into the running call
    feed.close()

Only watchers opt in: a call nobody watches publishes into nothing (one dict lookup). A
watcher that stops reading loses its oldest events rather than growing without bound.
Per-call clock offsets live here too, so the browser phone can try a call "at 22:00"
without moving the process's clock for anyone else.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

#: Events a watcher may have unread before the oldest are dropped.
FEED_LIMIT = 2000

Event = tuple[str, dict[str, Any]]


class TypedInput(Protocol):
    """A running call that takes a typed line as if the caller had said it."""

    def typed(self, text: str) -> None:
        """Enter ``text`` into the call as the caller's next turn."""


class Feed:
    """One watcher's events for one call, in the order they happened."""

    def __init__(self, unsubscribe: Callable[[Feed], None]) -> None:
        self._events: queue.Queue[Event] = queue.Queue(FEED_LIMIT)
        self._unsubscribe = unsubscribe

    def put(self, event: Event) -> None:
        """Queue ``event``; the oldest one goes when the watcher has fallen far behind."""
        while True:
            try:
                self._events.put_nowait(event)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):  # the reader took one meanwhile
                    self._events.get_nowait()

    def next(self, timeout: float) -> Event | None:
        """The next event, waiting up to ``timeout`` seconds; ``None`` when none came."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop watching."""
        self._unsubscribe(self)


class LiveCalls:
    """The calls of this process: their watchers, their typed input, their clock offsets."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._feeds: dict[str, list[Feed]] = {}
        self._running: dict[str, TypedInput] = {}
        self._offsets: dict[str, timedelta] = {}
        self._typing: set[str] = set()

    def watch(self, call_id: str) -> Feed:
        """A feed of ``call_id``'s events from now on (it may not have started yet)."""

        def unsubscribe(feed: Feed) -> None:
            with self._lock:
                feeds = self._feeds.get(call_id, [])
                if feed in feeds:
                    feeds.remove(feed)
                if not feeds:
                    self._feeds.pop(call_id, None)

        feed = Feed(unsubscribe)
        with self._lock:
            self._feeds.setdefault(call_id, []).append(feed)
        return feed

    def publish(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None:
        """Tell ``call_id``'s watchers that ``kind`` happened (nothing when nobody watches)."""
        feeds = self._feeds.get(call_id)  # unlocked read: the common case is nobody watching
        if not feeds:
            return
        with self._lock:
            feeds = list(self._feeds.get(call_id, []))
        for feed in feeds:
            feed.put((kind, dict(data)))

    def watched(self, call_id: str) -> bool:
        """Whether anyone watches ``call_id`` now (a stage may skip work only a watcher sees)."""
        return bool(self._feeds.get(call_id))  # unlocked read, as in publish

    def publisher(self, call_id: str) -> Callable[[str, Mapping[str, Any]], None]:
        """``publish`` for one call, for a stage that knows only its own call."""
        return lambda kind, data: self.publish(call_id, kind, data)

    def running(self, call_id: str, call: TypedInput) -> None:
        """``call``'s stream is up in this process."""
        with self._lock:
            self._running[call_id] = call

    def ended(self, call_id: str, call: TypedInput) -> None:
        """``call``'s stream is over (a later stream of the same call may follow)."""
        with self._lock:
            if self._running.get(call_id) is call:
                del self._running[call_id]

    def running_count(self) -> int:
        """How many calls' streams are up in this process now."""
        return len(self._running)  # unlocked read: asked for every frame of a turn

    def find(self, call_id: str) -> TypedInput | None:
        """The running stream of ``call_id`` in this process, if any."""
        with self._lock:
            return self._running.get(call_id)

    def shift_clock(self, call_id: str, offset: timedelta | None) -> None:
        """Run ``call_id`` ``offset`` ahead of (or behind) the real time; ``None`` undoes it."""
        with self._lock:
            if offset:
                self._offsets[call_id] = offset
            else:
                self._offsets.pop(call_id, None)

    def type_only(self, call_id: str) -> None:
        """``call_id``'s caller types instead of speaking: no speech model is needed."""
        with self._lock:
            self._typing.add(call_id)

    def typing(self, call_id: str) -> bool:
        """Whether ``call_id``'s caller types (see :meth:`type_only`)."""
        return call_id in self._typing

    def forget(self, call_id: str) -> None:
        """The call is over: drop its clock offset and typing mark."""
        with self._lock:
            self._offsets.pop(call_id, None)
            self._typing.discard(call_id)

    def now(self, call_id: str) -> datetime:
        """The time as ``call_id`` sees it."""
        return self._clock() + self._offsets.get(call_id, timedelta(0))

    def clock(self, call_id: str) -> Callable[[], datetime]:
        """:meth:`now` for one call."""
        return lambda: self.now(call_id)
