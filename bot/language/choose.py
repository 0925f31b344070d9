"""The language a call starts in, from what is known before anyone speaks.

    chosen = choose_language(flow, called="+420228880000", caller="+48601234567", last="en")
    chosen.language, chosen.reason   # ("cs", "called_number")

The flow's ``language_choice.order`` says which signal wins; the default order is the number
called (a line can have one number per language), then the caller's country from their number
(``phonenumbers`` gives the region), then the language of the caller's last call.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from bot.flow.model import CALLED_NUMBER, CALLER_COUNTRY, RETURNING_CALLER, Flow

DEFAULT = "default"


@dataclass(frozen=True)
class Chosen:
    """The call's first language and the signal that chose it (``default`` when none did)."""

    language: str
    reason: str


def choose_language(
    flow: Flow, *, called: str | None, caller: str | None, last: str | None = None
) -> Chosen:
    """The first signal in the flow's order that names a language the line speaks."""
    choice = flow.language_choice
    signals = {
        CALLED_NUMBER: lambda: choice.numbers.get(_e164(called) or ""),
        CALLER_COUNTRY: lambda: choice.countries.get(caller_region(caller) or ""),
        RETURNING_CALLER: lambda: last,
    }
    for signal in choice.order:
        language = signals[signal]()
        if language and language in flow.languages:
            return Chosen(language, signal)
    return Chosen(flow.default_language, DEFAULT)


def caller_region(number: str | None) -> str | None:
    """The country (ISO 3166 code like ``CZ``) of an international ``number``, if valid."""
    parsed = _parse(number)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != "ZZ" else None


def _e164(number: str | None) -> str | None:
    parsed = _parse(number)
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _parse(number: str | None) -> phonenumbers.PhoneNumber | None:
    if not number or not number.strip().startswith("+"):
        return None  # a SIP address, a client id, "anonymous": no country
    try:
        return phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        return None
