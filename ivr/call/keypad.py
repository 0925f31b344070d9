"""Keypad presses arrive one digit at a time; the engine wants whole entries.

While the bot collects a number, digits are gathered until ``#``, the slot's maximum length,
or a pause of ``gap_ms``; anywhere else each key is an entry of its own, so ``0`` reaches a
person at once.
"""

from __future__ import annotations

from bot.engine.actions import Listen
from bot.flow.model import Slot, SlotType

GAP_MS = 2500
#: The longest phone number (E.164 allows 15 digits).
PHONE_NUMBER_DIGITS = 15


class Keypad:
    """Gathers one keypad entry. The clock is the call's stream time in milliseconds."""

    def __init__(self, gap_ms: int = GAP_MS) -> None:
        self.gap_ms = gap_ms
        self._digits = ""
        self._last_ms = 0
        self._max_length: int | None = None
        self._gathering = False

    def expect_for(self, listen: Listen, slot: Slot | None) -> None:
        """What the bot now listens for decides the keys: a number's digits, else single keys."""
        if slot is not None and slot.type is SlotType.DIGITS:
            self.expect_number(slot.max_length)
        elif listen.expect == "phone_number":  # a callback number: keys until '#' or a pause
            self.expect_number(PHONE_NUMBER_DIGITS)
        else:
            self.expect_keys()

    def expect_number(self, max_length: int | None) -> None:
        """The bot now collects a number of at most ``max_length`` digits."""
        self._gathering = True
        self._max_length = max_length
        self._digits = ""

    def expect_keys(self) -> None:
        """The bot now takes single keys (menus, ``0`` for a person)."""
        self._gathering = False
        self._max_length = None
        self._digits = ""

    @property
    def pending(self) -> bool:
        """Whether an entry is half typed."""
        return bool(self._digits)

    def press(self, digit: str, now_ms: int) -> str | None:
        """A key was pressed; returns a finished entry, if this key finished one."""
        if not self._gathering:
            return digit
        if digit == "#":
            entry, self._digits = self._digits + "#", ""
            return entry
        self._digits += digit
        self._last_ms = now_ms
        if self._max_length is not None and len(self._digits) >= self._max_length:
            entry, self._digits = self._digits, ""
            return entry
        return None

    def tick(self, now_ms: int) -> str | None:
        """The caller stopped typing for ``gap_ms``: the entry so far, else ``None``."""
        if self._digits and now_ms - self._last_ms >= self.gap_ms:
            entry, self._digits = self._digits, ""
            return entry
        return None
