"""Writes one call's turns and events to the store, and never lets that fail the call.

A database that stops answering mid-call costs the record, not the caller: the first failure
is logged with the call id, later ones are counted, and the call goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from bot.engine import Session
from bot.engine.actions import Action, describe
from ivr.call.timing import LagMeter
from ivr.store import EventRecord, Store, StoreUnavailable, TurnRecord

log = logging.getLogger(__name__)

#: Tells a call's watchers that something of ``kind`` happened.
Publish = Callable[[str, Mapping[str, Any]], None]


class CallRecorder:
    """The store, as one call sees it. ``store`` may be ``None`` (recording is off).

    ``clock`` stamps events (the call's clock, so a test's fixed time shows in the record).
    ``publish`` also tells the call's watchers (:class:`~ivr.call.watch.LiveCalls`) about each
    turn and event as it happens, and about what the bot says, which is not stored.
    """

    def __init__(
        self,
        store: Store | None,
        call_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        first_turn: int = 0,
        publish: Publish | None = None,
    ) -> None:
        self.store = store
        self.call_id = call_id
        self.clock = clock
        self.failures = 0
        self.publish: Publish = publish or (lambda kind, data: None)
        self._turns = first_turn  # a later stream of the same call numbers on

    def turn(self, record: TurnRecord) -> None:
        """Store one caller turn (its ``index`` is assigned here, in order)."""
        record = replace(record, index=self._turns)
        self._turns += 1
        self.publish("turn", {**asdict(record), "at": record.at.isoformat()})
        self._write("turn", lambda store: store.add_turn(self.call_id, record))

    def lag(self, meter: LagMeter) -> None:
        """How far behind real time the call's audio was processed (capacity planning)."""
        if meter.count:
            self.event("audio_lag", meter.summary())

    def event(self, kind: str, data: Mapping[str, Any] | None = None) -> None:
        """Store something that happened on the call, now."""
        event = EventRecord(self.clock(), kind, dict(data or {}))
        self.publish("event", {"kind": kind, "data": event.data, "at": event.at.isoformat()})
        self._write(kind, lambda store: store.add_event(self.call_id, event))

    def heard(self, text: str, kind: str) -> None:
        """The caller's words (``speech`` or ``typed``), before the bot acts: watchers only."""
        self.publish("heard", {"text": text, "kind": kind})

    def at_step(self, step: str | None) -> None:
        """The call is now at ``step`` (after the bot's reply): watchers only."""
        self.publish("step", {"step": step})

    def said(self, text: str, prompt: str) -> None:
        """The bot started saying ``text`` (prompt ``prompt``): for watchers only."""
        self.publish("said", {"text": text, "prompt": prompt})

    def outcome(self, kind: str, queue: str | None, reason: str | None) -> None:
        """Store how the bot's part of the call ended."""
        self._write(
            "outcome",
            lambda store: store.set_outcome(self.call_id, outcome=kind, queue=queue, reason=reason),
        )

    def language_switched(self, old: str, new: str) -> None:
        """The caller went on in ``new``: the event, and the call's language for next time."""
        self.event("language_switched", {"from": old, "to": new})
        self._write("language", lambda store: store.set_language(self.call_id, new))

    def person_rung(self) -> None:
        """A person's phone started ringing for the call (now)."""
        at = self.clock()
        self._write("person_rung", lambda store: store.person_rung(self.call_id, at=at))

    def person_answered(self, agent: str) -> None:
        """``agent`` answered the call (now): the call's time to a person."""
        at = self.clock()
        self._write(
            "person_answered",
            lambda store: store.person_answered(self.call_id, agent=agent, at=at),
        )
        self.event("person_answered", {"agent": agent})

    def _write(self, what: str, write: Any) -> None:
        if self.store is None:
            return
        try:
            write(self.store)
        except StoreUnavailable as failure:
            self.failures += 1
            if self.failures == 1:
                log.warning(
                    "call record not stored; the call goes on",
                    extra={"call_id": self.call_id, "record": what, "error": str(failure)},
                )


def turn_record(
    session: Session,
    kind: str,
    actions: Sequence[Action],
    latency_ms: Mapping[str, float],
    asr_confidence: float | None,
    at: datetime,
) -> TurnRecord:
    """The record of the caller's latest turn: what they did, what the bot made of it and did.

    ``index`` is left 0: :meth:`CallRecorder.turn` numbers turns in order.
    """
    turn = session.turns[-1] if session.turns else None
    return TurnRecord(
        index=0,
        at=at,
        step=turn.step_id if turn else session.step_id,
        kind=kind,
        text=turn.text if turn else None,
        asr_confidence=asr_confidence,
        intent=turn.intent if turn else None,
        confidence=turn.confidence if turn else None,
        decision=turn.decision if turn else None,
        actions=tuple(describe(action) for action in actions),
        latency_ms=dict(latency_ms),
    )
