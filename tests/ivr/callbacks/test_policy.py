"""Pure callback decisions: back-off, giving up, quiet hours, closed days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.callback_time import can_ring, is_quiet
from bot.flow.model import BusinessHours, OpeningInterval
from ivr.callbacks.policy import (
    after_failed_attempt,
    kept_on_time,
    next_ring_time,
    retry_delay,
)

LONDON = ZoneInfo("Europe/London")
NIGHT = (OpeningInterval(time(21), time(8)),)  # "21:00-08:00", wraps midnight
WEEKDAYS = BusinessHours(
    timezone="Europe/London",
    weekly={day: (OpeningInterval(time(8), time(20)),) for day in range(5)},
    closed_dates=frozenset({date(2026, 12, 25)}),
)


def local(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def test_back_off_follows_the_list_and_repeats_its_last_delay() -> None:
    delays = (5, 15, 60)
    assert [retry_delay(n, delays) for n in (1, 2, 3, 4, 9)] == [
        timedelta(minutes=m) for m in (5, 15, 60, 60, 60)
    ]
    with pytest.raises(ValueError):
        retry_delay(0, delays)
    with pytest.raises(ValueError):
        retry_delay(1, ())


def test_max_attempts_gives_up() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert after_failed_attempt(1, 3, (5, 15), now) == now + timedelta(minutes=5)
    assert after_failed_attempt(2, 3, (5, 15), now) == now + timedelta(minutes=15)
    assert after_failed_attempt(3, 3, (5, 15), now) is None
    assert after_failed_attempt(1, 1, (5,), now) is None


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (local(2026, 11, 23, 20, 59), False),
        (local(2026, 11, 23, 21, 0), True),
        (local(2026, 11, 23, 23, 59), True),
        (local(2026, 11, 24, 0, 0), True),
        (local(2026, 11, 24, 7, 59), True),
        (local(2026, 11, 24, 8, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(moment: datetime, quiet: bool) -> None:
    assert is_quiet(moment, LONDON, NIGHT) is quiet
    # The same moment given in another zone is read in the queue's zone.
    assert is_quiet(moment.astimezone(ZoneInfo("Asia/Tokyo")), LONDON, NIGHT) is quiet


def test_quiet_hours_within_a_day() -> None:
    lunch = (OpeningInterval(time(12), time(13)),)
    assert is_quiet(local(2026, 11, 23, 12, 30), LONDON, lunch)
    assert not is_quiet(local(2026, 11, 23, 13, 0), LONDON, lunch)
    assert not is_quiet(local(2026, 11, 23, 12, 30), LONDON, ())


def test_can_ring_needs_open_hours_and_no_quiet() -> None:
    evening = (OpeningInterval(time(19), time(8)),)
    assert can_ring(local(2026, 11, 23, 18, 0), WEEKDAYS, evening)
    assert not can_ring(local(2026, 11, 23, 19, 30), WEEKDAYS, evening)  # open, but quiet
    assert not can_ring(local(2026, 11, 28, 12, 0), WEEKDAYS, ())  # Saturday
    assert not can_ring(local(2026, 12, 25, 12, 0), WEEKDAYS, ())  # closed date (a Friday)


def test_next_ring_time_now_when_allowed() -> None:
    now = local(2026, 11, 23, 10, 17, 31)
    assert next_ring_time(now, WEEKDAYS, NIGHT) == now


def test_next_ring_time_skips_quiet_night_and_weekend() -> None:
    friday_late = local(2026, 11, 27, 21, 30)
    assert next_ring_time(friday_late, WEEKDAYS, NIGHT) == local(2026, 11, 30, 8, 0)
    tuesday_night = local(2026, 11, 24, 23, 5)
    assert next_ring_time(tuesday_night, WEEKDAYS, NIGHT) == local(2026, 11, 25, 8, 0)


def test_next_ring_time_skips_closed_dates() -> None:
    christmas_eve = local(2026, 12, 24, 20, 0)
    assert next_ring_time(christmas_eve, WEEKDAYS) == local(2026, 12, 28, 8, 0)  # Mon


def test_next_ring_time_with_an_extra_condition_and_none_when_never() -> None:
    now = local(2026, 11, 23, 9, 0)
    after_ten = next_ring_time(now, WEEKDAYS, (), also=lambda m: m.astimezone(LONDON).hour >= 10)
    assert after_ten == local(2026, 11, 23, 10, 0)
    assert next_ring_time(now, WEEKDAYS, (), also=lambda m: False) is None
    with pytest.raises(ValueError):
        next_ring_time(datetime(2026, 1, 1), WEEKDAYS)


def test_next_ring_time_across_a_clock_change() -> None:
    # Europe/London leaves summer time on 25 October 2026: 08:00 local is 08:00 UTC again.
    saturday = local(2026, 10, 24, 12, 0)
    assert next_ring_time(saturday, WEEKDAYS, NIGHT) == local(2026, 10, 26, 8, 0)
    assert local(2026, 10, 26, 8, 0).utcoffset() == timedelta(0)


def test_on_time_is_within_two_minutes_of_the_promise() -> None:
    promised = datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert kept_on_time(promised, promised + timedelta(seconds=119))
    assert kept_on_time(promised, promised + timedelta(minutes=2))
    assert not kept_on_time(promised, promised + timedelta(minutes=2, seconds=1))
    assert kept_on_time(promised, promised - timedelta(seconds=30))
