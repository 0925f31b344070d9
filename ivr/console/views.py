"""What the console's pages show, assembled from the store: plain data for the templates.

The call page says what the whisper says (it is built from the same
:class:`~ivr.call.context.CallContext`), and more: every turn with the bot's intent and
confidence, the slots, the caller's recent calls with their transcripts, pending callbacks and
the notes agents left about the caller.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.engine.handover import HANDOVER_REASONS
from ivr.call.context import RECENT_DAYS, caller_name
from ivr.call.handover import Handover
from ivr.call.switchboard import Switchboard
from ivr.callbacks.policy import RULES
from ivr.metrics.live import LIVE_HORIZON
from ivr.parts import Parts
from ivr.store import CallbackRecord, CallbackStore, CallRecord, Note, NoteStore, Store
from ivr.store.live import LiveCall, LiveReads

#: Earlier calls shown with their transcripts on a call page.
EARLIER_SHOWN = 5

STAGES = {
    "bot": "with the bot",
    "booking": "booking a callback",
    "ringing": "ringing an agent",
    "agent": "with an agent",
    "ended": "ended",
}


@dataclass(frozen=True)
class CallPage:
    """Everything the call page shows."""

    call: CallRecord
    whisper: str
    caller_name: str | None
    handover: Handover | None
    reason: str | None
    earlier: list[CallRecord] = field(default_factory=list)
    recent_outcomes: dict[str, int] = field(default_factory=dict)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def stage(self) -> str:
        """Where the call is now, in words."""
        return STAGES.get(self.call.stage or "", self.call.stage or "unknown")


def call_page(parts: Parts, switchboard: Switchboard, call_id: str) -> CallPage | None:
    """The call page's data; ``None`` for a call the store does not know."""
    store = parts.call_store()
    call = store.get_call(call_id)
    if call is None:
        return None
    handover = switchboard.handover(call_id)
    earlier = _earlier(store, call, parts.clock())
    reason = call.reason or (handover.reason if handover else None)
    return CallPage(
        call=call,
        whisper=parts.context.whisper(call_id, handover),
        caller_name=caller_name(call),
        handover=handover,
        reason=HANDOVER_REASONS.get(reason or "", reason) if reason else None,
        earlier=earlier[:EARLIER_SHOWN],
        recent_outcomes=dict(Counter(c.outcome or "in progress" for c in earlier)),
        callbacks=_pending(store, call.caller),
        notes=NoteStore(store).for_number(call.caller) if call.caller else [],
    )


def _earlier(store: Store, call: CallRecord, now: datetime) -> list[CallRecord]:
    """The caller's other calls of the last :data:`RECENT_DAYS` days, with their transcripts."""
    if not call.caller:
        return []
    since = now - timedelta(days=RECENT_DAYS)
    found = store.calls_from(call.caller, since=since, exclude=call.call_id)
    return [store.get_call(c.call_id) or c for c in found[:EARLIER_SHOWN]] + found[EARLIER_SHOWN:]


def _pending(store: Store, number: str | None) -> list[CallbackRecord]:
    return CallbackStore(store, RULES).pending_for_number(number) if number else []


def live_calls(parts: Parts) -> list[LiveCall]:
    """Calls in progress now, newest first (those the dashboard counts as live)."""
    return LiveReads(parts.call_store()).in_progress(parts.clock() - LIVE_HORIZON)


def live_call_json(live: LiveCall, now: datetime) -> dict[str, object]:
    """A live call as the pages' script gets it."""
    call = live.call
    return {
        "call_id": call.call_id,
        "caller": call.caller,
        "stage": call.stage,
        "stage_text": STAGES.get(call.stage or "", call.stage or ""),
        "queue": call.queue,
        "intent": call.intent,
        "seconds": max(0, int((now - call.started_at).total_seconds())),
        "last_words": live.last_words,
        "turns": live.turns,
        "step": live.step,
    }
