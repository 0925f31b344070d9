"""Who answers a queue: one phone number per queue, from ``IVR_AGENT_NUMBERS``.

``"billing=+441632960001,faults=+441632960002,*=+441632960000"``: ``*`` answers any queue
not listed. A queue with no number gets a callback offer instead of a transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class DirectoryError(ValueError):
    """``IVR_AGENT_NUMBERS`` is not a list of ``queue=number`` pairs."""


class AgentDirectory:
    """Phone numbers (or ``sip:``/``client:`` addresses) by queue."""

    def __init__(self, numbers: Mapping[str, str]) -> None:
        self.numbers = MappingProxyType(dict(numbers))

    @classmethod
    def parse(cls, spec: str) -> AgentDirectory:
        """Read ``queue=number,...``; raises :class:`DirectoryError` naming the bad entry."""
        numbers: dict[str, str] = {}
        for entry in (part.strip() for part in spec.split(",")):
            if not entry:
                continue
            queue, sep, number = (s.strip() for s in entry.partition("="))
            if not sep or not queue or not number:
                raise DirectoryError(
                    f"IVR_AGENT_NUMBERS: {entry!r} is not queue=number (e.g. billing=+441632960001)"
                )
            numbers[queue] = number
        return cls(numbers)

    def number_for(self, queue: str | None) -> str | None:
        """The number that answers ``queue``, else the default (``*``), else ``None``."""
        return self.numbers.get(queue or "") or self.numbers.get("*")
