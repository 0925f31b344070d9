"""Text helpers shared by the engine and the callback-time reader (which never imports it).

Besides folding, the number words callers say in each language live here: the slot readers
read digits with them ("čtyřicet čtyři" is 44) and the callback-time reader hours and minutes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping


def fold(text: str) -> str:
    """Lower-case ``text`` and drop diacritics, so "Čtyři" and "ctyri" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def nlu_text(text: str) -> str:
    """``text`` as the NLU model learns and reads it: folded, single-spaced.

    Callers' words arrive with and without diacritics ("účet", "ucet"): folded, both are one
    word to the model, which then learns from every example of a language at once. NFC puts
    back together what folding took apart but is no diacritic (Korean syllables).
    """
    return unicodedata.normalize("NFC", " ".join(fold(text).split()))


def spell_number(number: str | None) -> str:
    """A phone number read digit by digit (``+44 7…`` -> ``+ 4 4 7 …``); TTS would say millions."""
    return " ".join(number) if number else "an unknown number"


def _values(*rows: str) -> dict[str, int]:
    """``"0 nula", "1 jedna jeden"`` -> ``{"nula": 0, "jedna": 1, "jeden": 1}``."""
    return {word: int(value) for row in rows for value, *said in [row.split()] for word in said}


# Number words as callers say them (folded), 0-19 and the tens: every form a caller uses when
# counting or reading a number out (Czech "dva"/"dvě", Latvian feminine "divas", ...).
NUMBER_WORDS: Mapping[str, Mapping[str, int]] = {
    "en": _values(
        "0 zero nought", "1 one", "2 two", "3 three", "4 four", "5 five", "6 six", "7 seven",
        "8 eight", "9 nine", "10 ten", "11 eleven", "12 twelve", "13 thirteen", "14 fourteen",
        "15 fifteen", "16 sixteen", "17 seventeen", "18 eighteen", "19 nineteen", "20 twenty",
        "30 thirty", "40 forty", "50 fifty", "60 sixty", "70 seventy", "80 eighty", "90 ninety",
    ),
    "cs": _values(
        "0 nula", "1 jedna jeden jedno jednu", "2 dva dve", "3 tri", "4 ctyri", "5 pet", "6 sest",
        "7 sedm", "8 osm", "9 devet", "10 deset", "11 jedenact", "12 dvanact", "13 trinact",
        "14 ctrnact", "15 patnact", "16 sestnact", "17 sedmnact", "18 osmnact", "19 devatenact",
        "20 dvacet", "30 tricet", "40 ctyricet", "50 padesat", "60 sedesat", "70 sedmdesat",
        "80 osmdesat", "90 devadesat",
    ),
    "pl": _values(
        "0 zero", "1 jeden jedna jedno", "2 dwa dwie", "3 trzy", "4 cztery", "5 piec", "6 szesc",
        "7 siedem", "8 osiem", "9 dziewiec", "10 dziesiec", "11 jedenascie", "12 dwanascie",
        "13 trzynascie", "14 czternascie", "15 pietnascie", "16 szesnascie", "17 siedemnascie",
        "18 osiemnascie", "19 dziewietnascie", "20 dwadziescia", "30 trzydziesci",
        "40 czterdziesci", "50 piecdziesiat", "60 szescdziesiat", "70 siedemdziesiat",
        "80 osiemdziesiat", "90 dziewiecdziesiat",
    ),
    "lv": _values(
        "0 nulle", "1 viens viena", "2 divi divas", "3 tris", "4 cetri cetras", "5 pieci piecas",
        "6 sesi sesas", "7 septini septinas", "8 astoni astonas", "9 devini devinas",
        "10 desmit", "11 vienpadsmit", "12 divpadsmit", "13 trispadsmit", "14 cetrpadsmit",
        "15 piecpadsmit", "16 sespadsmit", "17 septinpadsmit", "18 astonpadsmit",
        "19 devinpadsmit", "20 divdesmit", "30 trisdesmit", "40 cetrdesmit", "50 piecdesmit",
        "60 sesdesmit", "70 septindesmit", "80 astondesmit", "90 devindesmit",
    ),
}  # fmt: skip


def _czech_compound() -> re.Pattern[str]:
    units = "|".join(w for w, v in NUMBER_WORDS["cs"].items() if 1 <= v <= 9)
    tens = "|".join(w for w, v in NUMBER_WORDS["cs"].items() if v >= 20)
    return re.compile(rf"({units})a({tens})")


# Czech also says 21-99 unit first, in one word: "dvaačtyřicet" (42), "pětadvacet" (25).
_CZECH_COMPOUND = _czech_compound()


def number_value(word: str, language: str) -> int | None:
    """The value of the folded number ``word`` in ``language`` (0-99), ``None`` if it is none."""
    value = NUMBER_WORDS.get(language, {}).get(word)
    if value is None and language == "cs" and (match := _CZECH_COMPOUND.fullmatch(word)):
        value = NUMBER_WORDS["cs"][match[1]] + NUMBER_WORDS["cs"][match[2]]
    return value
