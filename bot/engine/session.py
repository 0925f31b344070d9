"""The state of one call: a frozen record the engine replaces, never mutates.

A :class:`Session` is plain data (strings, numbers, tuples, mappings) so a store can save it
and a later ``Engine.step`` can pick it up on another worker.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

from bot.engine.actions import Say
from bot.nlu.result import Entity, IntentScore


class Status(enum.StrEnum):
    """Where the call stands. Only ``ACTIVE`` calls react to events."""

    ACTIVE = "active"
    TRANSFERRED = "transferred"
    CALLBACK = "callback"
    ENDED = "ended"


class Stage(enum.StrEnum):
    """Where a callback booking stands: which question the caller is answering."""

    OFFER = "offer"  # "the wait is about N minutes; shall we call you back instead?"
    PENDING = "pending"  # "you have a call back booked: keep, change or cancel it?"
    NUMBER = "number"  # "what number should we call you on?"
    WHEN = "when"  # "when would suit you?"
    CONFIRM = "confirm"  # "I'll call you {when} on {number}. Is that right?"


@dataclass(frozen=True)
class Booking:
    """A callback being arranged with the caller (see :mod:`bot.engine.booking`).

    ``reason`` is why the caller needed a person (the context and the call's outcome);
    ``action_reason`` is what the :class:`~bot.engine.actions.ScheduleCallback` says
    (``outside_hours`` when the line was closed). ``proposed_at`` is the time read back
    (ISO 8601 with offset), ``number`` a number the caller gave (``None``: the one they call
    from), ``attempts`` the unclear answers to "when", ``replaces`` the id of a booked
    callback being moved (or, at ``PENDING``, the one being asked about). ``turns_before`` is
    how many turns the call had when the callback was wanted: the agent's context is the
    conversation up to then, not the booking itself.
    """

    queue: str
    reason: str
    action_reason: str
    stage: Stage
    proposed_at: str | None = None
    number: str | None = None
    attempts: int = 0
    replaces: str | None = None
    turns_before: int = 0


class TurnKind(enum.StrEnum):
    """What the caller did in a turn."""

    SPEECH = "speech"
    DIGITS = "digits"
    SILENCE = "silence"


@dataclass(frozen=True)
class Turn:
    """One caller turn and what the engine decided about it (for logs, console and tests).

    ``decision`` is a short marker such as ``route:billing_info``, ``clarify``,
    ``global:person``, ``slot:account_number``, ``misunderstood``, ``nlu_unavailable`` or
    ``silence``; ``actions`` are the markers of :func:`bot.engine.actions.describe`.
    """

    at: datetime
    step_id: str
    kind: TurnKind
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    decision: str = ""
    actions: tuple[str, ...] = ()


V = TypeVar("V")


def _frozen(mapping: Mapping[str, V]) -> Mapping[str, V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Session:
    """Everything the engine knows about one call.

    Counters (``misunderstandings``, ``silences``, ``clarifications``) are per step and reset
    when a step is entered. ``pending_options`` holds the intents offered in a clarifying
    question until the caller answers it. ``last_prompts`` is what ``repeat`` says again.
    ``expected_waits`` are the seconds per queue the transport estimated at the start;
    ``booking`` is set while a callback is being arranged (the call stays at its step).
    """

    call_id: str
    step_id: str
    language: str
    started_at: datetime
    caller: str | None = None
    called: str | None = None
    status: Status = Status.ACTIVE
    outcome: str | None = None
    slots: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    misunderstandings: int = 0
    silences: int = 0
    clarifications: int = 0
    pending_options: tuple[str, ...] = ()
    last_prompts: tuple[Say, ...] = ()
    last_intent: str | None = None
    turns: tuple[Turn, ...] = ()
    ended_at: datetime | None = None
    expected_waits: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    booking: Booking | None = None

    @property
    def active(self) -> bool:
        """Whether the bot still owns the call."""
        return self.status is Status.ACTIVE

    def with_slot(self, name: str, value: str) -> Session:
        """A copy with slot ``name`` set to ``value``."""
        return replace(self, slots=_frozen({**self.slots, name: value}))

    def at_step(self, step_id: str) -> Session:
        """A copy positioned on ``step_id`` with the per-step counters reset (no booking)."""
        return replace(
            self,
            step_id=step_id,
            misunderstandings=0,
            silences=0,
            clarifications=0,
            pending_options=(),
            booking=None,
        )

    def finished(self, status: Status, outcome: str, now: datetime) -> Session:
        """A copy that no longer belongs to the bot: transferred, called back or ended.

        ``ended_at`` is set only when the call itself ends; a transferred call goes on.
        """
        ended_at = now if status is Status.ENDED else self.ended_at
        return replace(
            self,
            status=status,
            outcome=outcome,
            ended_at=ended_at,
            pending_options=(),
            booking=None,
        )

    def last_utterance(self) -> str:
        """The caller's most recent words, or ``""``."""
        for turn in reversed(self.turns):
            if turn.kind is TurnKind.SPEECH:
                return turn.text
        return ""
