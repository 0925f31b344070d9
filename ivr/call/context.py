"""What an agent gets with a call: a spoken whisper and the whole context as JSON.

The whisper is a few seconds of English before the bridge (who, what they want, why the bot
handed over, how often they called lately). The JSON, served at ``/api/calls/<id>/context`` for
the agent console, has the transcript with confidences, the slots and the caller's earlier calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.engine.handover import HANDOVER_REASONS
from bot.text import spell_number
from ivr.call.handover import Handover
from ivr.store import CallRecord, Store, StoreUnavailable

log = logging.getLogger(__name__)

#: "Called N times recently" counts calls from the same number within this window.
RECENT_DAYS = 7


class CallContext:
    """Builds an agent's view of a call from the store (which may be down: then less is said)."""

    def __init__(self, store: Callable[[], Store], clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def whisper(self, call_id: str, handover: Handover | None) -> str:
        """The sentence the agent hears before being bridged."""
        call = self._call(call_id)
        caller = (
            handover.caller if handover and handover.caller else (call.caller if call else None)
        )
        name = caller_name(call)
        who = spell_number(caller) + (f", {name}" if name else "")
        if handover is None:
            return f"Call from {who}. No details are available."
        summary = handover.context.get("summary") or (
            f"Handed over because {HANDOVER_REASONS.get(handover.reason, handover.reason)}."
        )
        earlier = len(self._earlier(caller, call_id)) if caller else 0
        history = (
            f" They called {earlier} time{'s' if earlier != 1 else ''} before "
            f"in the last {RECENT_DAYS} days."
            if earlier
            else ""
        )
        return f"Call from {who}. {summary}{history}"

    def as_json(self, call_id: str, handover: Handover | None) -> dict[str, Any] | None:
        """The whole context, JSON-ready; ``None`` for a call the store does not know."""
        call = self._call(call_id)
        if call is None:
            return None
        earlier = self._earlier(call.caller, call_id) if call.caller else []
        return {
            "call_id": call.call_id,
            "caller": call.caller,
            "caller_name": caller_name(call),
            "called": call.called,
            "started_at": call.started_at.isoformat(),
            "ended_at": call.ended_at.isoformat() if call.ended_at else None,
            "status": call.status,
            "language": call.language,
            "outcome": call.outcome,
            "queue": call.queue,
            "reason": call.reason,
            "intent": handover.context.get("intent") if handover else None,
            "slots": dict(handover.slots) if handover else {},
            "summary": handover.context.get("summary") if handover else None,
            "agent": call.agent,
            "time_to_person_seconds": call.time_to_person_seconds,
            "transcript": [
                {
                    "at": turn.at.isoformat(),
                    "step": turn.step,
                    "kind": turn.kind,
                    "text": turn.text,
                    "asr_confidence": turn.asr_confidence,
                    "intent": turn.intent,
                    "confidence": turn.confidence,
                    "decision": turn.decision,
                    "bot": list(turn.actions),
                }
                for turn in call.turns
            ],
            "earlier_calls": [
                {
                    "call_id": other.call_id,
                    "started_at": other.started_at.isoformat(),
                    "outcome": other.outcome,
                    "queue": other.queue,
                    "reason": other.reason,
                    "agent": other.agent,
                }
                for other in earlier
            ],
        }

    def _call(self, call_id: str) -> CallRecord | None:
        try:
            return self._store().get_call(call_id)
        except StoreUnavailable as error:
            log.warning("call context not read", extra={"call_id": call_id, "error": str(error)})
            return None

    def _earlier(self, caller: str, call_id: str) -> list[CallRecord]:
        since = self._clock() - timedelta(days=RECENT_DAYS)
        try:
            return self._store().calls_from(caller, since=since, exclude=call_id)
        except StoreUnavailable as error:
            log.warning("caller history not read", extra={"call_id": call_id, "error": str(error)})
            return []


def caller_name(call: CallRecord | None) -> str | None:
    """Twilio's CNAM name, when the number has caller-name lookup on (stored at call start)."""
    for event in call.events if call else ():
        if event.kind == "caller_name" and event.data.get("name"):
            return str(event.data["name"])
    return None
