"""Phone numbers a callback can ring: the caller's own, or one they say or type.

A callback is placed by the REST dialer, which needs E.164 (``+447700900123``). Callers give
numbers the national way ("oh seven seven hundred…", ``07700900123``), so a number without a
country is given the country of the line they rang (or of their own number).
"""

from __future__ import annotations

from bot.engine.slots import extract_digits, words
from bot.flow.people import PHONE

MIN_DIGITS = 7
MAX_DIGITS = 15
# What carriers and Twilio send for a withheld number (Twilio's "+266696687" spells ANONYMOUS).
_WITHHELD = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696"})
# Calling codes of countries whose national numbers start with a trunk "0" (dropped in E.164).
_TRUNK_ZERO = frozenset(
    {"44", "353", "33", "49", "31", "32", "41", "43", "39", "61", "64", "27", "81", "82", "86",
     "91", "90", "30", "351", "358", "36", "40", "380", "972"}
)  # fmt: skip
# Countries whose national numbers have no trunk prefix (a leading digit is part of it).
_NO_TRUNK = frozenset({"1", "34", "45", "47", "420", "421", "48", "371", "372", "370", "352"})
# How many digits a national number has there: a Polish number may itself start with 48 (Radom,
# "48 123 45 67"), so nine digits are national even when they start with the country code.
_NATIONAL_DIGITS = {"1": 10, "34": 9, "45": 8, "47": 8, "420": 9, "421": 9, "48": 9, "371": 8}
# "Plus" before a country code: Czech and Polish "plus", Latvian "pluss".
_PLUS_WORDS = frozenset({"plus", "pluss"})


def caller_number(caller: str | None) -> str | None:
    """The caller's number if a callback can ring it (E.164, not withheld), else ``None``.

    SIP addresses, Twilio Client ids and "anonymous" give ``None``: the bot asks for a number.
    """
    if caller is None:
        return None
    number = caller.strip()
    return number if PHONE.match(number) and number not in _WITHHELD else None


def country_code(number: str | None) -> str | None:
    """The calling code of an E.164 ``number`` when it is one we know the shape of."""
    if number is None or not PHONE.match(number):
        return None
    for size in (3, 2, 1):
        code = number[1 : 1 + size]
        if code in _TRUNK_ZERO or code in _NO_TRUNK:
            return code
    return None


def dialable(digits: str, international: bool, home: str | None) -> str | None:
    """``digits`` the caller gave as an E.164 number, or ``None`` if it cannot be one.

    ``international``: they said "plus" (or typed ``00``). ``home`` is the calling code for
    national numbers; without one, the digits are taken as already including a country.
    """
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return None
    if not international and home is not None:
        # National: the trunk "0" gives way to the country code. Digits that already start
        # with the home code are taken as international without the "+".
        if digits.startswith("0") and home in _TRUNK_ZERO:
            digits = home + digits[1:]
        elif not digits.startswith(home) or len(digits) == _NATIONAL_DIGITS.get(home):
            digits = home + digits
    number = "+" + digits
    return number if PHONE.match(number) else None


def spoken_phone_number(text: str, language: str, home: str | None) -> str | None:
    """The number in what the caller said ("oh seven seven double oh…", "plus four four…").

    Digits may be said one by one or in groups in the call's language ("plus čtyři sta
    dvacet, šest set dva…", "plus czterdzieści osiem…"); "plus" makes the number international.
    """
    found = extract_digits(text, language)
    if found is None:
        return None
    international = text.strip().startswith("+") or bool(_PLUS_WORDS & set(words(text)))
    return dialable(found, international, home)


def typed_phone_number(keys: str, home: str | None) -> str | None:
    """The number the caller typed (``#`` ends it; ``*`` is not a digit, so it is dropped)."""
    digits = "".join(k for k in keys if k.isdigit())
    return dialable(digits, False, home)
