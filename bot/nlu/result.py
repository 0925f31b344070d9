"""What natural-language understanding returns, and the protocol every NLU backend meets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

#: Rasa's FallbackClassifier puts this at the top of the ranking when it is unsure.
FALLBACK_INTENT = "nlu_fallback"
#: The flow's intent for requests the line does not handle (weather, sport, ...): learnt like
#: any other so off-topic callers score low elsewhere, but never routed with confidence.
OUT_OF_SCOPE_INTENT = "out_of_scope"


@dataclass(frozen=True)
class IntentScore:
    """One intent of the ranking."""

    name: str
    confidence: float


@dataclass(frozen=True)
class Entity:
    """A value found in the utterance, such as ``account_number`` = ``12345678``."""

    name: str
    value: str
    start: int | None = None
    end: int | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class NLUResult:
    """An utterance understood: the best intent, the full ranking and the entities.

    ``intent`` is the best real intent (never ``nlu_fallback``); ``fallback`` says the
    classifier itself judged the result too uncertain. The engine applies the flow's own
    threshold and margin to ``ranking``.
    """

    text: str
    intent: str | None
    confidence: float
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    fallback: bool = False
    latency_ms: float | None = field(default=None, compare=False)

    @property
    def margin(self) -> float:
        """Gap between the two best real intents (1.0 when there is only one)."""
        scores = [s.confidence for s in self.ranking if s.name != FALLBACK_INTENT]
        if len(scores) < 2:
            return 1.0
        return scores[0] - scores[1]


class NLUUnavailable(Exception):
    """The NLU service did not answer in time, or answered with an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NLU(Protocol):
    """Anything that turns an utterance into an :class:`NLUResult`."""

    def parse(self, text: str) -> NLUResult:
        """Understand ``text``; raise :class:`NLUUnavailable` when the service fails."""
        ...
