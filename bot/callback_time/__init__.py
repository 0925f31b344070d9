"""Callback time: what a caller said ("tomorrow after three") as a moment the line can ring them.

:func:`resolve_callback_time` reads the answer to "when shall we call you back?" with small rules
of our own first (they cover how people talk on the phone, and take well under a millisecond) and
``dateparser`` only as a fallback for what the rules do not read ("2026-03-12 15:00", "28/12").
Everything happens in the queue's time zone, whatever the zone of ``now``. Pure: no IO, no clock.

Decisions, so that the read-back is predictable:

- A bare hour from 1 to 7 means the afternoon ("at 5:30" is 17:30), as in
  :mod:`bot.engine.slots`; "am", "in the morning" override it, "pm", "in the evening" add 12.
- "morning" = 09:00, or the opening time if later; "lunchtime" = 12:00; "afternoon" and "after
  lunch" = 14:00; "evening", "tonight" = 18:00; "end of the day" = one hour before closing;
  "first thing" = opening; "after three" = 15:00; "before noon", "before three", "by three" =
  the opening time. A day without opening hours counts as open 09:00-17:00 for these.
- A part of the day already under way today means now ("this afternoon" at 15:10 is 15:10); one
  that is over means tomorrow's, or ``past`` if the caller said "today" or "this". A time alone
  that has gone by today means tomorrow ("at 9" said at 11:00 is tomorrow at 09:00); with "today"
  it is ``past``.
- A day alone means its opening time ("tomorrow" = tomorrow at opening; "today" = now). A weekday
  is the next one after today ("Monday" said on a Monday is a week away, "this Monday" is today);
  "next Monday" is the coming Monday too. "next week" = next Monday at opening; "the weekend" =
  Saturday. "28 December" is this year's, or next year's if it went by more than a month ago
  (within a month it is ``past``); "the 28th" is this month's or next month's.
- "as soon as possible", "asap", "now", "straight away", "any time", "whenever" = ``asap``: now
  rounded up to 5 minutes when the line is open and not quiet, else the next such moment.
- "yesterday", "last Monday", "an hour ago" = ``past``.
- ``unclear``: nonsense; two different days or times ("Monday or Tuesday", "morning or
  afternoon"); a relative time with a day ("tomorrow in an hour"); "later", "this week", "next
  month", "midnight"; a lone word dateparser would take as a date ("March", "one"); anything more
  than a year ahead.
- Every moment is rounded up to 5 minutes, then snapped: when the line is closed (outside its
  windows or on a ``closed_on`` date) or in the queue's quiet hours, it moves to the next moment
  the line is open and not quiet (an opening time or the end of quiet hours).

English is complete. Czech, Polish and Latvian answers are first translated into English
(:mod:`bot.callback_time.foreign`: days, dates, parts of the day, hours as each language says
them, durations, "as soon as possible"), so the same rules apply; dateparser covers some of
the rest. :func:`spoken_time` says a moment back in words, :func:`written_time` in figures.
"""

from bot.callback_time.hours import (
    HORIZON,
    STEP,
    can_ring,
    earliest_callback,
    is_quiet,
    round_up,
    snap_into_hours,
)
from bot.callback_time.resolve import Kind, TimeAnswer, resolve_callback_time
from bot.callback_time.spoken import spoken_number, spoken_time, written_time

__all__ = [
    "HORIZON",
    "STEP",
    "Kind",
    "TimeAnswer",
    "can_ring",
    "earliest_callback",
    "is_quiet",
    "resolve_callback_time",
    "round_up",
    "snap_into_hours",
    "spoken_number",
    "spoken_time",
    "written_time",
]
