"""Czech, Polish and Latvian callback times in the English the reader knows.

:mod:`bot.callback_time.words` reads English; an answer in another language is translated
first, folded: phrases ("co nejdřív" -> "asap", "v půl třetí" -> "at half past two", "pēc
trijiem" -> "after three", "pēc stundas" -> "in an hour"), then word by word ("zítra" ->
"tomorrow"). Rules write their English in capitals so that no later rule reads it as a word of
the language again (Polish "ten" is "this", English "ten" is 10); the result is lower-cased.

Hours are said differently in each: Czech with cardinals after "v" ("ve tři", "v patnáct") and
feminine ordinals after other prepositions ("po třetí", "kolem páté"; "půl třetí" is 2:30);
Polish with feminine ordinals ("o piętnastej", "po trzeciej"; "wpół do czwartej" is 3:30);
Latvian with the locative of the cardinal ("trijos", "pulksten desmitos"; "pusčetros" is 3:30)
and its dative after prepositions ("pēc trijiem", "līdz pieciem").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.callback_time.foreign_words import (
    CALENDAR,
    DAY_ORDINALS,
    DAY_TENS,
    HOUR_ORDINALS,
    LATVIAN_LOCATIVES,
    NUMBERS,
    PHRASES,
    UNITS,
    WORDS,
)

_Replace = str | Callable[[re.Match[str]], str]
_Rule = tuple[str, _Replace]
_EN = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
       "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
       "eighteen", "nineteen")  # fmt: skip
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty"}
_EN_ORDINALS = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                "sixteenth", "seventeenth", "eighteenth", "nineteenth")  # fmt: skip
_EN_TENTHS = {20: "twentieth", 30: "thirtieth"}
_UNIT_NAMES = {"hour": ("an hour", "hours"), "minute": ("a minute", "minutes"),
               "day": ("a day", "days"), "week": ("a week", "weeks")}  # fmt: skip
_WORD = re.compile(r"[a-z]+")


def english(value: int) -> str:
    """``value`` in the reader's English: 0 "oh" ("ten oh five"), 1-59 words, else digits."""
    if value < 20:
        return _EN[value]
    if value < 60:
        tens, unit = _EN_TENS[value - value % 10], value % 10
        return f"{tens} {_EN[unit]}" if unit else tens
    return str(value)


def _ordinal(value: int) -> str:
    """A day of the month in English: "the eighth", "the twentieth"."""
    return "the " + (_EN_ORDINALS[value] if value < 20 else _EN_TENTHS[value])


def _any(words: Mapping[str, object]) -> str:
    """An alternation of ``words``, longest first (so "trijiem" is not read as "tri")."""
    return "|".join(sorted(words, key=len, reverse=True))


def _up(value: int) -> str:
    return english(value).upper()


def _half_past(hour: int) -> str:
    """Half an hour before ``hour`` ("půl třetí" is 2:30; "půl jedné" and "pusvienos" 12:30)."""
    return f"AT HALF PAST {_up(hour - 1 or 12)}"


def _durations(language: str) -> _Rule:
    """A number and a unit ("dvě hodiny", "pēc trim stundām") -> "two hours"."""
    numbers = NUMBERS[language]
    units = {form: name for name, forms in UNITS[language].items() for form in forms}

    def counted(match: re.Match[str]) -> str:
        value = int(match[1]) if match[1].isdigit() else numbers[match[1]]
        half = " AND A HALF" if match[2] else ""  # "dvě a půl hodiny", "dwie i pół godziny"
        return f"{_up(value)}{half} {_UNIT_NAMES[units[match[3]]][1].upper()}"

    return rf"\b({_any(numbers)}|\d+)( a pul| i pol| un pus)? ({_any(units)})\b", counted


def _common(language: str) -> list[_Rule]:
    """Durations, then the language's phrases, then days of the month."""
    days, tens = DAY_ORDINALS[language], DAY_TENS[language]
    units = {word: value for word, value in days.items() if value < 10}

    def day(match: re.Match[str]) -> str:
        if match[1] is not None:  # "dvacátého osmého": the twenty eighth
            return f"THE {_EN_TENS[tens[match[1]]]} {_EN_ORDINALS[units[match[2]]]}".upper()
        return _ordinal(days[match[3]]).upper()

    return [
        _durations(language),
        *((rf"\b(?:{pattern})\b", english.upper()) for pattern, english in PHRASES[language]),
        (rf"\b(?:({_any(tens)}) ({_any(units)})|({_any(days)}))\b", day),
    ]


def _hours(language: str, prepositions: Mapping[str, str]) -> _Rule:
    """A preposition and an hour ordinal ("po třetí", "o piętnastej") -> "po THREE"."""
    hours = HOUR_ORDINALS[language]

    def hour(match: re.Match[str]) -> str:
        return f"{prepositions.get(match[1], match[1])} {_up(hours[match[2]])}"

    words = "|".join(prepositions)
    return rf"\b({words}) ({_any(hours)})\b(?: hodin(?:e|ou|y|u))?", hour


def _czech() -> list[_Rule]:
    numbers, hours = NUMBERS["cs"], HOUR_ORDINALS["cs"]
    clock = _any({word: value for word, value in numbers.items() if 1 <= value <= 12})
    return [
        # "v pět hodin", "kolem tří hodin" are o'clock ("za pět hodin" is a duration)
        (rf"\b(ve?|kolem|okolo|od|do) ({_any(numbers)}|\d{{1,2}}) hodin[uy]?\b", r"\1 \2 OCLOCK"),
        *_common("cs"),
        (rf"\b(?:ve? )?tri ctvrte na ({clock})\b", lambda m: f"AT QUARTER TO {_up(numbers[m[1]])}"),
        (rf"\b(?:ve? )?ctvrt na ({clock})\b",
         lambda m: f"AT QUARTER PAST {_up(numbers[m[1]] - 1 or 12)}"),
        (rf"\b(?:ve? )?pul ({_any(hours)})\b", lambda m: _half_past(hours[m[1]])),
        _hours("cs", {"po": "po", "pred": "pred", "kolem": "kolem", "okolo": "okolo", "od": "od",
                      "do": "do", "na": "AT", "ke": "AROUND", "k": "AROUND", "mezi": "mezi",
                      "a": "a"}),
    ]  # fmt: skip


def _polish() -> list[_Rule]:
    numbers, hours = NUMBERS["pl"], HOUR_ORDINALS["pl"]

    def to(match: re.Match[str]) -> str:  # "za kwadrans czwarta" 3:45, "za pięć trzecia" 2:55
        minutes = "QUARTER" if match[1] == "kwadrans" else _up(numbers[match[1]])
        return f"{minutes} TO {_up(hours[match[2]])}"

    return [
        (r"\bgodzinie\b ?", ""),  # "o godzinie piętnastej"
        *_common("pl"),
        (rf"\b(?:o )?w ?pol do ({_any(hours)})\b", lambda m: _half_past(hours[m[1]])),
        (rf"\bza (kwadrans|{_any(numbers)}) ({_any(hours)})\b", to),
        (r"\bza kwadrans\b", "IN A QUARTER OF AN HOUR"),
        _hours("pl", {"o": "o", "po": "po", "przed": "przed", "okolo": "okolo", "kolo": "kolo",
                      "od": "od", "do": "do", "na": "AT", "miedzy": "miedzy", "a": "a"}),
    ]  # fmt: skip


def _latvian() -> list[_Rule]:
    numbers, at = NUMBERS["lv"], LATVIAN_LOCATIVES
    return [
        *_common("lv"),
        (rf"\bpus({_any(at)})\b", lambda m: _half_past(at[m[1]])),
        # "pēc" is "after" before a time ("pēc trijiem"), "in" before a duration ("pēc stundas":
        # durations are already English, in capitals)
        (rf"\bpec(?= (?:{_any(numbers)}|\d+|pulksten|plkst)\b(?! [A-Z]))", "AFTER"),
    ]


def _words(language: str) -> dict[str, str]:
    """Single words into English: numbers, days and months, units alone, prepositions."""
    found = {word: english(value) for word, value in NUMBERS[language].items()}
    if language == "pl":  # Polish hours stand alone too: "jutro piętnasta"
        found |= {word: english(v) for word, v in HOUR_ORDINALS["pl"].items() if v > 2}
    if language == "lv":
        found |= {word: "at " + english(value) for word, value in LATVIAN_LOCATIVES.items()}
    found |= {word: _ordinal(value) for word, value in DAY_ORDINALS[language].items()}
    found |= {word: name for name, forms in CALENDAR[language].items() for word in forms}
    for name, forms in UNITS[language].items():
        found |= dict.fromkeys(forms, _UNIT_NAMES[name][0])  # alone: "za hodinu" in an hour
    return found | dict(WORDS[language])


_RULES = {
    language: [(re.compile(pattern), replace) for pattern, replace in rules()]
    for language, rules in (("cs", _czech), ("pl", _polish), ("lv", _latvian))
}
_WORDS = {language: _words(language) for language in _RULES}


def translate(folded: str, language: str) -> str:
    """Folded Czech, Polish or Latvian ``folded`` in the reader's English (others unchanged)."""
    if language not in _RULES:
        return folded
    for pattern, replace in _RULES[language]:
        folded = pattern.sub(replace, folded)
    words = _WORDS[language]
    return _WORD.sub(lambda match: words.get(match[0], match[0]), folded).lower()
