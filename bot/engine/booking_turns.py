"""The caller's answers while a callback is being booked (see :mod:`bot.engine.booking`).

Each stage reads the answer locally first (times, yes/no, digits: they work when NLU is
down), then honours global intents, then counts a misunderstanding. Nothing here loses the
callback: repeated silence or confusion at the read-back books what was read back, and a
caller who cannot give a number is put through to a person (or told goodbye when closed).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from bot.callback_time import TimeAnswer, resolve_callback_time
from bot.engine.actions import Action, CancelCallback, Hangup, ScheduleCallback, Transfer
from bot.engine.base import Ctx, StepResult, is_confident, top_intent
from bot.engine.booking import (
    ask,
    ask_again,
    earliest,
    propose,
    proposed,
    start_callback,
    when_words,
)
from bot.engine.events import DigitsPressed, Event, SpeechRecognized
from bot.engine.handover import handover_context, to_person, transfer
from bot.engine.phone import caller_number, country_code, spoken_phone_number, typed_phone_number
from bot.engine.session import Booking, Session, Stage, Status
from bot.engine.slots import NO, YES, words
from bot.engine.speech import yes_no
from bot.engine.steps import enter
from bot.flow.model import GlobalAction, TransferStep
from bot.nlu.result import NLUResult
from bot.text import fold

#: Unclear answers to "when" that are asked about again; the next one gets a proposal.
MAX_REASKS = 2


def _stems(*words: str) -> tuple[str, ...]:
    """Word stems folded once, as words() gives them (no accents, Hangul decomposed)."""
    return tuple(map(fold, words))


# Word stems that name a choice at the pending question, per language.
_CANCEL = _stems("cancel", "zrus", "anul", "odwol", "atcel", "취소")
_CHANGE = _stems("change", "move", "reschedul", "another", "different", "later", "earlier",
                 "zmen", "presun", "jindy", "zmien", "przenies", "przeloz", "inn", "mainit",
                 "parcel", "변경", "바꾸", "바꿔", "다른")  # fmt: skip
_KEEP = _stems("keep", "fine", "leave", "stay", "nech", "ponech", "zostaw", "zachow", "paturet",
               "atstat", "유지", "그대로")  # fmt: skip
_NUMBER = _stems("number", "mobile", "phone", "cisl", "numer", "telefon", "numur", "번호", "휴대폰")
_TODAY = _stems("today", "dnes", "dzis", "sodien", "오늘")


def _said(text: str, stems: tuple[str, ...]) -> bool:
    """Whether a word of ``text`` starts with one of ``stems`` (folded)."""
    return any(word.startswith(stems) for word in words(text))


def _home(ctx: Ctx, session: Session, booking: Booking) -> str | None:
    """The calling code a national number belongs to: where the line operates.

    The number the caller rang, else theirs, else the queue's callback number or an agent's.
    """
    declared = ctx.flow.queues.get(booking.queue)
    line_numbers = [
        session.called,
        caller_number(session.caller),
        declared.callbacks.caller_id if declared else None,
        *(agent.address for agent in ctx.flow.agents.values()),
    ]
    return next(filter(None, map(country_code, line_numbers)), None)


# --- times --------------------------------------------------------------------------------


def _resolve(ctx: Ctx, session: Session, booking: Booking, text: str, now: datetime) -> TimeAnswer:
    hours = ctx.flow.queue_hours(booking.queue)
    quiet = ctx.flow.queue_callbacks(booking.queue).quiet_hours
    return resolve_callback_time(text, session.language, now, hours, quiet)


def _moment(ctx: Ctx, booking: Booking, answer: TimeAnswer) -> datetime | None:
    """The time an answer proposes, or ``None`` if it proposes none."""
    if answer.kind == "asap":
        return answer.at or earliest(ctx, booking.queue)
    return answer.at if answer.kind == "time" else None


def _correction(ctx: Ctx, session: Session, booking: Booking, text: str) -> datetime | None:
    """A new time in a reply to the read-back: "no, make it four" keeps the proposed day.

    A bare clock time resolves the same on any day; it is moved onto the day read back
    unless the caller said "today".
    """
    first = _resolve(ctx, session, booking, text, ctx.now)
    at = _moment(ctx, booking, first)
    day = proposed(ctx, booking)
    if first.asked is None or day is None or _said(text, _TODAY):
        return at
    if day.date() == ctx.now.astimezone(day.tzinfo).date():
        return at
    midnight = datetime.combine(day.date(), time(0), day.tzinfo)
    second = _resolve(ctx, session, booking, text, midnight)
    wanted = (day.date(), first.asked.time())  # the day read back, the clock time said
    asked = second.asked
    if second.kind == "time" and asked is not None and (asked.date(), asked.time()) == wanted:
        return second.at
    return at


# --- finishing ----------------------------------------------------------------------------


def book(ctx: Ctx, session: Session, booking: Booking) -> tuple[Session, list[Action]]:
    """The caller agreed (or went quiet at the read-back): book the callback. Terminal."""
    at = proposed(ctx, booking) or earliest(ctx, booking.queue)
    said = ctx.system(session, "callback_booked", {"when": when_words(ctx, session, at)})
    wanted = replace(session, turns=session.turns[: booking.turns_before])
    action = ScheduleCallback(
        booking.action_reason,
        booking.queue,
        handover_context(ctx, wanted, booking.reason),
        at=at.isoformat(),
        number=booking.number or caller_number(session.caller),
        sms=ctx.flow.queue_callbacks(booking.queue).sms_confirmation,
        replaces=booking.replaces,
    )
    return session.finished(Status.CALLBACK, booking.reason, ctx.now), [said, action]


def _no_number(ctx: Ctx, session: Session, booking: Booking) -> tuple[Session, list[Action]]:
    """No usable number: the caller's own if known, else a person, else goodbye (closed)."""
    if caller_number(session.caller) is not None:
        booking = replace(booking, number=None)
        if booking.proposed_at is not None:
            return ask(ctx, session, replace(booking, stage=Stage.CONFIRM))
        return ask(ctx, session, replace(booking, stage=Stage.WHEN))
    if ctx.flow.queue_hours(booking.queue).is_open(ctx.now):
        context = handover_context(ctx, session, "no_callback_number")
        action = Transfer("no_callback_number", booking.queue, context=context)
        connecting = ctx.system(session, "connecting")
        return session.finished(Status.TRANSFERRED, "no_callback_number", ctx.now), [
            connecting,
            action,
        ]
    goodbye = ctx.system(session, "goodbye")
    ended = session.finished(Status.ENDED, "no_callback_number", ctx.now)
    return ended, [goodbye, Hangup("no_callback_number")]


def _to_start(ctx: Ctx, session: Session, before: list[Action]) -> tuple[Session, list[Action]]:
    """Back to the flow's start (the pending callback was settled)."""
    return enter(ctx, session, ctx.flow.start, before)


def _kept(ctx: Ctx, session: Session) -> StepResult:
    return StepResult(
        *_to_start(ctx, session, [ctx.system(session, "callback_kept")]), "booking:kept"
    )


def _give_up(ctx: Ctx, session: Session, booking: Booking) -> tuple[Session, list[Action]]:
    """Too many silences or misunderstandings: the safe outcome of each stage."""
    match booking.stage:
        case Stage.CONFIRM:
            return book(ctx, session, booking)
        case Stage.NUMBER:
            return _no_number(ctx, session, booking)
        case Stage.PENDING:
            kept = _kept(ctx, session)
            return kept.session, kept.actions
        case Stage.OFFER:
            return _connect(ctx, session, booking)
    return propose(ctx, session, booking, earliest(ctx, booking.queue), default=True)


def _connect(ctx: Ctx, session: Session, booking: Booking) -> tuple[Session, list[Action]]:
    """The caller would rather wait: the transfer that was offered a callback instead."""
    step = ctx.flow.steps.get(session.step_id)
    say = None
    if isinstance(step, TransferStep) and step.queue == booking.queue and step.prompt:
        say = ctx.say(session, step.prompt)
    return transfer(ctx, session, booking.reason, queue=booking.queue, say=say, offer=False)


# --- not understood -----------------------------------------------------------------------


def _unclear_time(ctx: Ctx, session: Session, booking: Booking) -> tuple[Session, list[Action]]:
    """No usable time: ask again (at most ``MAX_REASKS`` times), then propose the earliest."""
    booking = replace(booking, attempts=booking.attempts + 1)
    if booking.attempts > MAX_REASKS:
        return propose(ctx, session, booking, earliest(ctx, booking.queue), default=True)
    return ask(ctx, session, booking, name="callback_when_unclear")


def _misunderstood(ctx: Ctx, session: Session, booking: Booking) -> StepResult:
    if booking.stage is Stage.WHEN:
        return StepResult(*_unclear_time(ctx, session, booking), "booking:unclear")
    count = session.misunderstandings + 1
    session = replace(session, misunderstandings=count)
    if count >= ctx.flow.escalation.misunderstandings_before_person:
        return StepResult(*_give_up(ctx, session, booking), "booking:misunderstood")
    sorry = ctx.system(session, "not_understood")
    return StepResult(*ask_again(ctx, session, [sorry]), "booking:misunderstood")


def _silence(ctx: Ctx, session: Session, booking: Booking) -> StepResult:
    if booking.stage is Stage.WHEN:
        return StepResult(*_unclear_time(ctx, session, booking), "booking:silence")
    count = session.silences + 1
    session = replace(session, silences=count)
    if count >= ctx.flow.escalation.silences_before_person:
        return StepResult(*_give_up(ctx, session, booking), "booking:silence")
    return StepResult(
        *ask_again(ctx, session, [ctx.system(session, "no_input")]), "booking:silence"
    )


def _global(
    ctx: Ctx, session: Session, booking: Booking, nlu: NLUResult | None
) -> StepResult | None:
    """A confident global intent while booking (person, repeat, help, goto; callback repeats)."""
    if nlu is None or not is_confident(nlu, ctx.flow):
        return None
    rule = ctx.flow.global_intents.get(top_intent(nlu)[0] or "")
    if rule is None:
        return None
    decision = f"global:{rule.action}"
    match rule.action:
        case GlobalAction.PERSON:
            return StepResult(*to_person(ctx, session, "asked_for_person"), decision)
        case GlobalAction.HELP if rule.prompt:
            return StepResult(
                *ask(ctx, session, booking, [ctx.say(session, rule.prompt)]), decision
            )
        case GlobalAction.GOTO if rule.target:
            return StepResult(*enter(ctx, session, rule.target), f"{decision}:{rule.target}")
    return StepResult(*ask_again(ctx, session), decision)  # repeat, or already booking a callback


# --- the stages ---------------------------------------------------------------------------


def _when(ctx: Ctx, session: Session, booking: Booking, text: str) -> StepResult | None:
    """A time to read back; a number said instead is kept and the time asked again."""
    at = _moment(ctx, booking, _resolve(ctx, session, booking, text, ctx.now))
    if at is not None:
        return StepResult(*propose(ctx, session, booking, at), "booking:time")
    number = spoken_phone_number(text, session.language, _home(ctx, session, booking))
    if number is not None:
        return StepResult(*ask(ctx, session, replace(booking, number=number)), "booking:number")
    return None


def _confirm(
    ctx: Ctx, session: Session, booking: Booking, text: str, nlu: NLUResult | None
) -> StepResult | None:
    answer = yes_no(ctx, text, nlu, session.language)
    if answer == YES:
        return _confirm_answer(ctx, session, booking, answer)
    number = spoken_phone_number(text, session.language, _home(ctx, session, booking))
    if number is not None:
        return StepResult(*ask(ctx, session, replace(booking, number=number)), "booking:number")
    at = _correction(ctx, session, booking, text)
    if at is not None:
        return StepResult(*propose(ctx, session, booking, at), "booking:time")
    if _said(text, _NUMBER):
        return StepResult(
            *ask(ctx, session, replace(booking, stage=Stage.NUMBER)), "booking:number"
        )
    return _confirm_answer(ctx, session, booking, answer)


def _confirm_answer(
    ctx: Ctx, session: Session, booking: Booking, answer: str | None
) -> StepResult | None:
    """Yes books what was read back; no asks for the time again."""
    if answer == YES:
        return StepResult(*book(ctx, session, booking), "booking:booked")
    if answer == NO:
        again = replace(booking, stage=Stage.WHEN, attempts=0)
        return StepResult(*ask(ctx, session, again, name="callback_when_again"), "booking:no")
    return None


def _number(
    ctx: Ctx, session: Session, booking: Booking, text: str, nlu: NLUResult | None
) -> StepResult | None:
    number = spoken_phone_number(text, session.language, _home(ctx, session, booking))
    if number is not None:
        return _numbered(ctx, session, booking, number)
    own = caller_number(session.caller) is not None
    if own and yes_no(ctx, text, nlu, session.language) == YES:
        return StepResult(*_no_number(ctx, session, booking), "booking:own_number")
    at = _moment(ctx, booking, _resolve(ctx, session, booking, text, ctx.now))
    if at is not None:  # a time first: keep it for the read-back, the number is still needed
        timed = replace(booking, proposed_at=at.isoformat())
        return StepResult(*ask(ctx, session, timed), "booking:time")
    return None


def _numbered(ctx: Ctx, session: Session, booking: Booking, number: str) -> StepResult:
    """A number was given: read back if a time is agreed, else ask when."""
    stage = Stage.CONFIRM if booking.proposed_at else Stage.WHEN
    return StepResult(
        *ask(ctx, session, replace(booking, number=number, stage=stage)), "booking:number"
    )


def _pending(
    ctx: Ctx, session: Session, booking: Booking, text: str, nlu: NLUResult | None
) -> StepResult | None:
    moving = replace(booking, stage=Stage.WHEN, proposed_at=None, attempts=0)
    if _said(text, _CANCEL):
        cancel = CancelCallback(booking.replaces or "")
        cancelled = ctx.system(session, "callback_cancelled")
        return StepResult(*_to_start(ctx, session, [cancel, cancelled]), "booking:cancelled")
    if _said(text, _KEEP):
        return _kept(ctx, session)
    at = _moment(ctx, booking, _resolve(ctx, session, booking, text, ctx.now))
    if at is not None:
        return StepResult(*propose(ctx, session, moving, at), "booking:time")
    if _said(text, _CHANGE):
        return StepResult(*ask(ctx, session, moving), "booking:change")
    if yes_no(ctx, text, nlu, session.language) == YES:
        return _kept(ctx, session)
    return None


def _offer(
    ctx: Ctx, session: Session, booking: Booking, text: str, nlu: NLUResult | None
) -> StepResult | None:
    return _offer_answer(ctx, session, booking, yes_no(ctx, text, nlu, session.language))


def _offer_answer(
    ctx: Ctx, session: Session, booking: Booking, answer: str | None
) -> StepResult | None:
    """Yes to a callback instead of the wait starts the booking; no puts them through."""
    if answer == YES:
        reply = start_callback(
            ctx, session, booking.queue, booking.reason, action_reason="long_wait"
        )
        return StepResult(*reply, "booking:accepted")
    if answer == NO:
        return StepResult(*_connect(ctx, session, booking), "booking:declined")
    return None


def _words(ctx: Ctx, session: Session, booking: Booking, event: SpeechRecognized) -> StepResult:
    text, nlu = event.text, event.nlu
    match booking.stage:
        case Stage.WHEN:
            local = _when(ctx, session, booking, text)
        case Stage.CONFIRM:
            local = _confirm(ctx, session, booking, text, nlu)
        case Stage.NUMBER:
            local = _number(ctx, session, booking, text, nlu)
        case Stage.PENDING:
            local = _pending(ctx, session, booking, text, nlu)
        case Stage.OFFER:
            local = _offer(ctx, session, booking, text, nlu)
    if local is not None:
        return local
    return _global(ctx, session, booking, nlu) or _misunderstood(ctx, session, booking)


#: Keypad answers to a yes/no question, as phone lines have always taken them.
_KEY_ANSWERS = {"1": YES, "2": NO}


def _keys(ctx: Ctx, session: Session, booking: Booking, digits: str) -> StepResult:
    """Keypad input, read by what the stage asked.

    A phone number wherever a number is taken; three or four keys as a 24-hour clock time
    ("1530") when a time is asked or read back; 1 (yes) or 2 (no) to a yes/no question.
    """
    keys = digits.rstrip("#")
    stage = booking.stage
    number = typed_phone_number(keys, _home(ctx, session, booking))
    clock = _typed_clock(keys)
    reply: StepResult | None = None
    if number is not None and stage in (Stage.NUMBER, Stage.WHEN, Stage.CONFIRM):
        reply = _numbered(ctx, session, booking, number)
    elif clock is not None and stage in (Stage.WHEN, Stage.CONFIRM):
        at = (
            _moment(ctx, booking, _resolve(ctx, session, booking, clock, ctx.now))
            if stage is Stage.WHEN
            else _correction(ctx, session, booking, clock)
        )
        reply = StepResult(*propose(ctx, session, booking, at), "booking:time") if at else None
    elif stage is Stage.CONFIRM:
        reply = _confirm_answer(ctx, session, booking, _KEY_ANSWERS.get(keys))
    elif stage is Stage.OFFER:
        reply = _offer_answer(ctx, session, booking, _KEY_ANSWERS.get(keys))
    return reply or _misunderstood(ctx, session, booking)


def _typed_clock(keys: str) -> str | None:
    """Three or four keys as a 24-hour clock time ("930" → "9:30", "1530" → "15:30")."""
    if not (keys.isdigit() and len(keys) in (3, 4)):
        return None
    hour, minute = int(keys[:-2]), int(keys[-2:])
    return f"{hour}:{minute:02d}" if hour < 24 and minute < 60 else None


def handle_booking(ctx: Ctx, session: Session, event: Event) -> StepResult:
    """Apply a caller event to the booking in progress (``session.booking`` is set)."""
    booking = session.booking
    assert booking is not None  # the engine only routes here while booking
    match event:
        case SpeechRecognized():
            return _words(ctx, session, booking, event)
        case DigitsPressed(digits=digits):
            return _keys(ctx, session, booking, digits)
    return _silence(ctx, session, booking)
