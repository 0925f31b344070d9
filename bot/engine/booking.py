"""Booking a callback by voice: entering the booking and the questions the bot asks in it.

A callback is never a dead end the caller cannot see: instead of "we'll call you back", the
bot asks when, reads the time and number back and books only what the caller agreed to (or,
if they go quiet at the read-back, the time they were offered). The state lives in
``Session.booking``; the call stays at its step while booking. What the caller's answers do is
in :mod:`bot.engine.booking_turns`.

Stages: ``OFFER`` (a long wait: call back instead?) and ``PENDING`` (a callback is already
booked: keep, change or cancel?) come first when they apply; then ``NUMBER`` (only when the
caller's number is unknown or they want another), ``WHEN`` and ``CONFIRM``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.callback_time import earliest_callback, spoken_number, spoken_time
from bot.engine.actions import Action, Listen, Say
from bot.engine.base import Ctx
from bot.engine.events import PendingCallback
from bot.engine.phone import caller_number
from bot.engine.session import Booking, Session, Stage
from bot.flow.model import Flow

_QUESTIONS: Mapping[Stage, str] = {
    Stage.NUMBER: "callback_number",
    Stage.WHEN: "callback_when",
}
_LISTEN: Mapping[Stage, Listen] = {
    Stage.OFFER: Listen(expect="yes_no"),
    Stage.PENDING: Listen(expect="intent"),
    Stage.NUMBER: Listen(expect="phone_number"),
    Stage.WHEN: Listen(expect="callback_time"),
    Stage.CONFIRM: Listen(expect="yes_no"),
}


# --- the queue's rules ------------------------------------------------------------------


def wait_limit(flow: Flow, queue: str) -> int:
    """The longest expected wait (seconds) before a callback is offered instead."""
    declared = flow.queues.get(queue)
    if declared is not None:
        return declared.max_expected_wait_seconds
    return flow.callbacks.max_expected_wait_seconds


def wait_minutes(seconds: int) -> int:
    """An expected wait as the caller hears it: whole minutes, at least one."""
    return max(1, (seconds + 30) // 60)


def earliest(ctx: Ctx, queue: str) -> datetime:
    """The first moment ``queue`` can ring the caller back."""
    return earliest_callback(
        ctx.now, ctx.flow.queue_hours(queue), ctx.flow.queue_callbacks(queue).quiet_hours
    )


# --- what the bot says --------------------------------------------------------------------


def proposed(ctx: Ctx, booking: Booking) -> datetime | None:
    """The time read back, in the queue's zone."""
    if booking.proposed_at is None:
        return None
    zone = ctx.flow.queue_hours(booking.queue).zone
    return datetime.fromisoformat(booking.proposed_at).astimezone(zone)


def when_words(ctx: Ctx, session: Session, at: datetime) -> str:
    """``at`` as the caller hears it: "tomorrow at 3 pm"."""
    return spoken_time(at, ctx.now.astimezone(at.tzinfo), session.language)


def number_words(ctx: Ctx, session: Session, booking: Booking) -> str:
    """The number a callback will ring, as heard: "the number you're calling from" or digits."""
    if booking.number is None:
        return ctx.system(session, "callback_this_number").text
    return spoken_number(booking.number)


def _read_back(ctx: Ctx, session: Session, booking: Booking, *, default: bool) -> Say:
    at = proposed(ctx, booking)
    when = when_words(ctx, session, at) if at else ""
    if default:
        return ctx.system(session, "callback_default", {"when": when})
    number = number_words(ctx, session, booking)
    return ctx.system(session, "callback_confirm", {"when": when, "number": number})


def question(ctx: Ctx, session: Session, booking: Booking, name: str | None = None) -> Say:
    """The question of ``booking``'s stage (``name`` picks a variant such as the unclear one)."""
    match booking.stage:
        case Stage.CONFIRM:
            return _read_back(ctx, session, booking, default=name == "callback_default")
        case Stage.PENDING:
            at = proposed(ctx, booking)
            when = when_words(ctx, session, at) if at else ""
            return ctx.system(session, "callback_pending", {"when": when})
    return ctx.system(session, name or _QUESTIONS[booking.stage])


def listen(booking: Booking) -> Listen:
    """What the transport listens for at ``booking``'s stage."""
    return _LISTEN[booking.stage]


def ask(
    ctx: Ctx,
    session: Session,
    booking: Booking,
    before: list[Say] | None = None,
    name: str | None = None,
) -> tuple[Session, list[Action]]:
    """Move to ``booking`` and ask its question. A new stage starts its counters afresh."""
    if session.booking is None or session.booking.stage is not booking.stage:
        session = replace(session, misunderstandings=0, silences=0)
    said = question(ctx, session, booking, name)
    session = replace(session, booking=booking, last_prompts=(said,), pending_options=())
    return session, [*(before or []), said, listen(booking)]


def ask_again(
    ctx: Ctx, session: Session, before: list[Say] | None = None
) -> tuple[Session, list[Action]]:
    """Say the booking's last question again (after ``before``) and listen."""
    booking = session.booking
    assert booking is not None  # only called while booking
    if not session.last_prompts:
        return ask(ctx, session, booking, before)
    return session, [*(before or []), *session.last_prompts, listen(booking)]


def propose(
    ctx: Ctx,
    session: Session,
    booking: Booking,
    at: datetime,
    before: list[Say] | None = None,
    *,
    default: bool = False,
) -> tuple[Session, list[Action]]:
    """Read ``at`` back for the caller to confirm (``default``: the bot's own suggestion)."""
    booking = replace(booking, stage=Stage.CONFIRM, proposed_at=at.isoformat())
    return ask(ctx, session, booking, before, "callback_default" if default else None)


# --- entering a booking -------------------------------------------------------------------


def start_callback(
    ctx: Ctx,
    session: Session,
    queue: str,
    reason: str,
    before: list[Say] | None = None,
    *,
    action_reason: str | None = None,
    replaces: str | None = None,
) -> tuple[Session, list[Action]]:
    """Start booking a callback on ``queue``: say ``before``, then ask when (or for a number).

    ``reason`` is why the caller needs a person; ``action_reason`` overrides it on the
    booked callback (``outside_hours``); ``replaces`` is a booked callback being moved.
    """
    # Booking again (a long wait accepted, a person asked for when closed) keeps the number,
    # the callback it moves and where the conversation stood.
    earlier = session.booking
    number = earlier.number if earlier else None
    known = number is not None or caller_number(session.caller) is not None
    booking = Booking(
        queue,
        reason,
        action_reason or reason,
        Stage.WHEN if known else Stage.NUMBER,
        number=number,
        replaces=replaces or (earlier.replaces if earlier else None),
        turns_before=earlier.turns_before if earlier else len(session.turns),
    )
    session = replace(session, booking=None)  # a fresh booking: its counters start at zero
    return ask(ctx, session, booking, before)


def offer_wait(
    ctx: Ctx, session: Session, queue: str, reason: str, seconds: int
) -> tuple[Session, list[Action]]:
    """The wait for ``queue`` is long: offer a callback before transferring."""
    booking = Booking(queue, reason, reason, Stage.OFFER, turns_before=len(session.turns))
    minutes = {"minutes": str(wait_minutes(seconds))}
    said = ctx.system(session, "callback_wait_offer", minutes)
    session = replace(session, booking=booking, last_prompts=(said,), misunderstandings=0)
    return replace(session, silences=0), [said, listen(booking)]


def begin_pending(
    ctx: Ctx, session: Session, pending: PendingCallback
) -> tuple[Session, list[Action]]:
    """A caller with a callback booked: ask whether to keep, change or cancel it."""
    own = pending.number == caller_number(session.caller)
    booking = Booking(
        pending.queue,
        "caller_request",
        "caller_request",
        Stage.PENDING,
        proposed_at=pending.at,
        number=None if own else pending.number,
        replaces=pending.callback_id,
        turns_before=len(session.turns),
    )
    return ask(ctx, session, booking)
