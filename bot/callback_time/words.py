"""Reading a spoken answer: English word tables and the reader (cs/pl/lv via :mod:`.foreign`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from bot.callback_time.foreign import translate
from bot.callback_time.hours import hour_before_closing, opening_time
from bot.flow.model import BusinessHours
from bot.text import NUMBER_WORDS, fold

_Span = Callable[[date, BusinessHours], tuple[time, time]]
PARTS: Mapping[str, _Span] = {
    "morning": lambda day, hours: (max(time(9), opening_time(day, hours)), time(12)),
    "lunchtime": lambda day, hours: (time(12), time(14)),
    "afternoon": lambda day, hours: (time(14), time(18)),
    "evening": lambda day, hours: (time(18), time(22)),
    "end of the day": hour_before_closing,
}
PART_MERIDIEM = {"morning": "am", "afternoon": "pm", "evening": "pm"}


# Reading the answer: words into what was said.

_NUMBERS = {word: value for word, value in NUMBER_WORDS["en"].items() if 1 <= value <= 19}
_TENS = {word: value for word, value in NUMBER_WORDS["en"].items() if value in (20, 30, 40, 50)}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
             "saturday": 5, "sunday": 6}  # fmt: skip
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_UNITS = {
    "minute": timedelta(minutes=1), "minutes": timedelta(minutes=1), "min": timedelta(minutes=1),
    "mins": timedelta(minutes=1), "hour": timedelta(hours=1), "hours": timedelta(hours=1),
    "day": timedelta(days=1), "days": timedelta(days=1), "week": timedelta(days=7),
    "weeks": timedelta(days=7),
}  # fmt: skip
_ASAP = [
    p.split()
    for p in (
        "as soon as possible", "as soon as you can", "soon as possible", "as early as possible",
        "asap", "right now", "now", "straight away", "straightaway", "right away", "immediately",
        "whenever", "any time", "anytime", "first available", "earliest", "soonest",
        "in a minute", "in a few minutes", "in a moment", "in a second", "shortly",
    )
]  # fmt: skip
_PART_WORDS = {
    "morning": "morning", "mornings": "morning", "afternoon": "afternoon",
    "evening": "evening", "night": "evening", "lunch": "lunchtime", "lunchtime": "lunchtime",
}  # fmt: skip
_END_OF_DAY = [
    p.split() for p in ("end of the day", "end of day", "end of business", "close of business")
]
_ROUGHLY = {"about", "around", "roughly", "approximately", "maybe", "like", "just", "say"}
_VAGUE = {"week", "weeks", "month", "months", "year", "years"}
_AT = {"at", "around", "about", "say", "from", "after", "for"}
_BEFORE = {"before", "by", "until", "till"}
_PAST_TO = {"past": 1, "after": 1, "to": -1, "till": -1, "before": -1, "of": -1}
_TOKEN = re.compile(r"\d{1,2}[:.]\d{2}(?!\d)|\d+(?:st|nd|rd|th)\b|\d+(?:[/-]\d+)+|\d+|[a-z]+")


def tokens(text: str, language: str) -> list[str]:
    """``text`` folded into English-rule tokens ("Zítra ve 3" -> ``["tomorrow", "at", "3"]``)."""
    folded = fold(text).replace("-", " ")
    folded = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", folded)
    folded = re.sub(r"\bo\s?'?\s?clock\b", "oclock", folded)
    folded = re.sub(r"\b(?:12|twelve) (noon|midday)\b", r"\1", folded)
    return _TOKEN.findall(translate(folded, language))


@dataclass
class Said:
    """What the reader found in the answer (filled while reading, then resolved)."""

    asap: bool = False
    past: bool = False  # "yesterday", "last ...", "ago"
    days: list[tuple[str, int]] = field(default_factory=list)  # ("offset", 1), ("weekday", 0)...
    dates: list[date | None] = field(default_factory=list)  # None: a date that does not exist
    delta: timedelta | None = None
    clock: tuple[int, int, str | None] | None = None  # hour as said, minute, "am"/"pm"/"fixed"
    before: bool = False  # "before three": the earliest moment until then
    part: str | None = None
    conflict: bool = False
    vague: bool = False  # "this week", "next month": a time too vague to book
    unread_digits: bool = False

    def set(self, name: str, value: object) -> None:
        """Record ``value``; a different value for the same thing makes the answer unclear."""
        current = getattr(self, name)
        if current is not None and current != value:
            self.conflict = True
        setattr(self, name, value)

    def found(self) -> bool:
        """Whether anything about a time was said."""
        return bool(
            self.days or self.dates or self.delta is not None or self.clock or self.part
        ) or (self.asap or self.past or self.vague)


class _Reader:
    """Reads folded tokens left to right into a :class:`Said`."""

    def __init__(self, tokens: list[str], today: date) -> None:
        self.t = tokens
        self.today = today
        self.said = Said()
        self.marker: str | None = None  # "at"/"before" waiting for its clock
        self.between = 0  # 1: "between" said, 2: its first time read, the second is ignored

    def at(self, i: int) -> str:
        return self.t[i] if i < len(self.t) else ""

    def phrase(self, i: int, words: list[str]) -> bool:
        return self.t[i : i + len(words)] == words

    def number(self, i: int) -> tuple[int, int] | None:
        """A number at ``i`` (digits, "five", "twenty five") and the index after it."""
        token = self.at(i)
        if token.isdigit():
            return int(token), i + 1
        if token in _TENS:
            unit = _NUMBERS.get(self.at(i + 1), 0)
            return (_TENS[token] + unit, i + 2) if 0 < unit < 10 else (_TENS[token], i + 1)
        if token in _NUMBERS:
            return _NUMBERS[token], i + 1
        return None

    def read(self) -> Said:
        i = 0
        while i < len(self.t):
            for rule in (self.asap, self.relative, self.date, self.day, self.part, self.clock):
                after = rule(i)
                if after is not None:
                    i = after
                    break
            else:
                token = self.t[i]
                if token == "not" and self.at(i + 1) in _BEFORE | {"after"}:
                    self.marker = "after" if self.at(i + 1) in _BEFORE else "before"
                    i += 1  # "not before three" is after three
                elif token in _AT or token in _BEFORE:
                    self.marker = token
                elif token == "between":
                    self.marker, self.between = "at", 1
                elif token in _VAGUE:
                    self.said.vague = True
                elif any(c.isdigit() for c in token):
                    self.said.unread_digits = True
                i += 1
        return self.said

    def asap(self, i: int) -> int | None:
        negated = self.t[i] == "not"
        start = i + 1 if negated else i
        for words in _ASAP:
            if self.phrase(start, words):
                self.said.asap = self.said.asap or not negated
                return start + len(words)
        return None

    def amount(self, i: int) -> tuple[float, int] | None:
        """How many units: "an", "a couple of", "half an", "a quarter of an", "two and a half"."""
        j = i + 1 if self.at(i) in ("a", "an") else i
        if self.at(j) == "half":
            return 0.5, j + 2 if self.at(j + 1) in ("a", "an") else j + 1
        if self.at(j) == "quarter":
            j += 1 + (self.at(j + 1) == "of")
            return 0.25, j + (self.at(j) in ("a", "an"))
        if self.at(j) in ("couple", "few"):
            return (2.0 if self.at(j) == "couple" else 3.0), j + 1 + (self.at(j + 1) == "of")
        if j > i:
            return 1.0, j
        number = self.number(j)
        if number is None:
            return None
        value, j = number
        if self.phrase(j, ["and", "a", "half"]):
            return value + 0.5, j + 3
        return float(value), j

    def relative(self, i: int) -> int | None:
        lead = self.at(i) in ("in", "within")
        j = i + lead
        while lead and self.at(j) in _ROUGHLY:
            j += 1
        amount = self.amount(j)
        if amount is None or self.at(amount[1]) not in _UNITS:
            return None
        value, j = amount
        unit = _UNITS[self.at(j)]
        delta = unit * value
        j += 1
        if self.phrase(j, ["and", "a", "half"]):
            delta, j = delta + unit / 2, j + 3
        elif self.at(j) == "and" and (extra := self.number(j + 1)) and self.at(extra[1]) in _UNITS:
            delta += _UNITS[self.at(extra[1])] * extra[0]  # "an hour and 20 minutes"
            j = extra[1] + 1
        sign = 1
        if self.phrase(j, ["from", "now"]):
            j += 2
        elif self.at(j) in ("later", "time") or self.phrase(j, ["s", "time"]):
            j += 1 + (self.at(j) == "s")
        elif self.at(j) == "ago":
            sign, j = -1, j + 1
            self.said.past = True
        elif not lead:
            return None
        if unit >= timedelta(days=1):
            self.said.days.append(("offset", sign * round(delta / timedelta(days=1))))
        else:
            self.said.set("delta", sign * delta)
        return j

    def date(self, i: int) -> int | None:
        """A date: "28 December", "December 28th", "the 28th of December 2026", "the 28th"."""
        j = i + (self.at(i) == "the")
        day = self.ordinal(j)
        if day is not None:
            value, j = day
            j += self.at(j) == "of"
            if self.at(j) in _MONTHS:
                return self.dated(value, _MONTHS[self.at(j)], j + 1)
            if self.t[i] == "the" or self.t[i][0].isdigit():  # "the 28th", "28th"
                return self.dated(value, None, j)
            return None
        if self.at(i) in _MONTHS:
            number = self.ordinal(i + 1 + (self.at(i + 1) == "the"))
            if number is not None:
                return self.dated(number[0], _MONTHS[self.at(i)], number[1])
        number = self.number(i)
        if number and self.at(i).isdigit():
            k = number[1] + (self.at(number[1]) == "of")
            if self.at(k) in _MONTHS:
                return self.dated(number[0], _MONTHS[self.at(k)], k + 1)
        return None

    def ordinal(self, i: int) -> tuple[int, int] | None:
        token = self.at(i)
        if re.fullmatch(r"\d+(?:st|nd|rd|th)", token):
            return int(token[:-2]), i + 1
        if token in _TENS and self.at(i + 1) in _ORDINALS and _ORDINALS[self.at(i + 1)] < 10:
            return _TENS[token] + _ORDINALS[self.at(i + 1)], i + 2
        if token in _ORDINALS:
            return _ORDINALS[token], i + 1
        if token.isdigit() and self.at(i + 1) in _MONTHS:
            return int(token), i + 1
        return None

    def dated(self, day: int, month: int | None, j: int) -> int:
        year: int | None = None
        if re.fullmatch(r"\d{4}", self.at(j)):
            year, j = int(self.at(j)), j + 1
        self.said.dates.append(calendar_date(self.today, day, month, year))
        return j

    def day(self, i: int) -> int | None:
        token, said = self.t[i], self.said
        if self.phrase(i, ["day", "after", "tomorrow"]):
            said.days.append(("offset", 2))
            return i + 3
        if token in ("today", "tonight"):
            said.days.append(("offset", 0))
            if token == "tonight":
                said.set("part", "evening")
            return i + 1
        if token in ("tomorrow", "tomorrows", "tmrw"):
            said.days.append(("offset", 1))
            return i + 1
        if token == "yesterday":
            said.past = True
            said.days.append(("offset", -1))
            return i + 1
        nxt = self.at(i + 1)
        if token == "this" and nxt in _WEEKDAYS:
            said.days.append(("this", _WEEKDAYS[nxt]))
            return i + 2
        if token == "this" and nxt in _PART_WORDS:
            said.days.append(("offset", 0))
            return i + 1
        if token == "next" and nxt in _WEEKDAYS:
            said.days.append(("weekday", _WEEKDAYS[nxt]))
            return i + 2
        if token == "last" and (nxt in _WEEKDAYS or nxt in ("week", "night", "month")):
            said.past = True
            if nxt in _WEEKDAYS:
                said.days.append(("last", _WEEKDAYS[nxt]))
            return i + 2
        if token == "next" and nxt == "week":
            said.days.append(("next week", -1))
            return i + 2
        if token in _WEEKDAYS:
            said.days.append(("weekday", _WEEKDAYS[token]))
            return i + 1
        if token == "weekend":
            said.days.append(("weekday", 5))
            return i + 1
        return None

    def part(self, i: int) -> int | None:
        token = self.t[i]
        for words in _END_OF_DAY:
            if self.phrase(i, words):
                self.said.set("part", "end of the day")
                return i + len(words)
        if self.phrase(i, ["first", "thing"]):
            self.said.set("part", "first thing")
            return i + 2
        if token in ("noon", "midday"):
            return self.set_clock(12, 0, "fixed", i + 1)
        part = _PART_WORDS.get(token)
        if part is None:
            return None
        if part == "lunchtime" and self.marker == "after":
            part, self.marker = "afternoon", None
        elif part == "lunchtime" and self.marker in _BEFORE:
            return self.set_clock(12, 0, "fixed", i + 1)
        self.said.set("part", part)
        return i + 1 + (self.at(i + 1) == "time")

    def clock(self, i: int) -> int | None:
        token = self.t[i]
        # "half past three", "quarter to four", "twenty past 3", "ten after three"
        minutes = {"quarter": 15, "half": 30}.get(token)
        j = i + 1
        if minutes is None and (number := self.number(i)) and number[0] <= 30:
            minutes, j = number
        if minutes is not None:
            j += self.at(j) in ("minute", "minutes")
            direction = _PAST_TO.get(self.at(j))
            hour = self.number(j + 1) if direction else None
            if direction and hour and 1 <= hour[0] <= 12:
                h, m = (hour[0], minutes) if direction > 0 else (hour[0] - 1 or 12, 60 - minutes)
                return self.set_clock(h, m, None, hour[1])
        if token == "half" and (hour := self.number(i + 1)) and self.at(hour[1]) not in _UNITS:
            return self.set_clock(hour[0], 30, None, hour[1])  # British "half three"
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", token)
        if match:
            return self.set_clock(int(match[1]), int(match[2]), None, i + 1)
        if re.fullmatch(r"\d{3,4}", token) and self.marker:  # "at 1530"
            return self.set_clock(int(token[:-2]), int(token[-2:]), None, i + 1)
        number = self.number(i)
        if number is None or number[0] > 24 or self.at(number[1]) in _UNITS:
            return None
        h, j = number
        if token == "one" and not self.marker and self.at(j) not in ("am", "pm", "oclock"):
            return None  # "that one", "no one"
        m = 0
        if self.at(j) == "oclock":
            j += 1
        elif self.at(j) == "oh" and (minute := self.number(j + 1)) and minute[0] < 10:
            m, j = minute  # "three oh five"
        elif (minute := self.number(j)) and minute[0] < 60 and not self.at(j).isdigit():
            m, j = minute  # "five thirty"
        elif self.at(j).isdigit() and len(self.at(j)) == 2 and int(self.at(j)) < 60:
            m, j = int(self.at(j)), j + 1  # "5 30"
        return self.set_clock(h, m, None, j)

    def set_clock(self, hour: int, minute: int, meridiem: str | None, j: int) -> int:
        if self.at(j) in ("am", "pm"):
            meridiem, j = self.at(j), j + 1
        self.said.before = self.said.before or self.marker in _BEFORE
        if self.between != 2:
            self.said.set("clock", (hour, minute, meridiem))  # "between 2 and 4": 2
        self.marker = None
        self.between = 2 if self.between == 1 and self.at(j) == "and" else 0
        return j + (self.between == 2)


def calendar_date(today: date, day: int, month: int | None, year: int | None) -> date | None:
    """The date the caller meant by day (and month, year), ``None`` if there is no such date."""
    try:
        if month is None:  # "the 28th": this month's, or next month's if it went by
            found = today.replace(day=day)
            if found < today:
                nxt = today.replace(day=1) + timedelta(days=32)
                found = nxt.replace(day=day)
            return found
        found = date(year or today.year, month, day)
        if year is None and (today - found).days > 31:
            found = found.replace(year=today.year + 1)
        return found
    except ValueError:
        return None


def read(text: str, language: str, today: date) -> Said:
    """What the caller said, as the parts our rules understand (days, times, "asap", ...)."""
    return _Reader(tokens(text, language), today).read()
