"""Local value extraction: digits, yes/no, date-times, text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.engine.slots import (
    extract_datetime,
    extract_digits,
    extract_value,
    extract_yes_no,
    valid_digits,
)
from bot.flow.model import Slot, SlotType

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)  # Tuesday


@pytest.mark.parametrize(
    ("language", "text", "digits"),
    [
        ("en", "four four one two", "4412"),
        ("en", "Four, four. One - two!", "4412"),
        ("en", "double five oh one", "5501"),
        ("en", "triple 3 nine", "3339"),
        ("en", "double 12", "112"),
        ("en", "44 12", "4412"),
        ("en", "4412-5566", "44125566"),
        ("en", "my number is one two three", "123"),
        ("en", "oh it's one two", "12"),
        ("en", "one oh", "10"),
        ("en", "zero nought", "00"),
        ("cs", "čtyři čtyři jedna dva", "4412"),
        ("cs", "ctyri nula devět", "409"),
        ("pl", "dziewięć osiem siedem", "987"),
        ("pl", "pięć sześć", "56"),
        ("lv", "septiņi nulle divi", "702"),
        ("lv", "viens četras", "14"),
        ("cs", "four two", "42"),  # English number words work in every language
    ],
)
def test_extract_digits(language: str, text: str, digits: str) -> None:
    assert extract_digits(text, language) == digits


@pytest.mark.parametrize("text", ["", "hello there", "oh", "double", "I want a person"])
def test_extract_digits_none(text: str) -> None:
    assert extract_digits(text, "en") is None


def test_valid_digits_lengths() -> None:
    slot = Slot("pin", SlotType.DIGITS, 4, 6)
    assert valid_digits("1234", slot)
    assert valid_digits("123456", slot)
    assert not valid_digits("123", slot)
    assert not valid_digits("1234567", slot)
    assert not valid_digits("12a4", slot)
    assert valid_digits("1", Slot("any", SlotType.DIGITS))


@pytest.mark.parametrize(
    ("language", "text", "answer"),
    [
        ("en", "yes", "yes"),
        ("en", "Yeah, that's right", "yes"),
        ("en", "no thanks", "no"),
        ("en", "nope", "no"),
        ("en", "that's not right", "no"),
        ("en", "not correct", "no"),
        ("en", "yes no", None),
        ("en", "maybe", None),
        ("cs", "Ano", "yes"),
        ("cs", "ne", "no"),
        ("cs", "jasně", "yes"),
        ("pl", "tak", "yes"),
        ("pl", "nie", "no"),
        ("pl", "nie tak", "no"),
        ("lv", "jā", "yes"),
        ("lv", "nē", "no"),
        ("lv", "protams", "yes"),
        ("cs", "yes", "yes"),
    ],
)
def test_extract_yes_no(language: str, text: str, answer: str | None) -> None:
    assert extract_yes_no(text, language) == answer


@pytest.mark.parametrize(
    ("language", "text", "iso"),
    [
        ("en", "tomorrow at three", "2026-03-11T15:00:00+00:00"),
        ("en", "tomorrow after 3", "2026-03-11T15:00:00+00:00"),
        ("en", "tomorrow at 10:30", "2026-03-11T10:30:00+00:00"),
        ("en", "tomorrow 9 am", "2026-03-11T09:00:00+00:00"),
        ("en", "monday at 10", "2026-03-16T10:00:00+00:00"),
        ("en", "in two hours", "2026-03-10T12:00:00+00:00"),
        ("cs", "zítra ve tři", "2026-03-11T15:00:00+00:00"),
        ("cs", "zítra v 15", "2026-03-11T15:00:00+00:00"),
        ("pl", "jutro o 15", "2026-03-11T15:00:00+00:00"),
        ("lv", "rīt plkst. 15", "2026-03-11T15:00:00+00:00"),
    ],
)
def test_extract_datetime(language: str, text: str, iso: str) -> None:
    assert extract_datetime(text, language, NOW, "Europe/London") == iso


def test_extract_datetime_in_summer_time_has_offset() -> None:
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in London
    assert extract_datetime("tomorrow at 3", "en", summer, "Europe/London") == (
        "2026-07-02T15:00:00+01:00"
    )


def test_extract_datetime_relative_to_flow_zone_not_now_zone() -> None:
    now_utc = datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("UTC"))  # already 11th in Prague
    assert extract_datetime("tomorrow at 10", "en", now_utc, "Europe/Prague") == (
        "2026-03-12T10:00:00+01:00"
    )


@pytest.mark.parametrize("text", ["yesterday", "hello", "", "last monday"])
def test_extract_datetime_rejects_past_and_nonsense(text: str) -> None:
    assert extract_datetime(text, "en", NOW, "Europe/London") is None


def test_extract_value_by_type() -> None:
    def value(slot: Slot, text: str) -> str | None:
        return extract_value(slot, text, "en", NOW, "Europe/London")

    assert value(Slot("a", SlotType.DIGITS, 4, 4), "one two three four") == "1234"
    assert value(Slot("a", SlotType.DIGITS, 4, 4), "one two three") is None
    assert value(Slot("b", SlotType.YES_NO), "yep") == "yes"
    assert value(Slot("c", SlotType.TEXT), "  12 Oak Lane ") == "12 Oak Lane"
    assert value(Slot("c", SlotType.TEXT), "   ") is None
    assert value(Slot("d", SlotType.DATETIME), "tomorrow at 4") == "2026-03-11T16:00:00+00:00"
