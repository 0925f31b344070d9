"""What the store hands back: plain frozen dataclasses, never SQLAlchemy objects.

Calls with their turns and events, and callbacks with their status and transitions. All
datetimes are timezone-aware UTC, both going in (naive ones are refused) and coming out.
"""

from __future__ import annotations

import enum
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
    kind: str  # "speech" | "typed" | "dtmf" | "silence" | "start" | "end"
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
    stage: str | None = None  # where the call is now: bot, ringing, agent, booking, ended
    intent: str | None = None  # the first intent the bot acted on

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


class CallbackStatus(enum.StrEnum):
    """Where a callback is in its life cycle."""

    SCHEDULED = "scheduled"  # booked, waiting for its time
    DIALING = "dialing"  # a worker is placing it, or it rings
    CONNECTED = "connected"  # the first leg answered
    NO_ANSWER = "no_answer"  # an attempt's outcome ...
    BUSY = "busy"
    FAILED = "failed"
    MACHINE = "machine"  # customer first: an answering machine took it (a message was left)
    RETRY = "retry"  # waiting for the next attempt
    CLAIMED = "claimed"  # an agent handles it by hand (the worker leaves it alone)
    DONE = "done"  # the call completed after connecting (or the agent who claimed it finished)
    GAVE_UP = "gave_up"  # every attempt failed
    CANCELLED = "cancelled"


#: Waiting to be dialed: a worker may claim these once due; a caller may cancel or move them.
WAITING = frozenset({CallbackStatus.SCHEDULED, CallbackStatus.RETRY})
#: Not placed yet: waiting, or claimed by an agent. A caller or an agent may cancel or move them.
OPEN = WAITING | {CallbackStatus.CLAIMED}
#: How a failed attempt ended.
FAILED_ATTEMPT = frozenset(
    {CallbackStatus.NO_ANSWER, CallbackStatus.BUSY, CallbackStatus.FAILED, CallbackStatus.MACHINE}
)
#: Nothing more will happen.
FINAL = frozenset({CallbackStatus.DONE, CallbackStatus.GAVE_UP, CallbackStatus.CANCELLED})


@dataclass(frozen=True)
class CallbackTransition:
    """One stored step: the status after it, what happened (``event``) and its details."""

    at: datetime
    status: CallbackStatus
    event: str  # scheduled, dial_requested, dial_placed, adopted, recovered, outcome, retry, ...
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class CallbackRecord:
    """A callback as stored; ``transitions`` oldest first (only from ``CallbackStore.get``)."""

    id: str
    call_id: str | None
    queue: str
    reason: str
    number: str
    from_number: str | None
    agent_id: str | None
    mode: str
    due_at: datetime
    promised_at: datetime
    language: str | None
    context: Mapping[str, Any]
    sms: bool
    attempts: int
    max_attempts: int
    retry_after_minutes: tuple[int, ...]
    status: CallbackStatus
    lease_owner: str | None
    lease_until: datetime | None
    dial_sid: str | None
    dial_to: str | None
    dial_started_at: datetime | None
    connected_at: datetime | None
    on_time: bool | None
    created_at: datetime
    updated_at: datetime
    version: int
    transitions: tuple[CallbackTransition, ...] = field(default=(), compare=False)
    claimed_by: str | None = None  # the agent handling it by hand
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """A callback a worker now holds the lease of.

    ``recovering``: it was ``dialing`` under a lease that expired, so the worker before may have
    sent the REST request; check with the dialer before dialing again.
    """

    callback: CallbackRecord
    recovering: bool
