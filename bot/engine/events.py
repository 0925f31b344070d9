"""Events: facts, in the past tense, that the transport reports to the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.nlu.result import NLUResult


@dataclass(frozen=True)
class PendingCallback:
    """A callback already booked for this caller's number (they are calling again)."""

    callback_id: str
    at: str  # ISO 8601 with offset
    number: str
    queue: str


@dataclass(frozen=True)
class CallbackOffer:
    """Start the call by booking a callback (the transfer it came after did not connect).

    ``prompt`` is the system prompt said first (``no_agent``, ``outside_hours``).
    """

    queue: str
    reason: str
    prompt: str | None = None


@dataclass(frozen=True)
class CallStarted:
    """A call was answered. ``caller``/``called`` are numbers as the transport knows them.

    ``expected_waits`` are seconds per queue, estimated when the call started; ``pending``
    is a callback already booked for the caller; ``offer`` starts straight in booking.
    """

    caller: str | None = None
    called: str | None = None
    language: str | None = None  # None: the flow's default language
    expected_waits: Mapping[str, int] = field(default_factory=dict)
    pending: PendingCallback | None = None
    offer: CallbackOffer | None = None


@dataclass(frozen=True)
class SpeechRecognized:
    """The caller finished a turn. ``nlu`` is None when NLU failed (``nlu_error`` says why)."""

    text: str
    nlu: NLUResult | None
    nlu_error: str | None = None
    asr_confidence: float | None = None


@dataclass(frozen=True)
class DigitsPressed:
    """The caller pressed keypad keys (one or more, in order)."""

    digits: str


@dataclass(frozen=True)
class SilenceTimedOut:
    """The caller said nothing for the listening timeout."""


@dataclass(frozen=True)
class CallEnded:
    """The caller hung up or the transport ended the call."""

    reason: str = "hangup"


Event = CallStarted | SpeechRecognized | DigitsPressed | SilenceTimedOut | CallEnded
