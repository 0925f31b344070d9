"""Small shared pieces of the engine: the per-event context, a step's result, system prompts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from bot.engine.actions import Action, Say
from bot.engine.prompts import render
from bot.engine.session import Session
from bot.engine.slots import words
from bot.flow.model import SYSTEM_PROMPT_FALLBACKS, Flow, Prompt
from bot.nlu.result import FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, NLUResult

_EPSILON = 1e-9
#: Hesitations in the four languages (folded). A turn of these alone says nothing, however
#: confident the model is about it: the caller gets the clarifying question, not a route.
#: ("no" is English for no, "mm" half of "mm hmm": neither is here.)
FILLERS = frozenset({"erm", "um", "uh", "uhm", "umm", "er", "hmm", "hm", "eh", "ehm", "ee",
                     "eee", "yyy", "yy", "nu", "nuu", "e"})  # fmt: skip


@dataclass(frozen=True)
class Ctx:
    """What one event is handled against: the flow and the moment (the engine has no clock)."""

    flow: Flow
    now: datetime
    loop_limit: int = field(default=50)

    def say(self, session: Session, prompt: Prompt, extra: Mapping[str, str] | None = None) -> Say:
        """Render ``prompt`` for this call."""
        return render(self.flow, prompt, session.language, session.slots, extra)

    def system(self, session: Session, name: str, extra: Mapping[str, str] | None = None) -> Say:
        """Render the system prompt ``name`` (or a built-in English text if the flow lacks it)."""
        prompt = self.flow.system_prompts.get(name)
        if prompt is None:
            prompt = Prompt(
                id=f"system.{name}", text={session.language: SYSTEM_PROMPT_FALLBACKS[name]}
            )
        return self.say(session, prompt, extra)


class StepResult(NamedTuple):
    """The engine's answer to one event: the new session, the actions and a decision marker.

    (Not :class:`bot.dialogue.Reply`, which is what a caller's turn produced, NLU included.)
    """

    session: Session
    actions: list[Action]
    decision: str


def top_intent(nlu: NLUResult) -> tuple[str | None, float]:
    """The best real intent and its confidence (``nlu_fallback`` is never an answer)."""
    for score in nlu.ranking:
        if score.name != FALLBACK_INTENT:
            return score.name, score.confidence
    return nlu.intent, nlu.confidence


def ranked_intents(nlu: NLUResult) -> list[str]:
    """Intent names best first, without ``nlu_fallback`` and ``out_of_scope``."""
    names = [s.name for s in nlu.ranking if s.name not in (FALLBACK_INTENT, OUT_OF_SCOPE_INTENT)]
    if not names and nlu.intent and nlu.intent != OUT_OF_SCOPE_INTENT:
        names = [nlu.intent]
    return names


def is_confident(nlu: NLUResult, flow: Flow) -> bool:
    """The flow's own test: confidence over the threshold and a clear lead over the runner-up.

    Rasa's ``fallback`` flag is deliberately ignored; the flow's numbers decide. A request the
    flow marks ``out_of_scope`` is never confident, nor are hesitations alone ("erm um"): they
    get the clarifying question and a person.
    """
    if set(words(nlu.text)) <= FILLERS:
        return False
    name, confidence = top_intent(nlu)
    policy = flow.escalation
    # The tolerance keeps the limits inclusive despite float error (0.6 - 0.5 < 0.1).
    return (
        name is not None
        and name != OUT_OF_SCOPE_INTENT
        and confidence >= policy.confidence_threshold - _EPSILON
        and nlu.margin >= policy.margin - _EPSILON
    )
