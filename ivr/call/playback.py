"""What the caller has actually heard, from the marks the phone line echoes back.

Audio goes out faster than real time and the line buffers it, so "sent" is not "heard". Each
prompt is followed by a mark; the line echoes the mark when the audio before it has played
(or at once when a ``clear`` discarded it). A prompt whose mark came back after a clear was
cut short, and the pipeline knows which.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Played:
    """A prompt's mark came back. ``interrupted`` when a clear cut it short."""

    name: str
    prompt_id: str | None
    interrupted: bool


class Playback:
    """Outstanding prompts of one call, in the order they were sent."""

    def __init__(self) -> None:
        self._outstanding: dict[str, str | None] = {}
        self._cleared: set[str] = set()
        self._numbers = itertools.count(1)

    @property
    def playing(self) -> bool:
        """Whether some prompt has been sent and not yet heard to its end."""
        return bool(self._outstanding)

    @property
    def current(self) -> str | None:
        """The prompt id of the oldest prompt still playing."""
        return next(iter(self._outstanding.values()), None)

    def sent(self, prompt_id: str | None) -> str:
        """Record a prompt sent; returns the mark name to send after its audio."""
        name = f"{next(self._numbers)}:{prompt_id or 'say'}"
        self._outstanding[name] = prompt_id
        return name

    def cleared(self) -> list[str]:
        """Record a clear: every outstanding prompt is cut short. Returns their marks."""
        names = list(self._outstanding)
        self._cleared.update(names)
        return names

    def marked(self, name: str) -> Played | None:
        """The line echoed ``name``; ``None`` for a mark we never sent (or already saw)."""
        if name not in self._outstanding:
            return None
        prompt_id = self._outstanding.pop(name)
        interrupted = name in self._cleared
        self._cleared.discard(name)
        return Played(name, prompt_id, interrupted)
