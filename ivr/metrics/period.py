"""The stretch of time a report covers: ``[start, end)`` in UTC, built from local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """From ``start`` (included) to ``end`` (excluded), both aware and kept in UTC.

    A call belongs to the period its ``started_at`` falls in; a callback, its ``promised_at``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Period {name}={value.isoformat()} is naive; give a time zone")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"Period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def days(cls, first: date, last: date, timezone: str) -> Period:
        """Whole local days ``first`` to ``last`` (both included) in ``timezone``."""
        if last < first:
            raise ValueError(f"the last day {last} is before the first {first}")
        return cls(_midnight(first, timezone), _midnight(last + timedelta(days=1), timezone))

    @classmethod
    def today(cls, now: datetime, timezone: str) -> Period:
        """The local day ``now`` is in (its end is the coming midnight)."""
        day = _local_day(now, timezone)
        return cls.days(day, day, timezone)

    @classmethod
    def last_days(cls, count: int, now: datetime, timezone: str) -> Period:
        """Today and the ``count - 1`` local days before it."""
        if count < 1:
            raise ValueError(f"count={count} must be at least 1")
        day = _local_day(now, timezone)
        return cls.days(day - timedelta(days=count - 1), day, timezone)

    @classmethod
    def last_7_days(cls, now: datetime, timezone: str) -> Period:
        """Today and the six days before it."""
        return cls.last_days(7, now, timezone)

    @classmethod
    def last_30_days(cls, now: datetime, timezone: str) -> Period:
        """Today and the 29 days before it."""
        return cls.last_days(30, now, timezone)


def _local_day(now: datetime, timezone: str) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} is naive; give a time zone")
    return now.astimezone(ZoneInfo(timezone)).date()


def _midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)
