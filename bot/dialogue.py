"""One call's conversation: words in, NLU, engine step, actions out.

``Dialogue`` is the stage every transport shares (the phone, the text simulator, the
conversation tests): it turns what the caller did into an engine event, asks the NLU when
there are words, and keeps the session. It never raises because the NLU failed: that becomes
``SpeechRecognized(nlu=None, nlu_error=...)`` and the engine hands the caller to a person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.engine import Engine, Session
from bot.engine.actions import Action
from bot.engine.base import is_confident
from bot.engine.events import (
    CallbackOffer,
    CallEnded,
    CallStarted,
    DigitsPressed,
    Event,
    PendingCallback,
    SilenceTimedOut,
    SpeechRecognized,
)
from bot.nlu.result import NLU, NLUResult, NLUUnavailable

log = logging.getLogger(__name__)

#: What the NLU made of some words: the result (or ``None``), why not, and the milliseconds taken.
Understood = tuple[NLUResult | None, str | None, float]


@dataclass(frozen=True)
class Reply:
    """What one caller turn produced: the actions, and what NLU made of the words."""

    actions: list[Action]
    nlu: NLUResult | None = None
    nlu_error: str | None = None
    nlu_ms: float | None = None


class Dialogue:
    """Drive one call through ``engine`` with ``nlu``. Not thread-safe: one per call."""

    def __init__(self, engine: Engine, nlu: NLU, call_id: str) -> None:
        self.engine = engine
        self.nlu = nlu
        self.call_id = call_id
        self._session: Session | None = None

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has run."""
        return self._session is not None

    @property
    def session(self) -> Session:
        """The session so far (after :meth:`start`)."""
        if self._session is None:
            raise RuntimeError("the call has not started")
        return self._session

    def start(
        self,
        now: datetime,
        caller: str | None = None,
        called: str | None = None,
        language: str | None = None,
        *,
        expected_waits: Mapping[str, int] | None = None,
        pending: PendingCallback | None = None,
        offer: CallbackOffer | None = None,
    ) -> Reply:
        """Answer the call: the greeting and the first question.

        ``pending`` is a callback the caller already has (the bot asks about it), ``offer``
        starts by booking a callback (a transfer rang out), ``expected_waits`` are the queues'
        waits in seconds (a long one is offered a callback instead).
        """
        event = CallStarted(
            caller=caller,
            called=called,
            language=language,
            expected_waits=dict(expected_waits or {}),
            pending=pending,
            offer=offer,
        )
        self._session, actions = self.engine.start(self.call_id, event, now)
        log.info(
            "call started",
            extra={"call_id": self.call_id, "caller": caller, "language": self._session.language},
        )
        return Reply(actions)

    def understand(self, text: str) -> Understood:
        """Ask the NLU about ``text``: the result (or ``None`` and why not) and the time taken."""
        started = time.perf_counter()
        try:
            result: NLUResult | None = self.nlu.parse(text)
            error = None
        except NLUUnavailable as failure:
            result, error = None, failure.reason
        return result, error, (time.perf_counter() - started) * 1000

    def is_confident(self, result: NLUResult | None) -> bool:
        """Whether the engine would act on ``result`` without asking again."""
        return result is not None and is_confident(result, self.engine.flow)

    def hear(
        self,
        text: str,
        now: datetime,
        asr_confidence: float | None = None,
        understood: Understood | None = None,
    ) -> Reply:
        """The caller said ``text``: understand it (unless ``understood`` already), then step.

        ``understood`` is :meth:`understand`'s answer for the same text, asked while the
        caller was still pausing, so the turn need not wait for the NLU again.
        """
        result, error, nlu_ms = understood or self.understand(text)
        event = SpeechRecognized(text, result, nlu_error=error, asr_confidence=asr_confidence)
        reply = Reply(self._step(event, now), result, error, nlu_ms)
        self._log_turn(reply)
        return reply

    def press(self, digits: str, now: datetime) -> Reply:
        """The caller pressed keypad keys."""
        reply = Reply(self._step(DigitsPressed(digits), now))
        self._log_turn(reply)
        return reply

    def silence(self, now: datetime) -> Reply:
        """The caller said nothing for the listening timeout."""
        reply = Reply(self._step(SilenceTimedOut(), now))
        self._log_turn(reply)
        return reply

    def hang_up(self, now: datetime, reason: str = "hangup") -> Reply:
        """The caller (or the line) ended the call."""
        reply = Reply(self._step(CallEnded(reason), now))
        log.info(
            "call ended",
            extra={"call_id": self.call_id, "reason": reason, "status": str(self.session.status)},
        )
        return reply

    def _log_turn(self, reply: Reply) -> None:
        """One structured record per caller turn: what was understood and what was decided."""
        session = self.session
        turn = session.turns[-1] if session.turns else None
        fields: dict[str, object] = {
            "call_id": self.call_id,
            "step": session.step_id,
            "decision": turn.decision if turn else None,
            "status": str(session.status),
        }
        if reply.nlu is not None:
            fields |= {
                "intent": reply.nlu.intent,
                "confidence": round(reply.nlu.confidence, 3),
                "nlu_ms": round(reply.nlu_ms or 0.0, 1),
            }
        if reply.nlu_error is not None:
            fields["nlu_error"] = reply.nlu_error
        log.info("turn", extra=fields)

    def _step(self, event: Event, now: datetime) -> list[Action]:
        self._session, actions = self.engine.step(self.session, event, now)
        return actions
