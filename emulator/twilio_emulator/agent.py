"""What a phone does when it rings.

Its own module because calls (``call``), ``<Dial>`` legs (``dial``) and calls placed over the
REST API (``outbound``, ``rest``) all need it: none of them imports another for it.
"""

from __future__ import annotations

from dataclasses import dataclass

ANSWERS = ("answered", "no-answer", "busy", "failed")
#: Every behaviour a phone can have: ``human`` answers like ``answered``; ``machine`` is a
#: voicemail that picks up (``AnsweredBy=machine_*`` when the REST call asked for detection).
BEHAVIOURS = (*ANSWERS, "human", "machine")


@dataclass(frozen=True)
class AgentBehaviour:
    """What a phone does when it rings: a ``<Dial>`` leg, or the callee of a REST call.

    Args:
        answer: ``answered``, ``no-answer``, ``busy`` or ``failed``; ``human`` (the same as
            ``answered``) or ``machine`` (a voicemail picks up) for detection.
        talk_seconds: How long an answered agent stays bridged before hanging up (a REST
            call's callee instead stays until the TwiML ends).
        ring_seconds: How long the phone rings before the outcome (no-answer comes after this
            or the Dial ``timeout``, whichever is shorter, so tests need not wait 30 s).
    """

    answer: str = "answered"
    talk_seconds: float = 1.0
    ring_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.answer not in BEHAVIOURS:
            raise ValueError(f"agent answer {self.answer!r} is not one of {', '.join(BEHAVIOURS)}")
        if self.talk_seconds < 0 or self.ring_seconds < 0:
            raise ValueError("agent talk_seconds and ring_seconds cannot be negative")

    @property
    def picks_up(self) -> bool:
        """Whether the phone is answered (by a person or a machine)."""
        return self.answer in ("answered", "human", "machine")
