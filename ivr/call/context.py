"""What an agent gets with a call: a spoken whisper and the whole context as JSON.

The whisper is a few seconds before the bridge (who, what they want, why the bot handed over,
how often they called lately), in the agent's language (:mod:`ivr.people.whispers`). The JSON,
served at ``/api/calls/<id>/context`` for the agent console, has the transcript with
confidences, the slots and the caller's earlier calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.flow.model import Flow
from ivr.call.handover import Handover
from ivr.people import whispers
from ivr.store import CallRecord, Store, StoreUnavailable

log = logging.getLogger(__name__)

#: "Called N times recently" counts calls from the same number within this window.
RECENT_DAYS = 7


class CallContext:
    """Builds an agent's view of a call from the store (which may be down: then less is said)."""

    def __init__(self, store: Callable[[], Store], clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def whisper(
        self,
        call_id: str,
        handover: Handover | None,
        *,
        language: str = "en",
        flow: Flow | None = None,
    ) -> str:
        """The sentences the agent hears before being bridged, in ``language`` (the agent's).

        ``flow`` names the caller's intent in that language (English has the bot's summary).
        A language with no wording in :mod:`ivr.people.whispers` gets English.
        """
        language = whispers.spoken_in(language)
        call = self._call(call_id)
        caller = (
            handover.caller if handover and handover.caller else (call.caller if call else None)
        )
        name = caller_name(call)
        who = whispers.spelled(language, caller or "") + (f", {name}" if name else "")
        if handover is None:
            return whispers.call_whisper(language, who=who, summary=None, label=None, why=None)
        intent = handover.context.get("intent") or ""
        labels = flow.intents[intent].label if flow and intent in flow.intents else {}
        earlier = len(self._earlier(caller, call_id)) if caller else 0
        return whispers.call_whisper(
            language,
            who=who,
            summary=handover.context.get("summary"),
            label=flow.in_language(labels, language) if flow and labels else None,
            why=handover.reason,
            history=whispers.called_before(language, earlier, RECENT_DAYS),
        )

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
