"""Handing the call over: to a person, to a queue or number, or to a callback.

Every handover checks the queue's hours at ``now``: nobody there means booking a callback
instead of a transfer into an empty queue, and so does a caller who would rather not wait
through a long expected wait. The agent gets a short context so the caller need not repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.engine.actions import Action, Say, Transfer
from bot.engine.base import Ctx
from bot.engine.booking import offer_wait, start_callback, wait_limit
from bot.engine.session import Session, Status

#: Why the bot handed a caller over, as the agent is told ("handed over because ...").
HANDOVER_REASONS: Mapping[str, str] = {
    "asked_for_person": "they asked for a person",
    "low_confidence": "the bot could not understand them",
    "nlu_unavailable": "speech understanding was unavailable",
    "no_input": "they did not say anything",
    "technical_problem": "the bot hit a technical problem",
    "outside_hours": "nobody was available",
    "caller_request": "they asked to be called back",
    "no_callback_number": "they could not give a number to call back",
    "stream_lost": "the bot's connection failed",
}


def summary(ctx: Ctx, session: Session, reason: str) -> str:
    """One plain-English line an agent can read while the call connects."""
    intent = session.last_intent
    if intent:
        labels = ctx.flow.intents[intent].label if intent in ctx.flow.intents else {}
        label = ctx.flow.in_language(labels, "en") or intent
        wants = f"wants {label} ({intent})"
    else:
        wants = "intent not known"
    details = ", ".join(f"{k}={v}" for k, v in session.slots.items()) or "no details given"
    why = HANDOVER_REASONS.get(reason, f"reason '{reason}'")
    turns = len(session.turns)
    return (
        f"Caller {wants}; {details}; handed over because {why} "
        f"after {turns} turn{'s' if turns != 1 else ''}."
    )


def handover_context(ctx: Ctx, session: Session, reason: str) -> Mapping[str, str]:
    """What an agent sees with a transfer or callback."""
    return MappingProxyType(
        {
            "reason": reason,
            "intent": session.last_intent or "",
            "slots": "; ".join(f"{k}={v}" for k, v in session.slots.items()),
            "last_utterance": session.last_utterance(),
            "turns": str(len(session.turns)),
            "step": session.step_id,
            "language": session.language,
            "summary": summary(ctx, session, reason),
        }
    )


def transfer(
    ctx: Ctx,
    session: Session,
    reason: str,
    *,
    queue: str | None,
    number: str | None = None,
    say: Say | None = None,
    offer: bool = True,
) -> tuple[Session, list[Action]]:
    """Transfer to ``queue``/``number`` if the line is staffed, else book a callback.

    ``say`` is what precedes the transfer (default: the ``connecting`` system prompt); out of
    hours the caller hears ``outside_hours`` instead and the callback keeps the reason in its
    context. A queue whose expected wait is over its limit first offers a callback (unless
    ``offer`` is false: the caller already chose to wait, or is booking one).
    """
    fallback_queue = queue or ctx.flow.escalation.person_queue
    if not ctx.flow.queue_hours(fallback_queue).is_open(ctx.now):
        apology = [ctx.system(session, "outside_hours")]
        return start_callback(
            ctx, session, fallback_queue, reason, apology, action_reason="outside_hours"
        )
    waits = session.expected_waits.get(queue or "") if offer and session.booking is None else None
    if queue is not None and waits is not None and waits > wait_limit(ctx.flow, queue):
        return offer_wait(ctx, session, queue, reason, waits)
    context = handover_context(ctx, session, reason)
    before = say or ctx.system(session, "connecting")
    action = Transfer(reason=reason, queue=queue, number=number, context=context)
    return session.finished(Status.TRANSFERRED, reason, ctx.now), [before, action]


def to_person(
    ctx: Ctx, session: Session, reason: str, before: list[Say] | None = None
) -> tuple[Session, list[Action]]:
    """A person from ``escalation.person_queue`` (or a callback out of hours)."""
    session, actions = transfer(ctx, session, reason, queue=ctx.flow.escalation.person_queue)
    return session, [*(before or []), *actions]


def technical_problem(
    ctx: Ctx, session: Session, reason: str = "technical_problem"
) -> tuple[Session, list[Action]]:
    """Apologise and hand over: the bot cannot go on, but the caller is never left alone."""
    return to_person(ctx, session, reason, [ctx.system(session, "technical_problem")])
