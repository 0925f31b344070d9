"""Twilio-shaped SIDs (``CA`` calls, ``MZ`` streams, ``SM`` messages, ``AC`` accounts...)."""

from __future__ import annotations

import secrets


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)
