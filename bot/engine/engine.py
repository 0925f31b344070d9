"""The sans-IO conversation engine: ``(session, event, now) -> (session, actions)``.

The same ``step`` serves the phone, the simulator, outbound callbacks and the tests. It does
no IO and reads no clock. It never raises for a caller's input: anything unexpected becomes
an apology and a person, because a caller must never be left in silence.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from bot.engine.actions import Action, Hangup, describe
from bot.engine.base import Ctx, StepResult
from bot.engine.booking import ask_again, begin_pending, start_callback
from bot.engine.booking_turns import handle_booking
from bot.engine.events import (
    CallEnded,
    CallStarted,
    DigitsPressed,
    Event,
    SpeechRecognized,
)
from bot.engine.handover import technical_problem, to_person
from bot.engine.language import ask_in_new_language, heard_switch
from bot.engine.session import Session, Status, Turn, TurnKind
from bot.engine.slots import valid_digits
from bot.engine.speech import handle_speech, misunderstood
from bot.engine.steps import ListeningStep, ask, enter, listening_step, repeat
from bot.flow.model import (
    PERSON_DIGIT,
    SYSTEM_PROMPTS,
    AfterSilence,
    CollectStep,
    Flow,
    SlotType,
)

#: More steps than this entered in one event means the flow loops (say -> say -> ...).
LOOP_LIMIT = 50


class Engine:
    """Runs calls on one flow. Stateless: all call state lives in the :class:`Session`.

    Use ``session, actions = Engine(flow).start(call_id, CallStarted(...), now)``, perform the
    actions, then feed every later event to ``step`` with the session it returned.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def start(
        self, call_id: str, event: CallStarted, now: datetime
    ) -> tuple[Session, list[Action]]:
        """Begin a call: the session at the flow's start step and the first actions."""
        language = event.language
        if language not in self.flow.languages:
            language = self.flow.default_language
        session = Session(
            call_id=call_id,
            step_id=self.flow.start,
            language=language,
            started_at=now,
            caller=event.caller,
            called=event.called,
            expected_waits=MappingProxyType(dict(event.expected_waits)),
        )
        ctx = Ctx(self.flow, now, LOOP_LIMIT)
        try:
            return _opening(ctx, session, event)
        except Exception:  # the caller hears an apology, never silence
            return technical_problem(ctx, session)

    def step(self, session: Session, event: Event, now: datetime) -> tuple[Session, list[Action]]:
        """Apply one event. Calls no longer active ignore events (``CallEnded`` stamps the end)."""
        if isinstance(event, CallEnded):
            return _ended(session, now), []
        if not session.active:
            return session, []
        ctx = Ctx(self.flow, now, LOOP_LIMIT)
        if isinstance(event, CallStarted):  # a transport reconnect: ask the question again
            if session.booking is not None:
                return ask_again(ctx, session)
            step = listening_step(ctx, session)
            return repeat(ctx, session, step) if step else technical_problem(ctx, session)
        turn = _turn(session, event, now)
        session = replace(session, turns=(*session.turns, turn))
        try:
            reply = _dispatch(ctx, session, event)
        except Exception as error:  # a bug must not strand the caller; the turn records it
            reply = StepResult(*technical_problem(ctx, session), f"error:{type(error).__name__}")
        done = replace(turn, decision=reply.decision, actions=tuple(map(describe, reply.actions)))
        return replace(reply.session, turns=(*reply.session.turns[:-1], done)), reply.actions


def _opening(ctx: Ctx, session: Session, event: CallStarted) -> tuple[Session, list[Action]]:
    """The first actions: the flow's start, or a callback to book or settle first.

    ``offer``: a transfer did not connect, so booking starts at once; ``pending``: the
    caller has a callback booked and is asked to keep, change or cancel it.
    """
    if event.offer is not None:
        offer = event.offer
        known = offer.prompt in SYSTEM_PROMPTS
        before = [ctx.system(session, offer.prompt)] if offer.prompt and known else []
        return start_callback(ctx, session, offer.queue, offer.reason, before)
    if event.pending is not None:
        return begin_pending(ctx, session, event.pending)
    return enter(ctx, session, ctx.flow.start)


def _ended(session: Session, now: datetime) -> Session:
    """The caller or transport hung up. A handed-over call keeps its status and outcome."""
    if session.active:
        return session.finished(Status.ENDED, "abandoned", now)
    return session if session.ended_at else replace(session, ended_at=now)


def _turn(session: Session, event: Event, now: datetime) -> Turn:
    """The record of a caller turn, before the engine has decided anything."""
    match event:
        case SpeechRecognized(text=text, nlu=nlu):
            if nlu is None:
                return Turn(now, session.step_id, TurnKind.SPEECH, text)
            return Turn(
                now,
                session.step_id,
                TurnKind.SPEECH,
                text,
                nlu.intent,
                nlu.confidence,
                nlu.ranking,
                nlu.entities,
            )
        case DigitsPressed(digits=digits):
            return Turn(now, session.step_id, TurnKind.DIGITS, digits)
    return Turn(now, session.step_id, TurnKind.SILENCE)


def _dispatch(ctx: Ctx, session: Session, event: Event) -> StepResult:
    """Route a caller event to its handler at the current step."""
    if isinstance(event, DigitsPressed) and event.digits == PERSON_DIGIT:
        return StepResult(*to_person(ctx, session, "asked_for_person"), "digit:person")
    if isinstance(event, SpeechRecognized):
        switch = heard_switch(ctx, session, event)
        if switch is not None:
            session = replace(session, language=switch.language)
            asked = ask_in_new_language(ctx, session) if switch.asked else None
            if asked is not None:
                return asked
    if session.booking is not None:
        return handle_booking(ctx, session, event)
    step = listening_step(ctx, session)
    if step is None:  # the session points at a step the flow lacks: flow changed under us
        return StepResult(*technical_problem(ctx, session), "technical_problem")
    match event:
        case SpeechRecognized():
            return handle_speech(ctx, session, step, event)
        case DigitsPressed(digits=digits):
            return _digits(ctx, session, step, digits)
    return _silence(ctx, session, step)


def _digits(ctx: Ctx, session: Session, step: ListeningStep, digits: str) -> StepResult:
    """Keypad input fills a digits slot being collected; anywhere else it is not understood."""
    slot = ctx.flow.slots.get(step.slot) if isinstance(step, CollectStep) else None
    value = digits.rstrip("#")  # '#' is the usual "done" key, not part of the number
    is_digits = slot is not None and slot.type is SlotType.DIGITS
    if isinstance(step, CollectStep) and slot and is_digits and valid_digits(value, slot):
        filled = session.with_slot(slot.name, value)
        return StepResult(*enter(ctx, filled, step.next), f"slot:{slot.name}")
    return misunderstood(ctx, session, step)


def _silence(ctx: Ctx, session: Session, step: ListeningStep) -> StepResult:
    """Count a silence: ask again, or after too many hand over or say goodbye."""
    count = session.silences + 1
    session = replace(session, silences=count, pending_options=())
    policy = ctx.flow.escalation
    if count < policy.silences_before_person:
        return StepResult(
            *ask(ctx, session, step, [ctx.system(session, "no_input")], again=True), "silence"
        )
    if policy.after_silences is AfterSilence.PERSON:
        return StepResult(*to_person(ctx, session, "no_input"), "silence")
    goodbye = ctx.system(session, "goodbye")
    ended = session.finished(Status.ENDED, "no_input", ctx.now)
    return StepResult(ended, [goodbye, Hangup("no_input")], "silence")
