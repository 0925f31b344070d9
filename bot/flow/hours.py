"""Business hours: ``open: {mon-fri: "08:00-20:00"}`` into :class:`BusinessHours`."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time

from bot.flow.model import BusinessHours, Location, OpeningInterval
from bot.flow.yaml_lines import Map, Node, Reader, Scalar, did_you_mean

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = ("timezone", "open", "closed_on")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
#: "24:00" as an end: ``is_open`` compares ``start <= now < end``, so the last instant counts.
_MIDNIGHT_END = time.max


def parse_days(spec: str) -> list[int]:
    """``"mon-fri"`` -> ``[0, 1, 2, 3, 4]``; ``"sat"`` -> ``[5]``.

    Raises:
        ValueError: with a message for the admin.
    """
    names = [part.strip().lower() for part in spec.split("-")]
    if len(names) > 2 or not all(names):
        raise ValueError(f"'{spec}' is not a day or a range of days like 'mon-fri'")
    for name in names:
        if name not in DAYS:
            raise ValueError(f"unknown day '{name}'{did_you_mean(name, DAYS)} (use mon..sun)")
    first, last = DAYS.index(names[0]), DAYS.index(names[-1])
    if last < first:
        raise ValueError(f"the day range '{spec}' runs backwards; write it like 'mon-fri'")
    return list(range(first, last + 1))


def _clock(text: str, *, end: bool) -> time:
    match = _CLOCK.match(text.strip())
    if match:
        hour, minute = int(match[1]), int(match[2])
        if end and (hour, minute) == (24, 0):
            return _MIDNIGHT_END
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"'{text.strip()}' is not a time like '08:00'")


def parse_windows(spec: str) -> list[OpeningInterval]:
    """``"09:00-13:00, 14:00-17:00"`` -> two intervals, in the order written.

    Raises:
        ValueError: with a message for the admin.
    """
    windows = []
    for part in spec.split(","):
        bounds = part.split("-")
        if len(bounds) != 2:
            raise ValueError(f"'{part.strip()}' is not opening hours like '08:00-20:00'")
        start, end = _clock(bounds[0], end=False), _clock(bounds[1], end=True)
        if end <= start:
            raise ValueError(f"'{part.strip()}' ends before it starts")
        windows.append(OpeningInterval(start, end))
    return windows


def _show(window: OpeningInterval) -> str:
    end = "24:00" if window.end == _MIDNIGHT_END else f"{window.end:%H:%M}"
    return f"{window.start:%H:%M}-{end}"


def _timezone(node: Node, reader: Reader) -> str:
    name = reader.text(node, "business_hours: 'timezone'")
    if name is None:
        return "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(name, zoneinfo.available_timezones())
        reader.problem(node.where, f"business_hours: unknown time zone '{name}'{hint}")
        return "UTC"
    return name


def _open(node: Map, reader: Reader) -> dict[int, tuple[OpeningInterval, ...]]:
    weekly: dict[int, list[tuple[OpeningInterval, Location]]] = {}
    for spec, value in node.items.items():
        where = node.key_at[spec]
        try:
            days = parse_days(spec)
        except ValueError as error:
            reader.problem(where, f"business_hours: {error}")
            continue
        text = reader.text(value, f"business_hours: '{spec}'")
        if text is None:
            continue
        try:
            windows = parse_windows(text)
        except ValueError as error:
            reader.problem(value.where, f"business_hours: '{spec}': {error}")
            continue
        for day in days:
            for window in windows:
                for other, other_where in weekly.get(day, []):
                    if window.start < other.end and other.start < window.end:
                        reader.problem(
                            value.where,
                            f"business_hours: on {DAYS[day]}, {_show(window)} overlaps "
                            f"{_show(other)} (line {other_where.line})",
                        )
                        break
                else:
                    weekly.setdefault(day, []).append((window, value.where))
    return {
        day: tuple(sorted((w for w, _ in windows), key=lambda w: w.start))
        for day, windows in sorted(weekly.items())
    }


def _closed(node: Node, reader: Reader) -> frozenset[date]:
    items = reader.sequence(node, "business_hours: 'closed_on'")
    dates: set[date] = set()
    for item in items.items if items else ():
        value = item.value if isinstance(item, Scalar) else None
        if isinstance(value, date) and not isinstance(value, datetime):
            dates.add(value)
        else:
            text = item.text if isinstance(item, Scalar) else "this"
            reader.problem(
                item.where, f"business_hours: closed_on: '{text}' is not a date like 2026-12-25"
            )
    return frozenset(dates)


def read_business_hours(node: Node, reader: Reader) -> BusinessHours:
    """Build :class:`BusinessHours` from the ``business_hours`` section, reporting to ``reader``."""
    section = reader.mapping(node, "business_hours")
    if section is None:
        return BusinessHours(where=node.where)
    reader.keys(section, KEYS, "business_hours: ")
    timezone = "UTC"
    if "timezone" in section.items:
        timezone = _timezone(section.items["timezone"], reader)
    weekly: dict[int, tuple[OpeningInterval, ...]] = {}
    if "open" in section.items:
        opening = reader.mapping(section.items["open"], "business_hours: 'open'")
        weekly = _open(opening, reader) if opening else {}
    closed = (
        _closed(section.items["closed_on"], reader) if "closed_on" in section.items else frozenset()
    )
    return BusinessHours(timezone, weekly, closed, section.where)
