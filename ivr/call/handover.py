"""How the bot's part of a call ended, kept until Twilio asks what to do next.

The stream closes, Twilio requests the ``<Connect action>`` URL, and the answer depends on
what the bot decided: a transfer, a callback, a goodbye, or (when something broke) an apology
and a person. :class:`Handover` is that decision; :class:`HandoverBoard` holds it per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.dialogue import Dialogue
from bot.engine.actions import Action, Hangup, ScheduleCallback, Transfer
from voice.listener import RecognitionFailed
from voice.tts import SynthesisFailed

Kind = Literal["transfer", "callback", "hangup"]


@dataclass(frozen=True)
class Handover:
    """What happens to the caller after the stream.

    Attributes:
        kind: ``transfer`` to a person, ``callback`` offered, or ``hangup``.
        reason: Why, in the engine's words (``asked_for_person``, ``tts_failed``, ...).
        queue: The queue a person comes from (transfer and callback).
        number: A number to dial instead of the queue's.
        apologise: The caller has not heard why (our own voice failed): Twilio says it.
        context: What the agent should know (the engine's handover context).
        language: The call's language, for anything said after the stream.
        caller: The caller's number.
        slots: What the caller told the bot (account number, ...), for the agent.
    """

    kind: Kind
    reason: str
    queue: str | None = None
    number: str | None = None
    apologise: bool = False
    context: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    language: str | None = None
    caller: str | None = None
    slots: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_action(
        cls,
        action: Action,
        *,
        language: str | None,
        caller: str | None,
        slots: Mapping[str, str] | None = None,
    ) -> Handover | None:
        """The handover a terminal engine action asks for; ``None`` for other actions."""
        filled = MappingProxyType(dict(slots or {}))
        match action:
            case Transfer(reason=reason, queue=queue, number=number, context=context):
                return cls(
                    "transfer", reason, queue, number, False, context, language, caller, filled
                )
            case ScheduleCallback(reason=reason, queue=queue, context=context):
                return cls(
                    "callback", reason, queue, None, False, context, language, caller, filled
                )
            case Hangup(reason=reason):
                return cls("hangup", reason, language=language, caller=caller, slots=filled)
        return None

    @classmethod
    def apologising(cls, reason: str, dialogue: Dialogue, caller: str | None) -> Handover:
        """To a person, with the network's apology: the bot failed for ``reason``."""
        session = dialogue.session if dialogue.started else None
        return cls(
            "transfer",
            reason,
            dialogue.engine.flow.escalation.person_queue,
            apologise=True,
            language=session.language if session else None,
            caller=caller,
            slots=MappingProxyType(dict(session.slots)) if session else MappingProxyType({}),
        )

    def as_data(self) -> dict[str, object]:
        """JSON-ready fields, for the call's stored events."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "queue": self.queue,
            "number": self.number,
            "apologise": self.apologise,
            "context": dict(self.context),
            "language": self.language,
            "caller": self.caller,
            "slots": dict(self.slots),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Handover:
        """The inverse of :meth:`as_data` (from the store, in another process)."""
        kind = str(data.get("kind", "transfer"))
        if kind not in ("transfer", "callback", "hangup"):
            kind = "transfer"
        context = data.get("context")
        slots = data.get("slots")
        return cls(
            kind=kind,  # type: ignore[arg-type]  # checked just above
            reason=str(data.get("reason", "")),
            queue=_opt(data.get("queue")),
            number=_opt(data.get("number")),
            apologise=bool(data.get("apologise", False)),
            context=MappingProxyType(
                {str(k): str(v) for k, v in context.items()} if isinstance(context, dict) else {}
            ),
            language=_opt(data.get("language")),
            caller=_opt(data.get("caller")),
            slots=MappingProxyType(
                {str(k): str(v) for k, v in slots.items()} if isinstance(slots, dict) else {}
            ),
        )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class HandoverBoard:
    """Handovers by call id, in memory, for the process that ran the stream.

    The store keeps them too (any process can answer Twilio's next request); this board
    answers even when the database does not. Entries expire after ``ttl_seconds``.
    """

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._items: dict[str, tuple[float, Handover]] = {}
        self._lock = threading.Lock()

    def put(self, call_id: str, handover: Handover) -> None:
        """Remember ``handover`` for ``call_id`` (replacing an earlier one)."""
        now = time.monotonic()
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if now - v[0] < self.ttl_seconds}
            self._items[call_id] = (now, handover)

    def get(self, call_id: str) -> Handover | None:
        """The handover of ``call_id``, if this process knows it."""
        with self._lock:
            item = self._items.get(call_id)
        return item[1] if item else None

    def forget(self, call_id: str) -> None:
        """Drop ``call_id`` (the call ended)."""
        with self._lock:
            self._items.pop(call_id, None)


def failure_reason(failure: Exception) -> str:
    """Why the bot gave up, for the record and the agent: which part failed."""
    if isinstance(failure, SynthesisFailed):
        return "tts_failed"
    if isinstance(failure, RecognitionFailed):
        return "asr_failed"
    return "internal_error"
