"""Which of a line's languages some words are in, learnt from the flow's own texts.

    identifier = LanguageIdentifier.from_flow(flow)
    identifier.identify("nejde mi net od rána")      # Guess("cs", 0.99)

Why not a general library: what we judge is two to ten words as speech recognition writes
them (no punctuation, diacritics often missing, the line's own vocabulary), between languages
as close as Czech and Polish. A general identifier measured on such lines was unsure about half
of them in its small mode and needs about 240 MB per process in its accurate one (see
docs/languages.md). A naive Bayes over character n-grams of the flow's examples and prompts,
in every language the line speaks, knows exactly that vocabulary, weighs kilobytes and answers
in microseconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.flow.model import Flow, without_annotations
from bot.text import fold

NGRAMS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Guess:
    """The likeliest language and its probability among the line's languages."""

    language: str
    probability: float


class LanguageIdentifier:
    """Multinomial naive Bayes over character n-grams (as written and with diacritics folded)."""

    def __init__(self, texts: Mapping[str, Iterable[str]]) -> None:
        self._counts = {language: Counter(_features(lines)) for language, lines in texts.items()}
        self._totals = {language: sum(c.values()) for language, c in self._counts.items()}
        self._vocabulary = len({g for counts in self._counts.values() for g in counts}) or 1

    @classmethod
    def from_flow(cls, flow: Flow) -> LanguageIdentifier:
        """Learn every language of ``flow`` from its intent examples and its prompts."""
        texts: dict[str, list[str]] = {language: [] for language in flow.languages}
        for intent in flow.intents.values():
            for language, lines in intent.examples.items():
                texts.setdefault(language, []).extend(map(without_annotations, lines))
        for prompt in flow.all_prompts():
            for language, text in prompt.text.items():
                texts.setdefault(language, []).append(text)
        return cls({language: lines for language, lines in texts.items() if lines})

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it can tell apart."""
        return tuple(self._counts)

    def identify(self, text: str) -> Guess | None:
        """The likeliest language of ``text``; ``None`` when it has no letters or no languages."""
        features = Counter(_features([text]))
        if not features or not self._counts:
            return None
        scores = {language: self._score(language, features) for language in self._counts}
        best = max(scores, key=lambda language: scores[language])
        # Posterior with equal priors; the shift keeps exp() from underflowing.
        top = scores[best]
        total = sum(math.exp(score - top) for score in scores.values())
        return Guess(best, 1.0 / total)

    def _score(self, language: str, features: Counter[str]) -> float:
        counts, total = self._counts[language], self._totals[language] + self._vocabulary
        return sum(n * math.log((counts.get(g, 0) + 1) / total) for g, n in features.items())


def _features(lines: Iterable[str]) -> Iterable[str]:
    """Character n-grams of each word with diacritics folded (and as written, if it has any).

    A written "ř" or "ł" is strong evidence of a language; a missing one is common.
    """
    for line in lines:
        for word in line.lower().split():
            word = "".join(ch for ch in word if ch.isalpha())
            if not word:
                continue
            folded = fold(word)
            yield from _ngrams(f" {folded} ", "")
            if folded != word:
                yield from _ngrams(f" {word} ", "!")


def _ngrams(word: str, mark: str) -> Iterable[str]:
    for size in NGRAMS:
        for start in range(max(len(word) - size + 1, 0)):
            gram = word[start : start + size]
            if gram.strip():
                yield mark + gram
