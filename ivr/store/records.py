"""What the store hands back: plain frozen dataclasses, never SQLAlchemy objects.

All datetimes are timezone-aware UTC, both going in (naive ones are refused) and coming out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TurnRecord:
    """One exchange of a call: what the caller did and what the bot decided.

    ``index`` counts from 0 within the call and is unique there; ``latency_ms`` maps a stage
    (``"end_of_turn"``, ``"asr"``, ``"nlu"``, ``"tts"``, ``"send"``) to milliseconds.
    """

    index: int
    at: datetime
    step: str | None
    kind: str  # "speech" | "dtmf" | "silence" | "start" | "end"
    text: str | None = None  # transcript or digits
    asr_confidence: float | None = None
    intent: str | None = None
    confidence: float | None = None
    decision: str | None = None
    actions: tuple[str, ...] = ()  # bot.engine.actions.describe() of each action
    latency_ms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRecord:
    """Something that happened during a call outside the turn loop (barge-in, transfer, ...).

    ``data`` must be JSON-serialisable.
    """

    at: datetime
    kind: str  # e.g. "barge_in", "dtmf", "stream_stopped", "failure", "transfer", "status"
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CallRecord:
    """A call as stored; ``turns`` by index and ``events`` by time (empty in listings)."""

    call_id: str
    caller: str | None
    called: str | None
    started_at: datetime
    ended_at: datetime | None
    status: str  # "in-progress", "completed", "busy", "failed", "no-answer", "canceled"
    outcome: str | None  # "transfer" | "callback" | "hangup" | "answered" | None while running
    queue: str | None
    reason: str | None  # why the bot handed over, e.g. "asked_for_person"
    language: str | None
    turns: tuple[TurnRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    transferred_at: datetime | None = None  # a person was rung
    answered_at: datetime | None = None  # a person answered
    agent: str | None = None  # who answered
    resolved_by_bot: bool | None = None  # None while the call runs
    abandoned: bool | None = None  # the caller hung up waiting for a person

    @property
    def time_to_person_seconds(self) -> float | None:
        """Call start to a person answering; ``None`` if nobody answered."""
        if self.answered_at is None:
            return None
        return (self.answered_at - self.started_at).total_seconds()

    @property
    def answer_wait_seconds(self) -> float | None:
        """A person being rung to them answering (what a queue's wait is estimated from)."""
        if self.answered_at is None or self.transferred_at is None:
            return None
        return (self.answered_at - self.transferred_at).total_seconds()
