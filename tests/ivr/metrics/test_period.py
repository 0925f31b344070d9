"""Periods: local days in a time zone, as UTC instants, the end excluded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from ivr.metrics import Period

LONDON = "Europe/London"


def test_today_is_the_local_day() -> None:
    period = Period.today(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), LONDON)  # 00:30 BST, 2 July
    assert period == Period(
        datetime(2026, 7, 1, 23, tzinfo=UTC), datetime(2026, 7, 2, 23, tzinfo=UTC)
    )


def test_last_days_end_tonight_and_cross_a_clock_change() -> None:
    now = datetime(2026, 3, 30, 12, tzinfo=UTC)
    week = Period.last_7_days(now, LONDON)
    assert week.start == datetime(2026, 3, 24, tzinfo=UTC)  # GMT
    assert week.end == datetime(2026, 3, 30, 23, tzinfo=UTC)  # BST
    assert week.end - week.start == timedelta(days=7, hours=-1)
    month = Period.last_30_days(now, LONDON)
    assert (month.start, month.end) == (datetime(2026, 3, 1, tzinfo=UTC), week.end)
    assert Period.last_days(1, now, LONDON) == Period.today(now, LONDON)


def test_custom_days_include_the_last_one() -> None:
    period = Period.days(date(2026, 1, 1), date(2026, 1, 2), "America/New_York")
    assert period == Period(
        datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2026, 1, 3, 5, tzinfo=UTC)
    )


def test_times_are_kept_in_utc() -> None:
    start = datetime.fromisoformat("2026-05-01T10:00:00+02:00")
    assert Period(start, start + timedelta(hours=1)).start == datetime(2026, 5, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Period(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC)), "naive"),
        (
            lambda: Period(datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
            "before",
        ),
        (lambda: Period.days(date(2026, 1, 2), date(2026, 1, 1), LONDON), "before"),
        (lambda: Period.last_days(0, datetime(2026, 1, 1, tzinfo=UTC), LONDON), "at least 1"),
        (lambda: Period.today(datetime(2026, 1, 1), LONDON), "naive"),
    ],
)
def test_bad_periods_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
