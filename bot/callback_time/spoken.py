"""Saying a moment and a number back to the caller ("tomorrow at 3 pm")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

_SPOKEN_DAYS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "en": ("today", "tomorrow", ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                 "Saturday", "Sunday")),
    "cs": ("dnes", "zítra", ("v pondělí", "v úterý", "ve středu", "ve čtvrtek", "v pátek",
                            "v sobotu", "v neděli")),
    "pl": ("dziś", "jutro", ("w poniedziałek", "we wtorek", "w środę", "w czwartek",
                            "w piątek", "w sobotę", "w niedzielę")),
    "lv": ("šodien", "rīt", ("pirmdien", "otrdien", "trešdien", "ceturtdien", "piektdien",
                            "sestdien", "svētdien")),
}  # fmt: skip
_SPOKEN_MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "cs": ("ledna", "února", "března", "dubna", "května", "června", "července", "srpna", "září",
           "října", "listopadu", "prosince"),
    "pl": ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
           "września", "października", "listopada", "grudnia"),
    "lv": ("janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā", "jūlijā", "augustā",
           "septembrī", "oktobrī", "novembrī", "decembrī"),
}  # fmt: skip
_SPOKEN_AT = {"en": "at", "cs": "v", "pl": "o", "lv": "plkst."}


def _spoken_clock(at: datetime, language: str) -> str:
    if language != "en":
        return f"{at.hour}:{at.minute:02d}"
    if (at.hour, at.minute) == (12, 0):
        return "noon"
    if (at.hour, at.minute) == (0, 0):
        return "midnight"
    hour = at.hour % 12 or 12
    clock = f"{hour}:{at.minute:02d}" if at.minute else str(hour)
    return f"{clock} {'am' if at.hour < 12 else 'pm'}"


def spoken_time(at: datetime, now: datetime, language: str = "en") -> str:
    """``at`` as the bot says it, in ``at``'s zone: "today at 3 pm", "tomorrow at 3:30 pm".

    Two to six days ahead: "on Monday at 9 am"; further (or earlier): "on Monday 28 December at
    10 am". Czech, Polish and Latvian get the same shape with a 24-hour clock ("zítra v 15:30");
    other languages get English.
    """
    language = language if language in _SPOKEN_DAYS else "en"
    today_word, tomorrow_word, weekdays = _SPOKEN_DAYS[language]
    days = (at.date() - now.astimezone(at.tzinfo).date()).days
    clock = f"{_SPOKEN_AT[language]} {_spoken_clock(at, language)}"
    if days == 0:
        day = today_word
    elif days == 1:
        day = tomorrow_word
    else:
        weekday = weekdays[at.weekday()]
        day = f"on {weekday}" if language == "en" else weekday
        if not 1 < days < 7:
            month = _SPOKEN_MONTHS[language][at.month - 1]
            day += f" {at.day} {month}" if language == "en" else f" {at.day}. {month}"
            if language == "pl":
                day = day.replace(".", "")
    return f"{day} {clock}"


def spoken_number(number: str) -> str:
    """A phone number as digits for speech: "+447700900123" -> "0 7 7 0 0, 9 0 0, 1 2 3".

    UK numbers (+44) are said the national way, with the 0; other international numbers start
    with "plus". The last six digits go in two groups of three, the rest in one group of up to
    five (or groups of three). Text that is not a phone number comes back unchanged.
    """
    digits = re.sub(r"[\s().-]", "", number)
    if not re.fullmatch(r"\+?\d+", digits):
        return number
    lead = ""
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    elif digits.startswith("+"):
        lead, digits = "plus ", digits[1:]
    head, tail = (digits[:-6], digits[-6:]) if len(digits) > 6 else ("", digits)
    groups = [tail[k : k + 3] for k in range(0, len(tail), 3)]
    if len(head) > 5:
        groups = [head[k : k + 3] for k in range(0, len(head), 3)] + groups
    elif head:
        groups = [head, *groups]
    return lead + ", ".join(" ".join(group) for group in groups)
