"""Callback times in words, both ways: read a caller's ("tomorrow at 10am"), say ours.

Shared by the SMS replies, the JSON API and the confirmation text, so they read and say a
time exactly as the bot does on the phone.
"""

from __future__ import annotations

from datetime import datetime

from bot.callback_time import TimeAnswer, resolve_callback_time, spoken_time
from bot.flow.model import Flow
from ivr.store import CallbackRecord


def read_time(flow: Flow, text: str, queue: str, language: str, now: datetime) -> TimeAnswer:
    """A time in words ("tomorrow at 10am") read as a caller's, in ``queue``'s hours."""
    quiet = flow.queue_callbacks(queue).quiet_hours
    return resolve_callback_time(text, language, now, flow.queue_hours(queue), quiet)


def spoken_when(flow: Flow, record: CallbackRecord, now: datetime) -> str:
    """When ``record`` is due, as the caller is told ("tomorrow at 3 pm"), in its queue's zone."""
    zone = flow.queue_hours(record.queue).zone
    return spoken_time(record.due_at.astimezone(zone), now.astimezone(zone))


def sms_text(flow: Flow, record: CallbackRecord, now: datetime) -> str:
    """The confirmation text: when, and how to cancel or move it by replying."""
    when = spoken_when(flow, record, now)
    return (
        f"{flow.name}: we'll call you back {when}. "
        "Reply CANCEL to cancel, or reply with a new time (for example: tomorrow at 10am)."
    )
