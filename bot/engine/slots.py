"""Value extraction: turn what a caller said (or pressed) into a slot value, locally.

These run without NLU on purpose: when Rasa is down a caller can still give an account
number or say "yes". Every function returns ``None`` when nothing usable was found.
Values are stored as strings: digits as ``"44125555"``, yes/no as ``"yes"``/``"no"``,
date-times as ISO 8601 with offset, text as said.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import dateparser

from bot.flow.model import Slot, SlotType
from bot.text import fold

YES = "yes"
NO = "no"

_DIGIT_WORDS: dict[str, dict[str, str]] = {
    "en": {"zero": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
           "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"},
    "cs": {"nula": "0", "jedna": "1", "jeden": "1", "jedno": "1", "dva": "2", "dve": "2",
           "tri": "3", "ctyri": "4", "pet": "5", "sest": "6", "sedm": "7", "osm": "8",
           "devet": "9"},
    "pl": {"zero": "0", "jeden": "1", "jedna": "1", "dwa": "2", "dwie": "2", "trzy": "3",
           "cztery": "4", "piec": "5", "szesc": "6", "siedem": "7", "osiem": "8",
           "dziewiec": "9"},
    "lv": {"nulle": "0", "viens": "1", "viena": "1", "divi": "2", "divas": "2", "tris": "3",
           "cetri": "4", "cetras": "4", "pieci": "5", "piecas": "5", "sesi": "6", "sesas": "6",
           "septini": "7", "septinas": "7", "astoni": "8", "astonas": "8", "devini": "9",
           "devinas": "9"},
}  # fmt: skip
# "oh" is zero only next to other digits, so "oh, it's 4 4 1 2" does not gain a leading 0.
_OH = frozenset({"oh", "o"})
_REPEATS = {"double": 2, "triple": 3}

_YES_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay",
                     "absolutely", "definitely", "affirmative", "please"}),
    "cs": frozenset({"ano", "jo", "jasne", "spravne", "urcite", "souhlasi", "presne"}),
    "pl": frozenset({"tak", "jasne", "dobrze", "zgadza", "oczywiscie", "poprawnie"}),
    "lv": frozenset({"ja", "jaa", "protams", "pareizi", "labi", "noteikti"}),
}  # fmt: skip
_NO_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "nope", "nah", "wrong", "incorrect", "negative"}),
    "cs": frozenset({"ne", "nikoliv", "spatne", "nesouhlasi", "nespravne"}),
    "pl": frozenset({"nie", "zle", "niepoprawnie"}),
    "lv": frozenset({"ne", "nee", "nav", "nepareizi"}),
}
# A yes-word right after one of these means no: "that's not right", "nie tak".
_NEGATORS = frozenset({"not", "ne", "nie", "nav"})

# Hour words for times ("tomorrow at three"); dateparser only understands digits there.
_HOUR_WORDS: dict[str, str] = {
    **{w: d for w, d in _DIGIT_WORDS["en"].items() if d != "0"},
    "ten": "10", "eleven": "11", "twelve": "12", "noon": "12",
    "jednu": "1", "dve": "2", "tri": "3", "ctyri": "4", "pet": "5", "sest": "6", "sedm": "7",
    "osm": "8", "devet": "9", "deset": "10", "jedenact": "11", "dvanact": "12",
}  # fmt: skip
_AT_HOUR = re.compile(
    r"\b(?:at|after|around|about|by|from|v|ve|o|plkst\.?|pec)\s+(\d{1,2})(?::(\d{2}))?\b"
    r"(?!\s*(?:am|pm|a\.m|p\.m))",
)
_WORD = re.compile(r"[^\W_]+|\d+", re.UNICODE)


def words(text: str) -> list[str]:
    """The folded words of ``text``; digit runs stay whole ("44-12" gives "44", "12")."""
    return _WORD.findall(fold(text))


def extract_digits(text: str, language: str) -> str | None:
    """Spoken or written digits in ``text``: "four four one two", "double five", "oh", "4412".

    Number words zero..nine of the call's language (English ones always work too) and digit
    strings count; other words are ignored. ``double``/``triple`` repeat the next digit.
    """
    table = {**_DIGIT_WORDS["en"], **_DIGIT_WORDS.get(language, {})}
    tokens = words(text)

    def digit(i: int) -> str | None:
        if 0 <= i < len(tokens):
            token = tokens[i]
            if token.isdigit():
                return token
            return table.get(token)
        return None

    out: list[str] = []
    repeat = 1
    for i, token in enumerate(tokens):
        value = digit(i)
        if value is None and token in _OH and (digit(i - 1) or digit(i + 1)):
            value = "0"
        if value is None:
            repeat = _REPEATS.get(token, 1)
            continue
        out.append(value[0] * repeat + value[1:])
        repeat = 1
    return "".join(out) or None


def valid_digits(value: str, slot: Slot) -> bool:
    """Whether ``value`` is all digits and within the slot's length limits."""
    if not value.isdigit():
        return False
    if slot.min_length is not None and len(value) < slot.min_length:
        return False
    return slot.max_length is None or len(value) <= slot.max_length


def extract_yes_no(text: str, language: str) -> str | None:
    """``"yes"``/``"no"`` from yes/no words of the language (or English); ``None`` if unclear."""
    yes = _YES_WORDS["en"] | _YES_WORDS.get(language, frozenset())
    no = _NO_WORDS["en"] | _NO_WORDS.get(language, frozenset())
    found: set[str] = set()
    tokens = words(text)
    for i, token in enumerate(tokens):
        if token in yes:
            negated = i > 0 and tokens[i - 1] in _NEGATORS
            found.add(NO if negated else YES)
        elif token in no:
            found.add(NO)
    return found.pop() if len(found) == 1 else None


def _normalise_time(text: str) -> str:
    """Rewrite "at three" as "15:00" so dateparser can read it.

    A bare hour from 1 to 7 means the afternoon: callers book callbacks in business hours.
    """
    folded = " ".join(_HOUR_WORDS.get(w, w) for w in fold(text).split())

    def hour(match: re.Match[str]) -> str:
        h, minutes = int(match.group(1)), match.group(2) or "00"
        if 1 <= h <= 7:
            h += 12
        return f" {h:02d}:{minutes}" if h < 24 else match.group(0)

    return _AT_HOUR.sub(hour, folded)


def extract_datetime(text: str, language: str, now: datetime, timezone: str) -> str | None:
    """A future moment in ``text`` ("tomorrow at three"), as ISO 8601 with offset.

    Resolved relative to ``now`` in the flow's time zone; times in the past are rejected.
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    settings = {
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    for candidate in (_normalise_time(text), text):
        try:
            parsed = dateparser.parse(candidate, languages=[language], settings=settings)
        except Exception:  # a parser bug must not end a call: treat it as no value
            parsed = None
        if parsed is not None:
            moment = parsed.replace(tzinfo=zone)
            return moment.isoformat() if moment > local_now else None
    return None


def extract_value(slot: Slot, text: str, language: str, now: datetime, timezone: str) -> str | None:
    """The value for ``slot`` in ``text``, validated; ``None`` when there is none."""
    match slot.type:
        case SlotType.DIGITS:
            digits = extract_digits(text, language)
            return digits if digits is not None and valid_digits(digits, slot) else None
        case SlotType.YES_NO:
            return extract_yes_no(text, language)
        case SlotType.DATETIME:
            return extract_datetime(text, language, now, timezone)
        case SlotType.TEXT:
            return text.strip() or None
    return None
