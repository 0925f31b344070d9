"""What the engine does with words: local values, global intents, routing, clarifying.

The order matters and is a product decision (see ``handle_speech``): local extraction first so
a caller can still give digits or a yes when NLU is down; global intents before a free-text
slot swallows "I want a person"; unsure results get one clarifying question, then a person.
"""

from __future__ import annotations

from dataclasses import replace

from bot.engine.base import Ctx, StepResult, is_confident, ranked_intents, top_intent
from bot.engine.booking import start_callback
from bot.engine.events import SpeechRecognized
from bot.engine.handover import technical_problem, to_person
from bot.engine.prompts import join_options
from bot.engine.session import Session
from bot.engine.slots import NO, YES, extract_value, extract_yes_no, words
from bot.engine.steps import ListeningStep, ask, enter, listen_for, repeat
from bot.flow.model import AskStep, CollectStep, ConfirmStep, GlobalAction, Slot, SlotType
from bot.nlu.result import NLUResult

AFFIRM, DENY = "affirm", "deny"
#: Digit slots at least this long are taken from any utterance; shorter runs could be
#: amounts, dates or times ("two pounds", "at five") rather than an identifier.
PREFILL_MIN_DIGITS = 6


def spoken_value(ctx: Ctx, session: Session, slot: Slot, text: str) -> str | None:
    """A validated value for ``slot`` from ``text`` (in the call's language and time zone)."""
    tz = ctx.flow.business_hours.timezone
    return extract_value(slot, text, session.language, ctx.now, tz)


def misunderstood(ctx: Ctx, session: Session, step: ListeningStep) -> StepResult:
    """Count a misunderstanding: ask again, or hand over when the step's limit is reached."""
    count = session.misunderstandings + 1
    session = replace(session, misunderstandings=count, pending_options=())
    if count >= ctx.flow.escalation.misunderstandings_before_person:
        return StepResult(*to_person(ctx, session, "low_confidence"), "misunderstood")
    sorry = ctx.system(session, "not_understood")
    return StepResult(*ask(ctx, session, step, [sorry], again=True), "misunderstood")


def _local(
    ctx: Ctx, session: Session, step: ListeningStep, event: SpeechRecognized
) -> StepResult | None:
    """Fill a digits/yes-no/date-time slot or answer a confirm without NLU, if the words do."""
    if isinstance(step, ConfirmStep):
        answer = _yes_no(ctx, session, event)
        if answer is None:
            return None
        target = step.yes if answer == YES else step.no
        return StepResult(*enter(ctx, session, target), f"confirm:{answer}")
    if not isinstance(step, CollectStep):
        return None
    slot = ctx.flow.slots.get(step.slot)
    if slot is None or slot.type is SlotType.TEXT:
        return None
    if slot.type is SlotType.YES_NO:
        value = _yes_no(ctx, session, event)
    else:
        value = spoken_value(ctx, session, slot, event.text)
    if value is None:
        return None
    return StepResult(
        *enter(ctx, session.with_slot(slot.name, value), step.next), f"slot:{slot.name}"
    )


def yes_no(ctx: Ctx, text: str, nlu: NLUResult | None, language: str) -> str | None:
    """Yes/no from the words, else from a confident ``affirm``/``deny`` intent."""
    answer = extract_yes_no(text, language)
    if answer is None and nlu is not None and is_confident(nlu, ctx.flow):
        answer = {AFFIRM: YES, DENY: NO}.get(top_intent(nlu)[0] or "")
    return answer


def _yes_no(ctx: Ctx, session: Session, event: SpeechRecognized) -> str | None:
    return yes_no(ctx, event.text, event.nlu, session.language)


def _global(ctx: Ctx, session: Session, step: ListeningStep, nlu: NLUResult) -> StepResult | None:
    """Honour a confident global intent (person, repeat, help, goto, callback), else ``None``."""
    name = top_intent(nlu)[0]
    rule = ctx.flow.global_intents.get(name or "")
    if rule is None or not is_confident(nlu, ctx.flow):
        return None
    decision = f"global:{rule.action}"
    match rule.action:
        case GlobalAction.PERSON:
            return StepResult(*to_person(ctx, session, "asked_for_person"), decision)
        case GlobalAction.REPEAT:
            return StepResult(*repeat(ctx, session, step), decision)
        case GlobalAction.HELP:
            help_say = [ctx.say(session, rule.prompt)] if rule.prompt else []
            session = replace(session, pending_options=())
            return StepResult(*ask(ctx, session, step, help_say), decision)
        case GlobalAction.GOTO if rule.target:
            return StepResult(*enter(ctx, session, rule.target), f"{decision}:{rule.target}")
        case GlobalAction.CALLBACK if not (isinstance(step, AskStep) and name in step.routes):
            # A question that routes the intent itself keeps its own callback step.
            queue = ctx.flow.escalation.person_queue
            return StepResult(*start_callback(ctx, session, queue, "caller_request"), decision)
    return None


def _fill_entities(ctx: Ctx, session: Session, nlu: NLUResult) -> Session:
    """Keep entities that name a declared slot and hold a valid value for it.

    Long digit slots (account numbers) are also filled from digits spoken as words, which
    Rasa rarely tags: a caller who says the number up front is not asked for it again.
    """
    for entity in nlu.entities:
        slot = ctx.flow.slots.get(entity.name)
        if slot is None:
            continue
        value = spoken_value(ctx, session, slot, entity.value)
        if value is not None:
            session = session.with_slot(slot.name, value)
    for slot in ctx.flow.slots.values():
        if (
            slot.type is SlotType.DIGITS
            and slot.name not in session.slots
            and (slot.min_length or 0) >= PREFILL_MIN_DIGITS
        ):
            value = spoken_value(ctx, session, slot, nlu.text)
            if value is not None:
                session = session.with_slot(slot.name, value)
    return session


def _route(ctx: Ctx, session: Session, step: AskStep, intent: str, nlu: NLUResult) -> StepResult:
    """Go where ``intent`` leads from ``step``, keeping what the utterance told us."""
    session = replace(_fill_entities(ctx, session, nlu), last_intent=intent)
    target = step.routes[intent]
    return StepResult(*enter(ctx, session, target), f"route:{target}")


def _clarify(ctx: Ctx, session: Session, step: AskStep, nlu: NLUResult) -> StepResult | None:
    """Ask "did you mean A or B?" when allowed and the ranking has routable candidates."""
    if session.clarifications >= ctx.flow.escalation.clarifying_questions:
        return None
    options = tuple(name for name in ranked_intents(nlu) if name in step.routes)[:2]
    if not options:
        return None
    labels = [_label(ctx, session, name) for name in options]
    question = ctx.system(session, "clarify", {"options": join_options(labels, session.language)})
    session = replace(
        session,
        clarifications=session.clarifications + 1,
        pending_options=options,
        last_prompts=(question,),
    )
    return StepResult(session, [question, listen_for(ctx, step)], "clarify")


def _label(ctx: Ctx, session: Session, intent: str) -> str:
    """How the caller hears ``intent`` named, in the call's language."""
    found = ctx.flow.intents.get(intent)
    labels = found.label if found else {}
    return ctx.flow.in_language(labels, session.language) or intent


def _by_words(ctx: Ctx, session: Session, text: str) -> str | None:
    """The one pending option whose own label words the caller used, if exactly one."""
    said = set(words(text))
    label_words = {o: set(words(_label(ctx, session, o))) for o in session.pending_options}
    matches = []
    for option, own in label_words.items():
        others = set().union(*(w for o, w in label_words.items() if o != option))
        if said & (own - others):
            matches.append(option)
    return matches[0] if len(matches) == 1 else None


def _clarified(ctx: Ctx, session: Session, step: AskStep, event: SpeechRecognized) -> StepResult:
    """Answer to a clarifying question: route if the reply settles it, else a person."""
    nlu = event.nlu
    empty = NLUResult(text=event.text, intent=None, confidence=0.0)
    if nlu is not None:
        handled = _global(ctx, session, step, nlu)
        if handled is not None:
            return handled
        top = top_intent(nlu)[0] or ""
        if top in step.routes and is_confident(nlu, ctx.flow):
            return _route(ctx, session, step, top, nlu)
        if top in session.pending_options:
            return _route(ctx, session, step, top, nlu)
    choice = _by_words(ctx, session, event.text)
    only_one = len(session.pending_options) == 1
    if choice is None and only_one and _yes_no(ctx, session, event) == YES:
        choice = session.pending_options[0]
    if choice is not None:
        return _route(ctx, session, step, choice, nlu or empty)
    if nlu is None:
        return StepResult(*technical_problem(ctx, session, "nlu_unavailable"), "nlu_unavailable")
    return StepResult(*to_person(ctx, session, "low_confidence"), "clarify_failed")


def handle_speech(
    ctx: Ctx, session: Session, step: ListeningStep, event: SpeechRecognized
) -> StepResult:
    """Decide what the caller's words mean at ``step`` (see the module docstring for order)."""
    nlu = event.nlu
    if nlu is not None and is_confident(nlu, ctx.flow):
        session = replace(session, last_intent=top_intent(nlu)[0])
    if isinstance(step, AskStep) and session.pending_options:
        return _clarified(ctx, session, step, event)
    local = _local(ctx, session, step, event)
    if local is not None:
        return local
    if nlu is None:
        return StepResult(*technical_problem(ctx, session, "nlu_unavailable"), "nlu_unavailable")
    handled = _global(ctx, session, step, nlu)
    if handled is not None:
        return handled
    if isinstance(step, CollectStep):
        return _collect(ctx, session, step, event, nlu)
    if isinstance(step, ConfirmStep):
        return misunderstood(ctx, session, step)
    top = top_intent(nlu)[0] or ""
    if is_confident(nlu, ctx.flow):
        if top in step.routes:
            return _route(ctx, session, step, top, nlu)
        return misunderstood(ctx, session, step)
    return _clarify(ctx, session, step, nlu) or misunderstood(ctx, session, step)


def _collect(
    ctx: Ctx, session: Session, step: CollectStep, event: SpeechRecognized, nlu: NLUResult
) -> StepResult:
    """A collect step after global intents: free text as said, or an entity for the slot."""
    slot = ctx.flow.slots.get(step.slot)
    value: str | None = None
    if slot is not None and slot.type is SlotType.TEXT:
        value = event.text.strip() or None
    elif slot is not None:
        entity = next((e for e in nlu.entities if e.name == slot.name), None)
        value = spoken_value(ctx, session, slot, entity.value) if entity else None
    if slot is None or value is None:
        return misunderstood(ctx, session, step)
    return StepResult(
        *enter(ctx, session.with_slot(slot.name, value), step.next), f"slot:{slot.name}"
    )
