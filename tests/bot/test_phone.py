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


@pytest.mark.parametrize(
    ("language", "said", "home", "number"),
    [
        # Czech, +420 and nine digits: one by one, or in the groups people read them in
        ("cs", "šest nula dva jedna dva tři čtyři pět šest", "420", "+420602123456"),
        ("cs", "sest nula dva jedna dva tri ctyri pet sest", "420", "+420602123456"),
        ("cs", "šest set dva sto dvacet tři čtyři sta padesát šest", "420", "+420602123456"),
        ("cs", "plus čtyři dva nula šest nula dva jedna dva tři čtyři pět šest", "44",
         "+420602123456"),
        ("cs", "plus čtyři sta dvacet šest set dva sto dvacet tři čtyři sta padesát šest", "44",
         "+420602123456"),
        ("cs", "nula nula čtyři dva nula šest nula dva jedna dva tři čtyři pět šest", "44",
         "+420602123456"),  # 00 is international too
        # Polish, +48 and nine digits
        ("pl", "sześć zero dwa jeden dwa trzy cztery pięć sześć", "48", "+48602123456"),
        ("pl", "sześćset dwa sto dwadzieścia trzy czterysta pięćdziesiąt sześć", "48",
         "+48602123456"),
        ("pl", "plus czterdzieści osiem sześćset dwa sto dwadzieścia trzy czterysta pięćdziesiąt "
         "sześć", "420", "+48602123456"),
        ("pl", "plus cztery osiem sześć zero dwa jeden dwa trzy cztery pięć sześć", "420",
         "+48602123456"),
        # a Radom number starts with 48 itself: nine digits are still national
        ("pl", "czterdzieści osiem sto dwadzieścia trzy czterdzieści pięć sześćdziesiąt siedem",
         "48", "+48481234567"),
        # Latvian, +371 and eight digits, often in pairs
        ("lv", "divi viens divi trīs četri pieci seši septiņi", "371", "+37121234567"),
        ("lv", "divdesmit viens divdesmit trīs četrdesmit pieci sešdesmit septiņi", "371",
         "+37121234567"),
        ("lv", "pluss trīs septiņi viens divi viens divi trīs četri pieci seši septiņi", "44",
         "+37121234567"),
        ("lv", "plus trīs simti septiņdesmit viens divdesmit viens divdesmit trīs četrdesmit "
         "pieci sešdesmit septiņi", "420", "+37121234567"),
        # the country of the line is not the caller's: a Czech caller on a Polish line
        ("cs", "plus čtyři sta dvacet šest set dva sto dvacet tři čtyři sta padesát šest", "48",
         "+420602123456"),
        # too short to ring anyone
        ("cs", "zítra ve tři", "420", None),
        ("pl", "jutro o piętnastej trzydzieści", "48", None),
    ],
)  # fmt: skip
def test_spoken_numbers_in_other_languages(
    language: str, said: str, home: str, number: str | None
) -> None:
    assert spoken_phone_number(said, language, home) == number


@pytest.mark.parametrize(
    ("digits", "home", "number"),
    [
        ("602123456", "420", "+420602123456"),
        ("420602123456", "420", "+420602123456"),  # the country code said without the plus
        ("481234567", "48", "+48481234567"),  # national, though it starts with 48
        ("48481234567", "48", "+48481234567"),
        ("21234567", "371", "+37121234567"),
        ("37121234567", "371", "+37121234567"),
    ],
)
def test_national_lengths_decide_what_is_national(digits: str, home: str, number: str) -> None:
    assert dialable(digits, False, home) == number
