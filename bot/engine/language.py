"""A caller who asks for another language, or simply speaks one, mid-call.

The switch costs at most one turn and loses nothing: the session keeps its step and slots and
only its ``language`` changes. Asked ("can we speak Czech?"): the question is said again in the
new language. Answered in another language: the same words are understood in it at once (the
NLU model is shared by the line's languages), so no turn is lost at all.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from bot.engine.base import Ctx, StepResult, is_confident
from bot.engine.booking import ask_again
from bot.engine.events import SpeechRecognized
from bot.engine.session import Session
from bot.engine.steps import ask, listening_step
from bot.flow.model import Flow
from bot.language import LanguageIdentifier, Switch, detect_switch

_cache_lock = threading.Lock()
_cached: tuple[Flow, LanguageIdentifier] | None = None


def identifier_for(flow: Flow) -> LanguageIdentifier:
    """The identifier learnt from ``flow``, built once per loaded flow (flows rarely change)."""
    global _cached
    with _cache_lock:
        if _cached is None or _cached[0] is not flow:
            _cached = (flow, LanguageIdentifier.from_flow(flow))
        return _cached[1]


def heard_switch(ctx: Ctx, session: Session, event: SpeechRecognized) -> Switch | None:
    """The switch the caller's words call for, when the flow allows switching by speech."""
    flow = ctx.flow
    if not flow.language_choice.switch_by_speech or len(flow.languages) < 2:
        return None
    understood = event.nlu is not None and is_confident(event.nlu, flow)
    identifier = identifier_for(flow)
    return detect_switch(
        event.text, session.language, flow.languages, identifier, understood=understood
    )


def ask_in_new_language(ctx: Ctx, session: Session) -> StepResult | None:
    """Say the current question again, in the session's (new) language, and listen."""
    decision = f"language:{session.language}"
    fresh = replace(session, last_prompts=())  # the remembered ones are in the old language
    if session.booking is not None:
        return StepResult(*ask_again(ctx, fresh), decision)
    step = listening_step(ctx, session)
    if step is None:
        return None
    return StepResult(*ask(ctx, fresh, step), decision)
