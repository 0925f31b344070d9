"""Events: facts, in the past tense, that the transport reports to the engine."""

from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.result import NLUResult


@dataclass(frozen=True)
class CallStarted:
    """A call was answered. ``caller``/``called`` are numbers as the transport knows them."""

    caller: str | None = None
    called: str | None = None
    language: str | None = None  # None: the flow's default language


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
