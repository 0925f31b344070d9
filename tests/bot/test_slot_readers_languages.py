"""Slot readers in Czech, Polish and Latvian (and English): digits, yes/no and date-times.

Vosk writes what it hears lowercase, without punctuation, numbers as words; diacritics may be
there or not, so every phrase is read both ways.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.engine.slots import extract_datetime, extract_digits, extract_value, extract_yes_no
from bot.flow.model import Slot, SlotType
from bot.text import fold, number_value

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)  # Tuesday

DIGITS = [
    # Czech: every form of each digit a caller uses, and the digit names ("jednička").
    ("cs", "nula jedna dva tři čtyři pět šest sedm osm devět", "0123456789"),
    ("cs", "jeden jedno jednu dvě dva", "11122"),
    ("cs", "jednička dvojka trojka čtyřka pětka šestka sedmička osmička devítka nulka",
     "1234567890"),
    ("cs", "dvakrát nula třikrát pět", "00555"),
    ("cs", "ten účet je čtyři čtyři", "44"),  # "ten" is "that" in Czech, not 10
    # Polish
    ("pl", "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć", "0123456789"),
    ("pl", "jedna jedno dwie", "112"),
    ("pl", "ten numer to pięć o dwa", "52"),  # "ten" is "this", "o" is a word
    # Latvian, with the feminine forms
    ("lv", "nulle viens divi trīs četri pieci seši septiņi astoņi deviņi", "0123456789"),
    ("lv", "viena divas četras piecas sešas septiņas astoņas deviņas", "12456789"),
    # Two-digit groups, as account numbers are read out in pairs
    ("en", "forty four twelve fifty five sixty", "44125560"),
    ("cs", "čtyřicet čtyři dvanáct padesát pět šedesát", "44125560"),
    ("cs", "dvaačtyřicet pětadvacet", "4225"),  # Czech unit-first tens, in one word
    ("pl", "czterdzieści cztery dwanaście pięćdziesiąt pięć sześćdziesiąt", "44125560"),
    ("lv", "četrdesmit četri divpadsmit piecdesmit pieci sešdesmit", "44125560"),
    ("en", "twenty oh five", "2005"),
    # Three-digit groups
    ("cs", "šest set dva sto dvacet tři čtyři sta padesát šest", "602123456"),
    ("cs", "dvě stě devadesát", "290"),
    ("pl", "sześćset dwa sto dwadzieścia trzy czterysta pięćdziesiąt sześć", "602123456"),
    ("lv", "trīs simti septiņdesmit viens divsimt", "371200"),
    ("en", "six hundred and two", "602"),
    ("en", "oh seven seven hundred nine hundred one two three", "07700900123"),  # UK groups
    ("cs", "dvacet šest set", "20600"),  # "šest set" is 600: the 6 is not 26's
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "digits"), DIGITS)
def test_digits(language: str, text: str, digits: str) -> None:
    assert extract_digits(text, language) == digits
    assert extract_digits(fold(text), language) == digits  # without diacritics


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "four four one two double five six six"),
        ("en", "forty four twelve fifty five sixty six"),
        ("cs", "čtyřicet čtyři dvanáct padesát pět šedesát šest"),
        ("cs", "čtyři čtyři jedna dva pět pět šest šest"),
        ("pl", "czterdzieści cztery dwanaście pięćdziesiąt pięć sześćdziesiąt sześć"),
        ("lv", "četrdesmit četri divpadsmit piecdesmit pieci sešdesmit seši"),
    ],
)
def test_an_eight_digit_account_said_in_pairs_or_digits(language: str, said: str) -> None:
    slot = Slot("account", SlotType.DIGITS, 8, 8)
    assert extract_value(slot, said, language, NOW, "Europe/London") == "44125566"


@pytest.mark.parametrize(
    ("word", "language", "value"),
    [("ctyricet", "cs", 40), ("jedenadvacet", "cs", 21), ("dvacetjedna", "cs", None),
     ("dziewiecdziesiat", "pl", 90), ("septinpadsmit", "lv", 17), ("forty", "cs", None)],
)  # fmt: skip
def test_number_value(word: str, language: str, value: int | None) -> None:
    assert number_value(word, language) == value


YES_NO = [
    # Czech
    ("cs", "ano", "yes"),
    ("cs", "jo", "yes"),
    ("cs", "no jo", "yes"),  # "no" is a filler in Czech
    ("cs", "jasně", "yes"),
    ("cs", "jo to sedí", "yes"),
    ("cs", "přesně tak", "yes"),
    ("cs", "v pořádku", "yes"),
    ("cs", "není problém", "yes"),
    ("cs", "ne", "no"),
    ("cs", "ne nechci", "no"),
    ("cs", "to nesedí", "no"),
    ("cs", "není to správně", "no"),
    ("cs", "to není pravda", "no"),
    ("cs", "jasně že ne", "no"),
    ("cs", "ani náhodou", "no"),
    ("cs", "vůbec ne", "no"),
    ("cs", "jo, vůbec nevadí", "yes"),  # "vůbec" is "at all", no answer itself
    ("cs", "no ne", "no"),
    ("cs", "no", None),
    ("cs", "nevím", None),
    # Polish
    ("pl", "tak", "yes"),
    ("pl", "no tak", "yes"),  # "no" is "well"/"yeah" in Polish, never "no"
    ("pl", "zgadza się", "yes"),
    ("pl", "tak jest", "yes"),
    ("pl", "oczywiście", "yes"),
    ("pl", "jak najbardziej", "yes"),
    ("pl", "nie ma problemu", "yes"),
    ("pl", "nie", "no"),
    ("pl", "nie zgadza się", "no"),
    ("pl", "nie, dziękuję", "no"),
    ("pl", "raczej nie", "no"),
    ("pl", "oczywiście że nie", "no"),
    ("pl", "nie bardzo", "no"),
    ("pl", "no nie", "no"),
    ("pl", "no", None),
    ("pl", "nie wiem", None),  # "I don't know" is no answer
    # Latvian
    ("lv", "jā", "yes"),
    ("lv", "ja", "yes"),
    ("lv", "jā, protams", "yes"),
    ("lv", "pareizi", "yes"),
    ("lv", "tieši tā", "yes"),
    ("lv", "nav problēmu", "yes"),
    ("lv", "nē", "no"),
    ("lv", "nav pareizi", "no"),
    ("lv", "nav īsti pareizi", "no"),
    ("lv", "nepareizi", "no"),
    ("lv", "protams, ka nē", "no"),
    ("lv", "nekādā gadījumā", "no"),
    ("lv", "no", None),  # Latvian "no" is "from"
    # English keeps its words, and gains a few
    ("en", "no", "no"),
    ("en", "no problem", "yes"),
    ("en", "of course", "yes"),
    ("en", "definitely not", "no"),
    ("en", "of course not", "no"),
    ("en", "not quite right", "no"),
    ("en", "not really", "no"),
    ("en", "yes no", None),
]


@pytest.mark.parametrize(("language", "text", "answer"), YES_NO)
def test_yes_no(language: str, text: str, answer: str | None) -> None:
    assert extract_yes_no(text, language) == answer
    assert extract_yes_no(fold(text), language) == answer  # without diacritics


@pytest.mark.parametrize(
    ("language", "text", "iso"),
    [
        ("cs", "zítra po třetí", "2026-03-11T15:00:00+00:00"),
        ("cs", "zítra v patnáct třicet", "2026-03-11T15:30:00+00:00"),
        ("cs", "v pondělí v deset", "2026-03-16T10:00:00+00:00"),
        ("cs", "za dvě hodiny", "2026-03-10T12:00:00+00:00"),
        # dateparser alone reads these as 02:30, 03:15 and 10:00: the reader goes first
        ("cs", "zítra v půl třetí", "2026-03-11T14:30:00+00:00"),
        ("cs", "zítra ve čtvrt na čtyři", "2026-03-11T15:15:00+00:00"),
        ("cs", "zítra ráno", "2026-03-11T09:00:00+00:00"),
        ("pl", "jutro o piętnastej", "2026-03-11T15:00:00+00:00"),
        ("pl", "w poniedziałek o dziesiątej", "2026-03-16T10:00:00+00:00"),
        ("pl", "za godzinę", "2026-03-10T11:00:00+00:00"),
        ("lv", "rīt pēc trijiem", "2026-03-11T15:00:00+00:00"),
        ("lv", "pirmdien pulksten desmitos", "2026-03-16T10:00:00+00:00"),
        ("lv", "pēc stundas", "2026-03-10T11:00:00+00:00"),
        ("en", "tomorrow after lunch", "2026-03-11T14:00:00+00:00"),  # the reader's fallback
    ],
)
def test_datetime_slots(language: str, text: str, iso: str) -> None:
    assert extract_datetime(text, language, NOW, "Europe/London") == iso


@pytest.mark.parametrize(
    ("language", "text"),
    [("cs", "včera"), ("pl", "wczoraj"), ("lv", "vakar"), ("cs", "co nejdřív")],
)
def test_datetime_slots_reject_the_past_and_asap(language: str, text: str) -> None:
    assert extract_datetime(text, language, NOW, "Europe/London") is None
