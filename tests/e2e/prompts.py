"""What a caller heard, by prompt: the pipeline names each mark ``<n>:<prompt id>``."""

from __future__ import annotations

from twilio_emulator import CallResult


def prompts_heard(result: CallResult, after: float | None = None) -> list[str]:
    """The prompt ids of the bot's marks, in order (only those sent after ``after``, if given)."""
    return [m.name.split(":", 1)[1] for m in result.marks if after is None or m.received_at > after]
