"""Where a call's output goes: the transport turns these into its own messages."""

from __future__ import annotations

from typing import Protocol


class Outbox(Protocol):
    """What the caller hears, and the stream's end (the Twilio socket implements it)."""

    def play(self, ulaw: bytes) -> None:
        """Queue 8 kHz μ-law audio for the caller."""

    def mark(self, name: str) -> None:
        """Ask to be told (``CallPipeline.marked``) when the audio so far has played."""

    def clear(self) -> None:
        """Drop every queued audio (the caller interrupted)."""

    def close(self) -> None:
        """End the stream; the call moves on to the handover."""
