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
_WRITTEN_AT = {"en": "at", "cs": "v", "pl": "o", "lv": "plkst."}


def _rows(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


# Said out loud, times are words: TTS reads "10:00" as "deset nula nula", "o 9:00" as "o
# dziewięć zero zero" and spells "plkst." letter by letter. Hours 0-23 as each language says
# them: Czech a cardinal ("ve tři", "v jednu hodinu"), Polish a feminine ordinal ("o
# piętnastej"), Latvian the locative ("pulksten trijos").
_HOURS: Mapping[str, tuple[str, ...]] = {
    "cs": _rows("nula,jednu,dvě,tři,čtyři,pět,šest,sedm,osm,devět,deset,jedenáct,dvanáct,"
                "třináct,čtrnáct,patnáct,šestnáct,sedmnáct,osmnáct,devatenáct,dvacet,"
                "dvacet jedna,dvacet dva,dvacet tři"),
    "pl": _rows("godzinie zero,pierwszej,drugiej,trzeciej,czwartej,piątej,szóstej,siódmej,"
                "ósmej,dziewiątej,dziesiątej,jedenastej,dwunastej,trzynastej,czternastej,"
                "piętnastej,szesnastej,siedemnastej,osiemnastej,dziewiętnastej,dwudziestej,"
                "dwudziestej pierwszej,dwudziestej drugiej,dwudziestej trzeciej"),
    "lv": _rows("nullē,vienos,divos,trijos,četros,piecos,sešos,septiņos,astoņos,deviņos,"
                "desmitos,vienpadsmitos,divpadsmitos,trīspadsmitos,četrpadsmitos,"
                "piecpadsmitos,sešpadsmitos,septiņpadsmitos,astoņpadsmitos,deviņpadsmitos,"
                "divdesmitos,divdesmit vienos,divdesmit divos,divdesmit trijos"),
}  # fmt: skip
# Minutes: 0-19, then the tens ("patnáct třicet", "piętnastej trzydzieści"); Latvian counts
# minutes (minūte) in the feminine: "divdesmit piecas".
_NUMBERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cs": (_rows("nula,jedna,dva,tři,čtyři,pět,šest,sedm,osm,devět,deset,jedenáct,dvanáct,"
                 "třináct,čtrnáct,patnáct,šestnáct,sedmnáct,osmnáct,devatenáct"),
           _rows("dvacet,třicet,čtyřicet,padesát")),
    "pl": (_rows("zero,jeden,dwa,trzy,cztery,pięć,sześć,siedem,osiem,dziewięć,dziesięć,"
                 "jedenaście,dwanaście,trzynaście,czternaście,piętnaście,szesnaście,"
                 "siedemnaście,osiemnaście,dziewiętnaście"),
           _rows("dwadzieścia,trzydzieści,czterdzieści,pięćdziesiąt")),
    "lv": (_rows("nulle,viena,divas,trīs,četras,piecas,sešas,septiņas,astoņas,deviņas,desmit,"
                 "vienpadsmit,divpadsmit,trīspadsmit,četrpadsmit,piecpadsmit,sešpadsmit,"
                 "septiņpadsmit,astoņpadsmit,deviņpadsmit"),
           _rows("divdesmit,trīsdesmit,četrdesmit,piecdesmit")),
}  # fmt: skip
# The day of the month as an ordinal, in the case the date takes: Czech and Polish genitive
# ("dvacátého osmého prosince", "dwudziestego ósmego grudnia"), Latvian locative ("divdesmit
# astotajā decembrī"). Days 1-19, the tens alone (20, 30), the tens before a unit (21-29, 31).
_DAYS: Mapping[str, tuple[tuple[str, ...], tuple[str, str], tuple[str, str]]] = {
    "cs": (_rows("prvního,druhého,třetího,čtvrtého,pátého,šestého,sedmého,osmého,devátého,"
                 "desátého,jedenáctého,dvanáctého,třináctého,čtrnáctého,patnáctého,"
                 "šestnáctého,sedmnáctého,osmnáctého,devatenáctého"),
           ("dvacátého", "třicátého"), ("dvacátého", "třicátého")),
    "pl": (_rows("pierwszego,drugiego,trzeciego,czwartego,piątego,szóstego,siódmego,ósmego,"
                 "dziewiątego,dziesiątego,jedenastego,dwunastego,trzynastego,czternastego,"
                 "piętnastego,szesnastego,siedemnastego,osiemnastego,dziewiętnastego"),
           ("dwudziestego", "trzydziestego"), ("dwudziestego", "trzydziestego")),
    "lv": (_rows("pirmajā,otrajā,trešajā,ceturtajā,piektajā,sestajā,septītajā,astotajā,"
                 "devītajā,desmitajā,vienpadsmitajā,divpadsmitajā,trīspadsmitajā,"
                 "četrpadsmitajā,piecpadsmitajā,sešpadsmitajā,septiņpadsmitajā,"
                 "astoņpadsmitajā,deviņpadsmitajā"),
           ("divdesmitajā", "trīsdesmitajā"), ("divdesmit", "trīsdesmit")),
}  # fmt: skip
# Noon and midnight have names of their own.
_NAMED = {
    "cs": {(12, 0): "v poledne", (0, 0): "o půlnoci"},
    "pl": {(12, 0): "w południe", (0, 0): "o północy"},
    "lv": {(0, 0): "pusnaktī"},
}


def _english_clock(at: datetime) -> str:
    if (at.hour, at.minute) == (12, 0):
        return "noon"
    if (at.hour, at.minute) == (0, 0):
        return "midnight"
    hour = at.hour % 12 or 12
    clock = f"{hour}:{at.minute:02d}" if at.minute else str(hour)
    return f"{clock} {'am' if at.hour < 12 else 'pm'}"


def _minutes(minute: int, language: str) -> str:
    """Minutes after the hour: "nula pět" (05), "patnáct", "dvacet pět"."""
    units, tens = _NUMBERS[language]
    if minute < 10:
        return f"{units[0]} {units[minute]}"
    if minute < 20:
        return units[minute]
    return tens[minute // 10 - 2] + (f" {units[minute % 10]}" if minute % 10 else "")


def _czech_clock(hour: str, at: datetime) -> str:
    at_word = "ve" if hour.startswith(("dv", "tř", "čt")) else "v"  # "ve tři", "v pět"
    if at.minute:
        return f"{at_word} {hour} {_minutes(at.minute, 'cs')}"
    hours = "hodinu" if at.hour == 1 else "hodiny" if 2 <= at.hour <= 4 else "hodin"
    return f"{at_word} {hour} {hours}"


def _said_clock(at: datetime, language: str) -> str:
    """The time of day as words: "v patnáct třicet", "o dziewiątej", "pulksten desmitos"."""
    if language == "en":
        return f"at {_english_clock(at)}"
    named = _NAMED[language].get((at.hour, at.minute))
    if named is not None:
        return named
    hour = _HOURS[language][at.hour]
    if language == "cs":
        return _czech_clock(hour, at)
    minutes = f" {_minutes(at.minute, language)}" if at.minute else ""
    return f"{'o' if language == 'pl' else 'pulksten'} {hour}{minutes}"


def _said_date(at: datetime, language: str) -> str:
    """The day of the month and the month: "dvacátého osmého prosince", "28 December"."""
    month = _SPOKEN_MONTHS[language][at.month - 1]
    if language == "en":
        return f"{at.day} {month}"
    units, tens, tens_before = _DAYS[language]
    if at.day < 20:
        day = units[at.day - 1]
    elif at.day % 10 == 0:
        day = tens[at.day // 10 - 2]
    else:
        day = f"{tens_before[at.day // 10 - 2]} {units[at.day % 10 - 1]}"
    return f"{day} {month}"


def _day(at: datetime, now: datetime, language: str) -> tuple[str, bool]:
    """The day in words ("tomorrow", "on Monday", "v pondělí") and whether a date must follow."""
    today_word, tomorrow_word, weekdays = _SPOKEN_DAYS[language]
    days = (at.date() - now.astimezone(at.tzinfo).date()).days
    if days == 0:
        return today_word, False
    if days == 1:
        return tomorrow_word, False
    weekday = weekdays[at.weekday()]
    return (f"on {weekday}" if language == "en" else weekday), not 1 < days < 7


def spoken_time(at: datetime, now: datetime, language: str = "en") -> str:
    """``at`` as the bot says it, in ``at``'s zone: "today at 3 pm", "tomorrow at 3:30 pm".

    Two to six days ahead: "on Monday at 9 am"; further (or earlier): "on Monday 28 December at
    10 am". Czech, Polish and Latvian are said the way people say them, in words (TTS reads
    digits badly): "zítra v patnáct třicet", "v pondělí dvacátého osmého prosince v deset
    hodin"; "jutro o piętnastej trzydzieści"; "pirmdien, divdesmit astotajā decembrī, pulksten
    desmitos". Other languages get English. :func:`written_time` is the same in figures.
    """
    language = language if language in _SPOKEN_DAYS else "en"
    day, dated = _day(at, now, language)
    clock = _said_clock(at, language)
    if not dated:
        return f"{day} {clock}"
    if language == "lv":
        return f"{day}, {_said_date(at, language)}, {clock}"
    return f"{day} {_said_date(at, language)} {clock}"


def written_time(at: datetime, now: datetime, language: str = "en") -> str:
    """``at`` as a text says it (an SMS): "tomorrow at 3 pm", "zítra v 15:30", "rīt plkst. 9:00".

    The shape of :func:`spoken_time` with figures and a 24-hour clock in Czech, Polish and
    Latvian ("v pondělí 28. prosince v 10:00"); English reads the same as it is said.
    """
    language = language if language in _SPOKEN_DAYS else "en"
    day, dated = _day(at, now, language)
    clock = _english_clock(at) if language == "en" else f"{at.hour}:{at.minute:02d}"
    if dated:
        month = _SPOKEN_MONTHS[language][at.month - 1]
        day += {"en": f" {at.day} {month}", "pl": f" {at.day} {month}"}.get(
            language, f" {at.day}. {month}"
        )
    return f"{day} {_WRITTEN_AT[language]} {clock}"


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
