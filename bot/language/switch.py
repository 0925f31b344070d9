"""Noticing, from one turn's words, that a caller wants (or speaks) another of the line's languages.

    switch = detect_switch("can we speak czech", "en", ("en", "cs"), identifier)
    switch.language, switch.asked      # ("cs", True): say the question again, in Czech

Two signals, both offline and cheap:

* **asked**: a short turn naming a language ("English please", "mluvíte česky?",
  "po polsku proszę", "vai varam runāt latviski?"), in any of the four languages. The words
  are a small table of language names as each language says them, folded (no diacritics), so
  "cesky" and "česky" both count.
* **answered**: the turn is confidently in another of the line's languages (the
  :class:`~bot.language.identify.LanguageIdentifier` trained on the flow). The caller simply
  went on in their own language; the turn is understood in it, nothing is asked again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.language.identify import LanguageIdentifier
from bot.text import fold

#: A turn asking for a language is short; a longer one naming a language is about something else.
MAX_REQUEST_WORDS = 10
#: A language named in more words than this must come with a word about speaking or language:
#: "english please" asks, "roaming charges in the czech republic" does not.
BARE_REQUEST_WORDS = 3
#: Folded word beginnings that make a turn naming a language a request to speak it.
SPEAKING_WORDS = ("speak", "talk", "language", "please", "option", "mluv", "hovor", "jazyk",
                  "prosim", "mow", "rozmaw", "przejs", "jezyk", "prosz", "run", "valod",
                  "ludz")  # fmt: skip
#: An answer in another language needs this many words and this much certainty: "ok", "ne",
#: "tak" and "ano" are shared or ambiguous and must never switch a call.
MIN_ANSWER_WORDS = 3
MIN_ANSWER_PROBABILITY = 0.97

#: Folded ways of saying "in <language>" ("po polsku", "česky", "v angličtině", "latviski"):
#: a short turn with one of these asks for the language.
IN_LANGUAGE: Mapping[str, tuple[str, ...]] = {
    "en": ("anglicky", "anglictin", "angielsku", "angliski", "anglu valod", "angl valod"),
    "cs": ("cesky", "cestin", "czesku", "cehiski", "cehu valod", "cesu valod"),
    "pl": ("polsky", "polstin", "polsku", "poliski", "polu valod", "pol valod"),
    "lv": ("lotyssky", "lotystin", "lotewsku", "latviski", "latviesu"),
}  # fmt: skip
#: Folded names of a language that are also adjectives ("the czech republic", "polish
#: sausage"): they ask for the language in a very short turn or beside a word about speaking.
LANGUAGE_NAMES: Mapping[str, tuple[str, ...]] = {
    "en": ("english", "angielski", "anglick"),
    "cs": ("czech", "speak check", "czeski", "cesk"),
    "pl": ("polish", "polski", "polsk"),
    "lv": ("latvian", "lotewski", "lotysk", "latvies"),
}  # fmt: skip


@dataclass(frozen=True)
class Switch:
    """Go on in ``language``; ``asked`` means the caller asked, so the question is said again."""

    language: str
    asked: bool


def detect_switch(
    text: str,
    current: str,
    languages: tuple[str, ...],
    identifier: LanguageIdentifier | None = None,
    *,
    understood: bool = True,
) -> Switch | None:
    """The switch ``text`` calls for, or ``None`` to stay in ``current``.

    ``understood``: the words were understood with confidence as something the line handles.
    Only then does an answer in another language switch the call: an off-topic line is often
    misjudged (its words are not the line's), and it gets a person anyway.
    """
    if len(languages) < 2:
        return None
    asked = requested_language(text, current)
    if asked is not None:
        return Switch(asked, True) if asked in languages else None
    if not understood or identifier is None or len(fold(text).split()) < MIN_ANSWER_WORDS:
        return None
    guess = identifier.identify(text)
    if guess is None or guess.language == current or guess.language not in languages:
        return None
    return Switch(guess.language, False) if guess.probability >= MIN_ANSWER_PROBABILITY else None


def requested_language(text: str, current: str) -> str | None:
    """The one language other than ``current`` a short turn asks for, if there is exactly one.

    "my english isn't good, can we speak polish" names two: the one not spoken yet is wanted.
    """
    words = fold(text).split()
    if not words or len(words) > MAX_REQUEST_WORDS:
        return None
    speaking = len(words) <= BARE_REQUEST_WORDS or any(
        word.startswith(SPEAKING_WORDS) for word in words
    )
    folded = " " + " ".join(words) + " "
    named = {
        language
        for language in IN_LANGUAGE
        if language != current
        and (
            _mentions(folded, IN_LANGUAGE[language])
            or (speaking and _mentions(folded, LANGUAGE_NAMES[language]))
        )
    }
    return named.pop() if len(named) == 1 else None


def _mentions(folded: str, stems: tuple[str, ...]) -> bool:
    return any(f" {stem}" in folded for stem in stems)
