"""Numbers a callback can ring: the caller's own, or one said or typed the national way."""

from __future__ import annotations

import pytest

from bot.engine.phone import (
    caller_number,
    country_code,
    dialable,
    spoken_phone_number,
    typed_phone_number,
)


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("+447700900123", "+447700900123"),
        (" +14155550100 ", "+14155550100"),
        (None, None),
        ("anonymous", None),
        ("+266696687", None),  # Twilio's "anonymous"
        ("client:alice", None),
        ("sip:bob@pbx.example", None),
        ("07700900123", None),  # not E.164: nobody can say which country
        ("+4477", None),
    ],
)
def test_caller_number(caller: str | None, number: str | None) -> None:
    assert caller_number(caller) == number


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+442079460000", "44"),
        ("+420221234567", "420"),
        ("+48221234567", "48"),
        ("+37167123456", "371"),
        ("+12125550100", "1"),
        ("+82212345678", "82"),
        ("+999123456789", None),
        (None, None),
    ],
)
def test_country_code(number: str | None, code: str | None) -> None:
    assert country_code(number) == code


@pytest.mark.parametrize(
    ("digits", "international", "home", "number"),
    [
        ("07700900456", False, "44", "+447700900456"),  # the trunk 0 gives way
        ("7700900456", False, "44", "+447700900456"),  # said without the 0
        ("447700900456", False, "44", "+447700900456"),  # international without the +
        ("00447700900456", False, "420", "+447700900456"),  # 00 = international
        ("447700900456", True, "420", "+447700900456"),
        ("602123456", False, "420", "+420602123456"),  # no trunk prefix in Czechia
        ("2125550100", False, "1", "+12125550100"),
        ("447700900456", False, None, "+447700900456"),
        ("07700900456", False, None, None),  # national, country unknown
        ("123456", False, "44", None),  # too short
        ("1234567890123456", False, None, None),  # too long
    ],
)
def test_dialable(digits: str, international: bool, home: str | None, number: str | None) -> None:
    assert dialable(digits, international, home) == number


def test_spoken_numbers() -> None:
    said = "it's oh seven seven double oh nine oh oh four five six"
    assert spoken_phone_number(said, "en", "44") == "+447700900456"
    plus = "plus four four seven seven oh oh nine oh oh four five six"
    assert spoken_phone_number(plus, "en", "420") == "+447700900456"
    assert spoken_phone_number("šest nula dva jedna dva tři čtyři pět šest", "cs", "420") == (
        "+420602123456"
    )
    assert spoken_phone_number("tomorrow at three", "en", "44") is None


def test_typed_numbers() -> None:
    assert typed_phone_number("07700900456#", "44") == "+447700900456"
    assert typed_phone_number("0770*0900456", "44") == "+447700900456"
    assert typed_phone_number("12#", "44") is None
