"""Entering steps and asking their questions.

Entering a step resets its counters. ``say`` steps and filled ``collect`` steps chain on to
the next step in the same event; the chain stops at a question (which listens) or a terminal
step. A flow that chains more than ``Ctx.loop_limit`` steps is treated as broken.
"""

from __future__ import annotations

from dataclasses import replace

from bot.engine.actions import Action, Hangup, Listen, Say
from bot.engine.base import Ctx
from bot.engine.booking import start_callback
from bot.engine.handover import technical_problem, transfer
from bot.engine.session import Session, Status
from bot.flow.model import (
    AskStep,
    CallbackStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    Prompt,
    SayStep,
    Step,
    TransferStep,
)

ListeningStep = AskStep | CollectStep | ConfirmStep


def listening_step(ctx: Ctx, session: Session) -> ListeningStep | None:
    """The step the call waits at, or ``None`` if the flow no longer has a question there."""
    step = ctx.flow.steps.get(session.step_id)
    return step if isinstance(step, AskStep | CollectStep | ConfirmStep) else None


def listen_for(ctx: Ctx, step: ListeningStep) -> Listen:
    """What the transport should listen for at ``step``."""
    if isinstance(step, CollectStep):
        slot = ctx.flow.slots.get(step.slot)
        return Listen(expect=str(slot.type) if slot else "text", slot=step.slot)
    return Listen(expect="yes_no" if isinstance(step, ConfirmStep) else "intent")


def ask(
    ctx: Ctx,
    session: Session,
    step: ListeningStep,
    before: list[Say] | None = None,
    *,
    again: bool = False,
) -> tuple[Session, list[Action]]:
    """Say ``before`` then the step's question (its reprompt if ``again``) and listen.

    Only the question is remembered for ``repeat``: repeating an apology helps nobody.
    """
    prompt: Prompt = (step.reprompt if again else None) or step.prompt
    question = ctx.say(session, prompt)
    session = replace(session, last_prompts=(question,))
    return session, [*(before or []), question, listen_for(ctx, step)]


def repeat(
    ctx: Ctx, session: Session, step: ListeningStep, before: list[Say] | None = None
) -> tuple[Session, list[Action]]:
    """Say the last question again (the step's own if none was remembered) and listen."""
    if not session.last_prompts:
        return ask(ctx, session, step, before)
    return session, [*(before or []), *session.last_prompts, listen_for(ctx, step)]


def _terminal(ctx: Ctx, session: Session, step: Step) -> tuple[Session, list[Action]] | None:
    """The actions of a step that ends the bot's part, or ``None`` for other steps."""
    match step:
        case TransferStep():
            say = ctx.say(session, step.prompt) if step.prompt else None
            return transfer(
                ctx, session, step.reason, queue=step.queue, number=step.number, say=say
            )
        case CallbackStep():
            before = [ctx.say(session, step.prompt)] if step.prompt else []
            return start_callback(ctx, session, step.queue, step.reason, before)
        case EndStep():
            goodbye = ctx.say(session, step.prompt)
            ended = session.finished(Status.ENDED, "completed", ctx.now)
            return ended, [goodbye, Hangup("completed")]
    return None


def enter(
    ctx: Ctx, session: Session, step_id: str, before: list[Action] | None = None
) -> tuple[Session, list[Action]]:
    """Enter ``step_id`` and run on until the call waits for the caller or leaves the bot."""
    actions: list[Action] = list(before or [])
    for _ in range(ctx.loop_limit):
        step = ctx.flow.steps.get(step_id)
        if step is None:  # only a broken or half-reloaded flow gets here
            break
        session = session.at_step(step_id)
        match step:
            case SayStep():
                actions.append(ctx.say(session, step.prompt))
                step_id = step.next
                continue
            case CollectStep() if step.slot in session.slots:
                step_id = step.next
                continue
            case AskStep() | CollectStep() | ConfirmStep():
                session, asked = ask(ctx, session, step)
                return session, [*actions, *asked]
        finished = _terminal(ctx, session, step)
        if finished is not None:
            return finished[0], [*actions, *finished[1]]
        break
    session, trouble = technical_problem(ctx, session)
    return session, [*actions, *trouble]
