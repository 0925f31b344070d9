"""From what the caller said to a :class:`TimeAnswer`: our rules, then dateparser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import dateparser

from bot.callback_time.hours import (
    HORIZON,
    earliest_callback,
    later,
    local_moment,
    opening_time,
    round_up,
    snap_into_hours,
)
from bot.callback_time.words import PART_MERIDIEM, PARTS, Said, read, tokens
from bot.flow.model import BusinessHours, OpeningInterval

Kind = Literal["time", "asap", "unclear", "past"]


@dataclass(frozen=True)
class TimeAnswer:
    """What the caller's answer to "when shall we call you back?" came to.

    ``at`` is aware, in the queue's zone, rounded up to 5 minutes and snapped into open hours
    (``None`` for ``unclear`` and ``past``). ``asked`` is the moment the caller named, rounded up
    to 5 minutes (``None`` for ``asap`` and ``unclear``). ``snapped`` is whether ``at`` differs
    from it because the line was closed or quiet then; for ``asap``, whether it is closed now.
    """

    kind: Kind
    at: datetime | None = None
    asked: datetime | None = None
    snapped: bool = False


def _hour24(hour: int, meridiem: str | None, part: str | None) -> int | None:
    meridiem = meridiem or PART_MERIDIEM.get(part or "")
    if meridiem == "fixed":
        return hour
    if meridiem in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if meridiem == "pm" else 0)
    if 1 <= hour <= 7:
        return hour + 12  # callers book callbacks in business hours
    return hour if hour < 24 else None


def _days(said: Said, today: date) -> set[date | None]:
    found: set[date | None] = set(said.dates)
    days = said.days
    if said.dates and all(day is not None for day in said.dates):
        # "on Monday 28 December" (as the bot says it back): the weekday names that date
        weekdays = {day.weekday() for day in said.dates if day is not None}
        days = [(k, v) for k, v in days if k not in ("weekday", "this") or {v} != weekdays]
    weekday = next((value for kind, value in days if kind in ("weekday", "this")), None)
    for kind, value in days:
        if kind == "offset":
            found.add(today + timedelta(days=value))
        elif kind == "weekday" and not any(k == "next week" for k, _ in said.days):
            found.add(today + timedelta(days=(value - today.weekday()) % 7 or 7))
        elif kind == "this":
            found.add(today + timedelta(days=(value - today.weekday()) % 7))
        elif kind == "last":
            found.add(today - timedelta(days=(today.weekday() - value) % 7 or 7))
        elif kind == "next week":
            monday = today + timedelta(days=7 - today.weekday())
            found.add(monday + timedelta(days=weekday or 0))
    return found


def _span(said: Said, day: date, hours: BusinessHours) -> tuple[time, time | None] | None:
    """When on ``day``: (proposed time, end until which now counts; ``None``: exactly then)."""
    if said.clock is not None:
        hour, minute, meridiem = said.clock
        hour24 = _hour24(hour, meridiem, said.part)
        if hour24 is None or minute > 59:
            return None
        clock = time(hour24 % 24, minute)
        return (opening_time(day, hours), clock) if said.before else (clock, None)
    if said.part == "first thing":
        return opening_time(day, hours), None
    if said.part is not None:
        return PARTS[said.part](day, hours)
    return opening_time(day, hours), time.max  # a day alone: from its opening


def _place(day: date, said: Said, now: datetime, hours: BusinessHours) -> datetime | None:
    """The moment on ``day`` for what was said, ``None`` if it has gone by (or does not exist)."""
    span = _span(said, day, hours)
    if span is None:
        return None
    start = local_moment(day, span[0], hours.zone)
    if span[1] is None:
        return start if start >= now else None
    return max(start, now) if now < local_moment(day, span[1], hours.zone) else None


def _timed(
    moment: datetime, now: datetime, hours: BusinessHours, quiet: tuple[OpeningInterval, ...]
) -> TimeAnswer:
    if moment < now:
        return TimeAnswer("past", asked=moment)
    if moment - now > HORIZON:
        return TimeAnswer("unclear")
    asked = round_up(moment)
    at = snap_into_hours(asked, hours, quiet)
    return TimeAnswer("time", at, asked, at != asked)


def _resolve(
    said: Said, now: datetime, hours: BusinessHours, quiet: tuple[OpeningInterval, ...]
) -> TimeAnswer:
    if said.conflict or said.vague:
        return TimeAnswer("unclear")
    days = _days(said, now.date())
    timed = said.clock is not None or said.part is not None
    if said.delta is not None:
        if days or timed:
            return TimeAnswer("unclear")
        return _timed(later(now, said.delta), now, hours, quiet)
    if len(days) > 1 or None in days:
        return TimeAnswer("unclear")
    if not days and not timed:
        if said.past:
            return TimeAnswer("past")
        at = earliest_callback(now, hours, quiet)
        return TimeAnswer("asap", at, None, at != round_up(now))
    if days:
        day = days.pop()
        assert day is not None
        moment = _place(day, said, now, hours)
        if moment is None:
            span = _span(said, day, hours)
            if span is None:
                return TimeAnswer("unclear")
            return TimeAnswer("past", asked=local_moment(day, span[0], hours.zone))
    else:
        tomorrow = now.date() + timedelta(days=1)
        moment = _place(now.date(), said, now, hours) or _place(tomorrow, said, now, hours)
        if moment is None:
            return TimeAnswer("unclear")
    if said.past:
        return TimeAnswer("past", asked=moment)
    return _timed(moment, now, hours, quiet)


def _dateparser(
    text: str,
    language: str,
    now: datetime,
    hours: BusinessHours,
    quiet: tuple[OpeningInterval, ...],
) -> TimeAnswer:
    """The whole answer through dateparser: what our rules could not read."""
    words = tokens(text, language)
    if len(words) < 2:
        return TimeAnswer("unclear")  # dateparser takes "a", "one", "March" for a date
    base = now.replace(tzinfo=None)
    settings = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    for candidate in (text, " ".join(words)):
        try:
            parsed = dateparser.parse(candidate, languages=[language], settings=settings)
        except Exception:  # a parser bug must not end a call: treat it as not understood
            parsed = None
        if parsed is not None:
            break
    else:
        return TimeAnswer("unclear")
    if parsed.time() in (time(0), base.time()):  # dateparser's way of saying "no time given"
        said = Said()
        moment = _place(parsed.date(), said, now, hours)
        if moment is None:
            opening = opening_time(parsed.date(), hours)
            return TimeAnswer("past", asked=local_moment(parsed.date(), opening, hours.zone))
    else:
        moment = local_moment(parsed.date(), parsed.time(), hours.zone)
    return _timed(moment, now, hours, quiet)


def resolve_callback_time(
    text: str,
    language: str,
    now: datetime,
    hours: BusinessHours,
    quiet_hours: tuple[OpeningInterval, ...] = (),
) -> TimeAnswer:
    """What the caller's answer ``text`` to "when shall we call you back?" comes to.

    ``now`` is aware (any zone); the answer is resolved in ``hours``' zone, rounded up to 5
    minutes and snapped out of closed and quiet times (see the module docstring for the rules).
    """
    local_now = now.astimezone(hours.zone)
    said = read(text, language, local_now.date())
    if said.unread_digits or not said.found():
        return _dateparser(text, language, local_now, hours, quiet_hours)
    return _resolve(said, local_now, hours, quiet_hours)


# Saying it back.
