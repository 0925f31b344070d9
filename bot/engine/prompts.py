"""Rendering prompts into :class:`Say` actions in the call's language.

``{slot}`` placeholders are filled from the call's slots, spoken the way a caller expects to
hear them (digits one by one, a date as words); anything filled makes the audio uncacheable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from bot.engine.actions import Say
from bot.flow.model import Flow, Prompt, SlotType

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

_WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cs": ("pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle"),
    "pl": ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"),
    "lv": ("pirmdiena", "otrdiena", "trešdiena", "ceturtdiena", "piektdiena", "sestdiena",
           "svētdiena"),
}  # fmt: skip
# Month names in the form used after a day number ("11. března", "11 marca", "11. martā").
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "cs": ("ledna", "února", "března", "dubna", "května", "června", "července", "srpna",
           "září", "října", "listopadu", "prosince"),
    "pl": ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
           "września", "października", "listopada", "grudnia"),
    "lv": ("janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā", "jūlijā", "augustā",
           "septembrī", "oktobrī", "novembrī", "decembrī"),
}  # fmt: skip
_YES_NO: dict[str, tuple[str, str]] = {
    "en": ("yes", "no"),
    "cs": ("ano", "ne"),
    "pl": ("tak", "nie"),
    "lv": ("jā", "nē"),
}
_OR = {"en": "or", "cs": "nebo", "pl": "czy", "lv": "vai"}


def speak_datetime(value: str, language: str) -> str:
    """An ISO 8601 value as words: "Wednesday 11 March at 3:00 PM", "středa 11. března v 15:00"."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    day = moment.day
    weekday = _WEEKDAYS.get(language, _WEEKDAYS["en"])[moment.weekday()]
    month = _MONTHS.get(language, _MONTHS["en"])[moment.month - 1]
    clock = f"{moment.hour}:{moment.minute:02d}"
    match language:
        case "cs":
            return f"{weekday} {day}. {month} v {clock}"
        case "pl":
            return f"{weekday} {day} {month} o {clock}"
        case "lv":
            return f"{weekday}, {day}. {month} plkst. {clock}"
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{weekday} {day} {month} at {hour}:{moment.minute:02d} {half}"


def speak_value(slot_type: SlotType | None, value: str, language: str) -> str:
    """A slot value as it should be spoken: digits one by one, yes/no and dates as words."""
    match slot_type:
        case SlotType.DIGITS:
            return " ".join(value)
        case SlotType.DATETIME:
            return speak_datetime(value, language)
        case SlotType.YES_NO:
            yes, no = _YES_NO.get(language, _YES_NO["en"])
            return yes if value == "yes" else no if value == "no" else value
    return value


def join_options(labels: list[str], language: str) -> str:
    """Labels as "A or B" in the call's language (one label stays as it is)."""
    return f" {_OR.get(language, 'or')} ".join(labels)


def template(prompt: Prompt, language: str, fallback: str) -> str:
    """The prompt's text in ``language``, else in ``fallback``, else any text it has."""
    for lang in (language, fallback):
        if lang in prompt.text:
            return prompt.in_language(lang)
    return next(iter(prompt.text.values()), "")


def render(
    flow: Flow,
    prompt: Prompt,
    language: str,
    slots: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> Say:
    """A :class:`Say` for ``prompt`` with placeholders filled.

    ``extra`` supplies non-slot placeholders (``{options}``). An unknown or unfilled
    placeholder becomes empty rather than failing: a call must never crash on a prompt.
    """
    # Any placeholder makes the audio call-specific, even one left empty: a cache keyed on the
    # prompt id must never replay another caller's account number.
    filled = False

    def fill(match: re.Match[str]) -> str:
        nonlocal filled
        filled = True
        name = match.group(1)
        if extra is not None and name in extra:
            return extra[name]
        if name in slots:
            slot = flow.slots.get(name)
            return speak_value(slot.type if slot else None, slots[name], language)
        return ""

    text = _PLACEHOLDER.sub(fill, template(prompt, language, flow.default_language))
    if filled:  # an empty value may leave double spaces; static text stays byte-identical
        text = " ".join(text.split())
    return Say(
        text=text,
        language=language,
        prompt_id=prompt.id,
        cacheable=not filled,
    )
