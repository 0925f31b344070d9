"""The flow every new call starts on, reloaded when admins edit the files.

A changed flow that does not pass the check is refused: its problems go to the log, stay in
:attr:`FlowSource.refused` (for the browser phone's and the console's banner) until a good
edit replaces them, and the last good flow keeps serving. Calls already running keep the flow
they started on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from bot.flow import Flow, FlowError, check_flow, flow_files

log = logging.getLogger(__name__)

Listener = Callable[[Flow], None]
#: (name, mtime_ns, size) of each file: cheap to compare on every refresh.
_Stamp = tuple[tuple[str, int, int], ...]


class FlowSource:
    """The last good flow at ``path`` (a folder or one file), refreshed on demand.

    Raises:
        FlowError: at construction, when the flow is broken (there is nothing to serve).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._stamp = self._stat()
        digest = self._digest()
        flow, problems = check_flow(self.path)
        if flow is None:
            raise FlowError(problems)
        self._flow = flow
        self._good_digest = self._seen_digest = digest
        self._refused: tuple[str, ...] = ()

    @property
    def refused(self) -> tuple[str, ...]:
        """The problems (``file:line: message``) of the latest edit, if it was refused."""
        with self._lock:
            return self._refused

    @property
    def current(self) -> Flow:
        """The flow new calls should start on."""
        with self._lock:
            return self._flow

    def on_change(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(flow)`` after each swap; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def refresh(self) -> bool:
        """Re-read the files if they changed; True when a new good flow was swapped in."""
        with self._lock:
            stamp = self._stat()
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            digest = self._digest()
            if digest == self._good_digest:  # back to the flow that serves: nothing is refused
                self._seen_digest, self._refused = digest, ()
                return False
            if digest == self._seen_digest:  # the same broken content again: nothing new
                return False
            self._seen_digest = digest
            flow, problems = check_flow(self.path)
            if flow is None:
                self._refused = tuple(str(p) for p in problems)
                lines = "\n".join(str(p) for p in problems)
                log.error(
                    "flow at %s refused (%d problems), keeping the last good flow:\n%s",
                    self.path,
                    len(problems),
                    lines,
                    extra={"problems": [str(p) for p in problems]},
                )
                return False
            self._flow, self._good_digest, self._refused = flow, digest, ()
            listeners = list(self._listeners)
        log.info("flow at %s reloaded: %d steps", self.path, len(flow.steps))
        # Outside the lock, so a listener may read `current` or subscribe.
        for listener in listeners:
            try:
                listener(flow)
            except Exception:
                log.exception("a flow change listener failed")
        return True

    def _stat(self) -> _Stamp:
        stamps = []
        for file in flow_files(self.path):
            try:
                info = file.stat()
            except OSError:
                continue  # removed meanwhile; the check will say what is missing
            stamps.append((str(file), info.st_mtime_ns, info.st_size))
        return tuple(stamps)

    def _digest(self) -> str:
        digest = hashlib.sha256()
        for file in flow_files(self.path):
            digest.update(str(file).encode() + b"\0")
            try:
                digest.update(file.read_bytes())
            except OSError:
                digest.update(b"\0missing")
        return digest.hexdigest()
