"""Text helpers shared by the engine and the callback-time reader (neither imports the other)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ``text`` and drop diacritics, so "Čtyři" and "ctyri" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")
