"""Listing REST resources as Twilio does: the list filters and the paging envelope.

    calls = select_calls(records, form)          # To, From, Status, StartTime>=..., newest first
    body = page(calls, form, request_path, "calls")

A bad filter or paging value raises :class:`~twilio_emulator.rest_resources.RestError` (400,
code 20001).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from twilio_emulator.rest_resources import CallRecord, Form, MessageRecord, RestError

_MAX_PAGE_SIZE = 1000


def select_calls(calls: Iterable[CallRecord], form: Form) -> list[CallRecord]:
    """The calls matching the list filters, newest first.

    ``To``, ``From``, ``Status``, ``ParentCallSid``, and ``StartTime``/``EndTime`` exactly,
    ``>=`` (sent as ``StartTime>``) and ``<=`` (``StartTime<``), each a date (``2026-11-22``,
    the whole day) or a time (``2026-11-22T10:00:00Z``, to the second). A call not yet started
    (queued) has no start time, so every ``StartTime`` filter leaves it out (an inference).
    """
    chosen = list(calls)
    for name, attribute in (
        ("To", "to"),
        ("From", "from_"),
        ("Status", "status"),
        ("ParentCallSid", "parent_call_sid"),
    ):
        wanted = form.get(name)
        if wanted is not None:
            chosen = [c for c in chosen if getattr(c, attribute) == wanted]
    chosen = _by_time(chosen, form, "StartTime", "start_time")
    chosen = _by_time(chosen, form, "EndTime", "end_time")
    return sorted(chosen, key=lambda c: c.date_created, reverse=True)


def select_messages(messages: Iterable[MessageRecord], form: Form) -> list[MessageRecord]:
    """The messages matching ``To``, ``From`` and ``DateSent`` (as ``StartTime``), newest first."""
    chosen = list(messages)
    for name, attribute in (("To", "to"), ("From", "from_")):
        wanted = form.get(name)
        if wanted is not None:
            chosen = [m for m in chosen if getattr(m, attribute) == wanted]
    chosen = _by_time(chosen, form, "DateSent", "date_sent")
    return sorted(chosen, key=lambda m: m.date_created, reverse=True)


def page(items: list[Any], form: Form, path: str, key: str) -> dict[str, Any]:
    """Twilio's paging envelope around ``items`` (``PageSize`` 50 by default, ``Page`` from 0).

    The page URIs keep every filter, so the client's ``next_page_uri`` needs nothing else.
    """
    size = _int(form.get("PageSize"), 50, "PageSize")
    size = max(1, min(size, _MAX_PAGE_SIZE))
    number = max(0, _int(form.get("Page"), 0, "Page"))
    start = number * size
    chunk = items[start : start + size]
    kept = [(k, v) for k, v in form.pairs if k not in ("Page", "PageSize", "PageToken")]

    def uri(n: int) -> str:
        return path + "?" + urlencode([*kept, ("PageSize", str(size)), ("Page", str(n))])

    has_next = start + size < len(items)
    return {
        key: [item.to_json() for item in chunk],
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1) if has_next else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start,
        "uri": uri(number),
    }


def _by_time(items: list[Any], form: Form, name: str, attribute: str) -> list[Any]:
    for suffix in ("", ">", "<"):
        value = form.get(name + suffix)
        if value is None:
            continue
        low, high = _moment(value, name + suffix, exact=suffix == "")
        kept = []
        for item in items:
            moment = getattr(item, attribute)
            if moment is None:
                continue
            if (
                (suffix == "" and low <= moment < high)
                or (suffix == ">" and moment >= low)
                or (suffix == "<" and moment < high)
            ):
                kept.append(item)
        items = kept
    return items


def _moment(value: str, name: str, exact: bool) -> tuple[datetime, datetime]:
    """A filter value as the half-open range it stands for: a whole day, or one second.

    Dates are days; so are midnights (twilio-python sends a ``date`` as ``T00:00:00Z``) and
    any value of the exact filter (Twilio documents ``StartTime`` as a date).
    """
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RestError(400, 20001, f"Invalid {name} value: {value}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if exact or moment.time() == time(0):
        low = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return low, low + timedelta(days=1)
    return moment, moment + timedelta(seconds=1)


def _int(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RestError(400, 20001, f"Invalid {name} value: {value}") from None
