"""Text helpers shared by the engine and the callback-time reader (neither imports the other)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ``text`` and drop diacritics, so "Čtyři" and "ctyri" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def spell_number(number: str | None) -> str:
    """A phone number read digit by digit (``+44 7…`` -> ``+ 4 4 7 …``); TTS would say millions."""
    return " ".join(number) if number else "an unknown number"
