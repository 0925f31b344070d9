"""Opening-hours arithmetic for callbacks: rounding, quiet hours, the next time to ring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.flow.model import BusinessHours, OpeningInterval

STEP = timedelta(minutes=5)
#: A "callback" further ahead than this is a misunderstanding, not a booking.
HORIZON = timedelta(days=366)
_SEARCH_DAYS = 400  # how far snapping looks for an open moment (a year of closed dates + a week)
_DEFAULT_DAY = (time(9), time(17))  # opening and closing for a day without opening hours


def later(moment: datetime, delta: timedelta) -> datetime:
    """``moment`` plus ``delta`` of elapsed time, in ``moment``'s zone."""
    # Elapsed time, in UTC: "in an hour" on the night the clocks change is still an hour.
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``clock`` on ``day`` in ``zone``, as a real (aware) moment."""
    # Through UTC so a wall time in a DST gap (02:30 on the spring night) becomes a real one.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC).astimezone(zone)


def round_up(moment: datetime) -> datetime:
    """``moment`` rounded up to the next whole 5 minutes (unchanged when already on one)."""
    floor = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
    return floor if floor == moment else later(floor, STEP)


def is_quiet(moment: datetime, zone: ZoneInfo, quiet_hours: Sequence[OpeningInterval] = ()) -> bool:
    """Whether ``moment``, read in ``zone``, falls in the quiet hours (nobody is rung).

    Quiet hours are local times; an interval with ``start > end`` wraps midnight.
    """
    clock = moment.astimezone(zone).time().replace(tzinfo=None)
    return any(
        (q.start <= clock < q.end) if q.start <= q.end else (clock >= q.start or clock < q.end)
        for q in quiet_hours
    )


def can_ring(
    moment: datetime, hours: BusinessHours, quiet_hours: Sequence[OpeningInterval] = ()
) -> bool:
    """Whether the line is open at ``moment`` and it is outside the quiet hours."""
    return hours.is_open(moment) and not is_quiet(moment, hours.zone, quiet_hours)


def _windows(day: date, hours: BusinessHours) -> tuple[OpeningInterval, ...]:
    return () if day in hours.closed_dates else tuple(hours.weekly.get(day.weekday(), ()))


def snap_into_hours(
    moment: datetime, hours: BusinessHours, quiet_hours: tuple[OpeningInterval, ...] = ()
) -> datetime:
    """``moment`` in the hours' zone, moved to the next moment the line can ring the caller.

    A moment when the line is open and not quiet comes back unchanged; otherwise the result is
    the next opening time or end of quiet hours at which both hold. If there is none within
    about a year (a line that never opens), ``moment`` comes back unchanged.
    """
    zone = hours.zone
    local = moment.astimezone(zone)
    if can_ring(local, hours, quiet_hours):
        return local
    quiet_ends = {q.end for q in quiet_hours}
    for offset in range(_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        starts = {w.start for w in _windows(day, hours)} if hours.weekly else {time(0)}
        for start in sorted(starts | quiet_ends):
            candidate = local_moment(day, start, zone)
            if candidate > local and can_ring(candidate, hours, quiet_hours):
                return candidate
    return local


def earliest_callback(
    now: datetime, hours: BusinessHours, quiet_hours: tuple[OpeningInterval, ...] = ()
) -> datetime:
    """The first moment from ``now`` (rounded up to 5 minutes) the line can ring the caller."""
    return snap_into_hours(round_up(now.astimezone(hours.zone)), hours, quiet_hours)


def opening_time(day: date, hours: BusinessHours) -> time:
    """When the line opens on ``day`` (09:00 for a day without opening hours)."""
    windows = _windows(day, hours)
    return windows[0].start if windows else _DEFAULT_DAY[0]


def closing_time(day: date, hours: BusinessHours) -> time:
    """When the line closes on ``day`` (17:00 for a day without opening hours)."""
    windows = _windows(day, hours)
    return windows[-1].end if windows else _DEFAULT_DAY[1]


def hour_before_closing(day: date, hours: BusinessHours) -> tuple[time, time]:
    """The end of the day: from an hour before closing until closing."""
    closing = closing_time(day, hours)
    return (datetime.combine(day, closing) - timedelta(hours=1)).time(), closing


# A span of a day: (the moment to propose, the end until which "now" still counts).
