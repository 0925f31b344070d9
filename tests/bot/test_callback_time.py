"""Callback times in the caller's words: resolved in the queue's zone, snapped, said back."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.callback_time import (
    TimeAnswer,
    can_ring,
    earliest_callback,
    resolve_callback_time,
    round_up,
    snap_into_hours,
    spoken_number,
    spoken_time,
    written_time,
)
from bot.flow.hours import parse_days, parse_windows
from bot.flow.model import BusinessHours, OpeningInterval

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def hours(timezone: str, opening: dict[str, str], closed: tuple[date, ...] = ()) -> BusinessHours:
    """Hours as an admin writes them: ``{"mon-fri": "08:00-20:00"}``."""
    weekly = {
        day: tuple(parse_windows(windows)) for days, windows in opening.items()
        for day in parse_days(days)
    }  # fmt: skip
    return BusinessHours(timezone, weekly, frozenset(closed))


HOURS = {
    # A contact centre: long weekdays, Saturday mornings, closed on Sundays.
    "standard": hours("Europe/London", {"mon-fri": "08:00-20:00", "sat": "09:00-13:00"}),
    "office": hours("Europe/London", {"mon-fri": "09:00-17:30"}),
    "christmas": hours(
        "Europe/London",
        {"mon-fri": "08:00-20:00", "sat": "09:00-13:00"},
        (date(2026, 12, 25), date(2026, 12, 26)),
    ),
    "new_york": hours("America/New_York", {"mon-fri": "09:00-17:00"}),
    "always": BusinessHours("Europe/London"),  # no hours: open around the clock
    "always_ny": BusinessHours("America/New_York"),
}
NIGHT = (OpeningInterval(time(21), time(8)),)  # quiet hours wrapping midnight
QUIET = {"none": (), "night": NIGHT}
NOWS = {
    "tue": datetime(2026, 3, 10, 10, 2, tzinfo=LONDON),  # Tuesday morning
    "fri": datetime(2026, 3, 13, 17, 45, tzinfo=LONDON),  # Friday, after the office closed
    "sat": datetime(2026, 3, 14, 22, 40, tzinfo=LONDON),  # Saturday, late evening
    "xmas_eve": datetime(2026, 12, 24, 16, 0, tzinfo=LONDON),  # the day before closed_on
    "ny": datetime(2026, 3, 10, 2, 30, tzinfo=UTC),  # Monday 22:30 in New York, Tuesday in UTC
    "eu_dst": datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # London's clocks go forward at 01:00
    "eu_dst_fri": datetime(2026, 3, 27, 17, 45, tzinfo=LONDON),  # the Friday before
    "us_dst": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT; at 02:00 it is 01:00 EST
}

TIME, ASAP, PAST, UNCLEAR = "time", "asap", "past", "unclear"

PHRASINGS = [
    # (now, hours, quiet hours, what the caller said, kind, at, snapped)
    # Tuesday 10:02, open 08:00-20:00: relative times are rounded up to 5 minutes.
    ("tue", "standard", "none", "in an hour", TIME, "2026-03-10T11:05:00+00:00", False),
    ("tue", "standard", "none", "in half an hour", TIME, "2026-03-10T10:35:00+00:00", False),
    ("tue", "standard", "none", "in an hour and a half", TIME, "2026-03-10T11:35:00+00:00", False),
    ("tue", "standard", "none", "In 20 minutes.", TIME, "2026-03-10T10:25:00+00:00", False),
    ("tue", "standard", "none", "in a couple of hours", TIME, "2026-03-10T12:05:00+00:00", False),
    ("tue", "standard", "none", "call me back in about two hours please", TIME,
     "2026-03-10T12:05:00+00:00", False),
    ("tue", "standard", "none", "an hour from now", TIME, "2026-03-10T11:05:00+00:00", False),
    ("tue", "standard", "none", "in a quarter of an hour", TIME, "2026-03-10T10:20:00+00:00",
     False),
    ("tue", "standard", "none", "in an hour and 20 minutes", TIME, "2026-03-10T11:25:00+00:00",
     False),
    # Days and times of day.
    ("tue", "standard", "none", "tomorrow after three", TIME, "2026-03-11T15:00:00+00:00", False),
    ("tue", "standard", "none", "tomorrow at three", TIME, "2026-03-11T15:00:00+00:00", False),
    ("tue", "standard", "none", "tomorrow at 10:30", TIME, "2026-03-11T10:30:00+00:00", False),
    ("tue", "standard", "none", "3 p.m. tomorrow", TIME, "2026-03-11T15:00:00+00:00", False),
    ("tue", "standard", "none", "three thirty tomorrow", TIME, "2026-03-11T15:30:00+00:00", False),
    ("tue", "standard", "none", "Er, tomorrow morning at ten if that's OK", TIME,
     "2026-03-11T10:00:00+00:00", False),
    ("tue", "standard", "none", "tomorrow morning", TIME, "2026-03-11T09:00:00+00:00", False),
    ("tue", "standard", "none", "Monday morning", TIME, "2026-03-16T09:00:00+00:00", False),
    ("tue", "standard", "none", "at 5:30", TIME, "2026-03-10T17:30:00+00:00", False),
    ("tue", "standard", "none", "at 9", TIME, "2026-03-11T09:00:00+00:00", False),  # gone by
    ("tue", "standard", "none", "half past three", TIME, "2026-03-10T15:30:00+00:00", False),
    ("tue", "standard", "none", "half three", TIME, "2026-03-10T15:30:00+00:00", False),
    ("tue", "standard", "none", "quarter to four tomorrow", TIME, "2026-03-11T15:45:00+00:00",
     False),
    ("tue", "standard", "none", "ten past eleven", TIME, "2026-03-10T11:10:00+00:00", False),
    ("tue", "standard", "none", "at five o'clock", TIME, "2026-03-10T17:00:00+00:00", False),
    ("tue", "standard", "none", "this afternoon", TIME, "2026-03-10T14:00:00+00:00", False),
    ("tue", "standard", "none", "this morning", TIME, "2026-03-10T10:05:00+00:00", False),  # now
    ("tue", "standard", "none", "lunchtime", TIME, "2026-03-10T12:00:00+00:00", False),
    ("tue", "standard", "none", "after lunch on Thursday", TIME, "2026-03-12T14:00:00+00:00",
     False),
    ("tue", "standard", "none", "this evening", TIME, "2026-03-10T18:00:00+00:00", False),
    ("tue", "standard", "none", "end of the day", TIME, "2026-03-10T19:00:00+00:00", False),
    ("tue", "standard", "none", "first thing tomorrow", TIME, "2026-03-11T08:00:00+00:00", False),
    ("tue", "standard", "none", "before noon", TIME, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "before noon tomorrow", TIME, "2026-03-11T08:00:00+00:00", False),
    ("tue", "standard", "none", "not before three", TIME, "2026-03-10T15:00:00+00:00", False),
    ("tue", "standard", "none", "between 2 and 4 tomorrow", TIME, "2026-03-11T14:00:00+00:00",
     False),
    ("tue", "standard", "none", "noon on Wednesday", TIME, "2026-03-11T12:00:00+00:00", False),
    ("tue", "standard", "none", "any time tomorrow", TIME, "2026-03-11T08:00:00+00:00", False),
    ("tue", "standard", "none", "the day after tomorrow", TIME, "2026-03-12T08:00:00+00:00",
     False),
    ("tue", "standard", "none", "in three days", TIME, "2026-03-13T08:00:00+00:00", False),
    ("tue", "standard", "none", "next week", TIME, "2026-03-16T08:00:00+00:00", False),
    ("tue", "standard", "none", "Tuesday next week", TIME, "2026-03-17T08:00:00+00:00", False),
    ("tue", "standard", "none", "Tuesday", TIME, "2026-03-17T08:00:00+00:00", False),  # not today
    ("tue", "standard", "none", "this Tuesday", TIME, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "next Monday at 10", TIME, "2026-03-16T10:00:00+00:00", False),
    ("tue", "standard", "none", "Friday at 2 pm", TIME, "2026-03-13T14:00:00+00:00", False),
    ("tue", "standard", "none", "on Friday afternoon", TIME, "2026-03-13T14:00:00+00:00", False),
    ("tue", "standard", "none", "28 December", TIME, "2026-12-28T08:00:00+00:00", False),
    ("tue", "standard", "none", "December 28th at 10", TIME, "2026-12-28T10:00:00+00:00", False),
    ("tue", "standard", "none", "on the twenty eighth", TIME, "2026-03-28T09:00:00+00:00", False),
    ("tue", "standard", "none", "5 January", TIME, "2027-01-05T08:00:00+00:00", False),
    # Closed or past closing: snapped to the next opening.
    ("tue", "standard", "none", "tonight at 8", TIME, "2026-03-11T08:00:00+00:00", True),
    ("tue", "standard", "none", "at 8 in the evening", TIME, "2026-03-11T08:00:00+00:00", True),
    ("tue", "standard", "none", "tomorrow at 7 in the morning", TIME,
     "2026-03-11T08:00:00+00:00", True),
    ("tue", "standard", "none", "Saturday at 3", TIME, "2026-03-16T08:00:00+00:00", True),
    # As soon as possible: now, rounded up, while the line is open.
    ("tue", "standard", "none", "as soon as possible", ASAP, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "ASAP", ASAP, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "straight away", ASAP, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "right now please", ASAP, "2026-03-10T10:05:00+00:00", False),
    ("tue", "standard", "none", "whenever you like", ASAP, "2026-03-10T10:05:00+00:00", False),
    # Friday 17:45, the office closed at 17:30: everything moves to Monday 09:00.
    ("fri", "office", "none", "as soon as possible", ASAP, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "in an hour", TIME, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "tomorrow", TIME, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "this afternoon", TIME, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "tonight", TIME, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "at 5:30", TIME, "2026-03-16T09:00:00+00:00", True),
    ("fri", "office", "none", "Monday at 10", TIME, "2026-03-16T10:00:00+00:00", False),
    ("fri", "office", "none", "first thing Monday", TIME, "2026-03-16T09:00:00+00:00", False),
    ("fri", "office", "none", "end of the day on Monday", TIME, "2026-03-16T16:30:00+00:00",
     False),
    ("fri", "office", "none", "next week", TIME, "2026-03-16T09:00:00+00:00", False),
    # Saturday 22:40, late evening: closed until Monday 08:00.
    ("sat", "standard", "none", "tomorrow morning", TIME, "2026-03-16T08:00:00+00:00", True),
    ("sat", "standard", "none", "Monday", TIME, "2026-03-16T08:00:00+00:00", False),
    ("sat", "standard", "none", "asap", ASAP, "2026-03-16T08:00:00+00:00", True),
    ("sat", "standard", "none", "at 11", TIME, "2026-03-16T08:00:00+00:00", True),
    ("sat", "standard", "none", "tonight", PAST, None, False),
    # ... and on a line open around the clock with quiet hours 21:00-08:00.
    ("sat", "always", "night", "asap", ASAP, "2026-03-15T08:00:00+00:00", True),
    ("sat", "always", "night", "in an hour", TIME, "2026-03-15T08:00:00+00:00", True),
    ("sat", "always", "night", "tomorrow at 9", TIME, "2026-03-15T09:00:00+00:00", False),
    ("sat", "always", "night", "tomorrow at 7", TIME, "2026-03-15T19:00:00+00:00", False),  # pm
    ("sat", "always", "night", "tomorrow at 7 am", TIME, "2026-03-15T08:00:00+00:00", True),
    # Christmas Eve 16:00; closed on the 25th and 26th, and on Sundays.
    ("xmas_eve", "christmas", "none", "tomorrow at 10", TIME, "2026-12-28T08:00:00+00:00", True),
    ("xmas_eve", "christmas", "none", "on the 26th", TIME, "2026-12-28T08:00:00+00:00", True),
    ("xmas_eve", "christmas", "none", "in two days", TIME, "2026-12-28T08:00:00+00:00", True),
    ("xmas_eve", "christmas", "none", "asap", ASAP, "2026-12-24T16:00:00+00:00", False),
    ("xmas_eve", "christmas", "none", "end of the day", TIME, "2026-12-24T19:00:00+00:00", False),
    ("xmas_eve", "christmas", "none", "Monday", TIME, "2026-12-28T08:00:00+00:00", False),
    # A New York queue, now given in UTC (already Tuesday there, Monday 22:30 in New York).
    ("ny", "new_york", "none", "tomorrow at 10", TIME, "2026-03-10T10:00:00-04:00", False),
    ("ny", "new_york", "none", "at 9", TIME, "2026-03-10T09:00:00-04:00", False),
    ("ny", "new_york", "none", "Wednesday afternoon", TIME, "2026-03-11T14:00:00-04:00", False),
    ("ny", "new_york", "none", "in an hour", TIME, "2026-03-10T09:00:00-04:00", True),
    ("ny", "new_york", "none", "asap", ASAP, "2026-03-10T09:00:00-04:00", True),
    ("ny", "new_york", "none", "today at 3", PAST, None, False),
    # The weeks the clocks change: elapsed time for "in an hour", wall time for "at 9".
    ("eu_dst", "always", "none", "in an hour", TIME, "2026-03-29T02:30:00+01:00", False),
    ("eu_dst", "always", "none", "in two hours", TIME, "2026-03-29T03:30:00+01:00", False),
    ("eu_dst", "always", "none", "at 9", TIME, "2026-03-29T09:00:00+01:00", False),
    ("eu_dst", "always", "none", "tomorrow at 9", TIME, "2026-03-30T09:00:00+01:00", False),
    ("eu_dst_fri", "standard", "none", "Monday at 9", TIME, "2026-03-30T09:00:00+01:00", False),
    ("eu_dst_fri", "standard", "none", "in an hour", TIME, "2026-03-27T18:45:00+00:00", False),
    ("us_dst", "always_ny", "none", "in an hour", TIME, "2026-11-01T01:30:00-05:00", False),
    ("us_dst", "always_ny", "none", "at 9", TIME, "2026-11-01T09:00:00-05:00", False),
    # Gone by.
    ("tue", "standard", "none", "yesterday", PAST, None, False),
    ("tue", "standard", "none", "yesterday at 3", PAST, None, False),
    ("tue", "standard", "none", "last Monday", PAST, None, False),
    ("tue", "standard", "none", "an hour ago", PAST, None, False),
    ("tue", "standard", "none", "9 March", PAST, None, False),
    ("tue", "standard", "none", "at 9 today", PAST, None, False),
]  # fmt: skip

UNCLEAR_PHRASINGS = [
    "",
    "banana",
    "I don't know",
    "Monday or Tuesday",
    "morning or afternoon",
    "this week",
    "next month",
    "later",
    "March",
    "one",
    "midnight",
    "31 February",
    "13 pm",
    "tomorrow in an hour",
    "give me 5 minutes",
]

FOREIGN_PHRASINGS = [
    ("cs", "zítra ve tři", TIME, "2026-03-11T15:00:00+00:00"),
    ("cs", "v pátek v 10:30", TIME, "2026-03-13T10:30:00+00:00"),
    ("cs", "v pondělí ráno", TIME, "2026-03-16T09:00:00+00:00"),
    ("cs", "za dvě hodiny", TIME, "2026-03-10T12:05:00+00:00"),
    ("cs", "co nejdříve", ASAP, "2026-03-10T10:05:00+00:00"),
    ("pl", "jutro o trzeciej", TIME, "2026-03-11T15:00:00+00:00"),
    ("pl", "w poniedziałek o 10", TIME, "2026-03-16T10:00:00+00:00"),
    ("pl", "jutro po południu", TIME, "2026-03-11T14:00:00+00:00"),
    ("pl", "za godzinę", TIME, "2026-03-10T11:05:00+00:00"),
    ("pl", "jak najszybciej", ASAP, "2026-03-10T10:05:00+00:00"),
    ("lv", "rīt plkst. 15", TIME, "2026-03-11T15:00:00+00:00"),
    ("lv", "pirmdien no rīta", TIME, "2026-03-16T09:00:00+00:00"),
    ("lv", "pēc stundas", TIME, "2026-03-10T11:05:00+00:00"),
    ("lv", "pēc iespējas ātrāk", ASAP, "2026-03-10T10:05:00+00:00"),
]


def resolve(now: str, line: str, quiet: str, text: str, language: str = "en") -> TimeAnswer:
    return resolve_callback_time(text, language, NOWS[now], HOURS[line], QUIET[quiet])


@pytest.mark.parametrize(("now", "line", "quiet", "text", "kind", "at", "snapped"), PHRASINGS)
def test_phrasing(
    now: str, line: str, quiet: str, text: str, kind: str, at: str | None, snapped: bool
) -> None:
    answer = resolve(now, line, quiet, text)
    assert answer.kind == kind
    assert (answer.at.isoformat() if answer.at else None) == at
    assert answer.snapped is snapped


def test_enough_phrasings() -> None:
    assert len(PHRASINGS) + len(UNCLEAR_PHRASINGS) >= 50


@pytest.mark.parametrize("text", UNCLEAR_PHRASINGS)
def test_unclear(text: str) -> None:
    assert resolve("tue", "standard", "none", text) == TimeAnswer("unclear")


@pytest.mark.parametrize(("language", "text", "kind", "at"), FOREIGN_PHRASINGS)
def test_other_languages(language: str, text: str, kind: str, at: str) -> None:
    answer = resolve("tue", "standard", "none", text, language)
    assert (answer.kind, answer.at.isoformat() if answer.at else None) == (kind, at)


def test_at_is_in_the_queue_zone_and_asked_is_what_was_said() -> None:
    answer = resolve("ny", "new_york", "none", "in an hour")
    assert answer.at is not None and answer.asked is not None
    assert answer.at.tzinfo == NEW_YORK
    assert answer.asked.isoformat() == "2026-03-09T23:30:00-04:00"
    assert answer.asked < answer.at


def test_past_keeps_the_moment_that_was_asked() -> None:
    answer = resolve("tue", "standard", "none", "at 9 today")
    assert answer == TimeAnswer("past", None, datetime(2026, 3, 10, 9, 0, tzinfo=LONDON))


def test_asap_is_not_snapped_when_open_on_a_five_minute_mark() -> None:
    now = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
    answer = resolve_callback_time("now", "en", now, HOURS["standard"])
    assert answer == TimeAnswer("asap", now, None, False)


def test_dateparser_fallback_reads_what_the_rules_do_not() -> None:
    answer = resolve("tue", "standard", "none", "2026-03-12 15:00")
    assert (answer.kind, answer.at) == ("time", datetime(2026, 3, 12, 15, 0, tzinfo=LONDON))


def test_resolve_is_fast_after_warm_up() -> None:
    texts = [row[3] for row in PHRASINGS] + UNCLEAR_PHRASINGS
    for text in texts:  # dateparser loads its language data on first use
        resolve("tue", "standard", "none", text)
    started = clock.perf_counter()
    for text in texts:
        resolve("tue", "standard", "none", text)
    mean_ms = (clock.perf_counter() - started) * 1000 / len(texts)
    assert mean_ms < 20


# Snapping into open hours and out of quiet hours.


def test_round_up_to_five_minutes() -> None:
    assert round_up(datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)).minute == 0
    assert round_up(datetime(2026, 3, 10, 10, 0, 1, tzinfo=LONDON)).minute == 5
    assert round_up(datetime(2026, 3, 10, 10, 56, tzinfo=LONDON)) == datetime(
        2026, 3, 10, 11, 0, tzinfo=LONDON
    )


@pytest.mark.parametrize(
    ("moment", "snapped"),
    [
        (datetime(2026, 3, 14, 23, 0), datetime(2026, 3, 15, 8, 0)),  # late: next morning
        (datetime(2026, 3, 15, 3, 0), datetime(2026, 3, 15, 8, 0)),  # after midnight: same day
        (datetime(2026, 3, 15, 12, 0), datetime(2026, 3, 15, 12, 0)),  # fine as it is
        (datetime(2026, 3, 15, 21, 0), datetime(2026, 3, 16, 8, 0)),  # quiet starts at 21:00
        (datetime(2026, 3, 15, 20, 59), datetime(2026, 3, 15, 20, 59)),
    ],
)
def test_quiet_hours_wrap_midnight(moment: datetime, snapped: datetime) -> None:
    result = snap_into_hours(moment.replace(tzinfo=LONDON), HOURS["always"], NIGHT)
    assert result == snapped.replace(tzinfo=LONDON)


def test_quiet_hours_inside_opening_hours_end_at_their_end() -> None:
    lunch = (OpeningInterval(time(12), time(13, 30)),)
    moment = datetime(2026, 3, 10, 12, 15, tzinfo=LONDON)
    assert snap_into_hours(moment, HOURS["standard"], lunch) == datetime(
        2026, 3, 10, 13, 30, tzinfo=LONDON
    )
    assert not can_ring(moment, HOURS["standard"], lunch)
    assert can_ring(moment, HOURS["standard"])


def test_quiet_until_after_opening_snaps_to_the_end_of_quiet_hours() -> None:
    late_start = (OpeningInterval(time(20), time(9, 30)),)
    moment = datetime(2026, 3, 10, 20, 30, tzinfo=LONDON)
    assert snap_into_hours(moment, HOURS["standard"], late_start) == datetime(
        2026, 3, 11, 9, 30, tzinfo=LONDON
    )


def test_snap_skips_closed_dates_and_converts_to_the_queue_zone() -> None:
    moment = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)
    snapped = snap_into_hours(moment, HOURS["christmas"])
    assert snapped == datetime(2026, 12, 28, 8, 0, tzinfo=LONDON)
    assert snapped.tzinfo == LONDON


def test_a_line_that_never_opens_leaves_the_moment_alone() -> None:
    never = BusinessHours("Europe/London", {0: ()})
    moment = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
    assert snap_into_hours(moment, never) == moment


def test_earliest_callback() -> None:
    tuesday = NOWS["tue"]
    assert earliest_callback(tuesday, HOURS["standard"]) == datetime(
        2026, 3, 10, 10, 5, tzinfo=LONDON
    )
    assert earliest_callback(NOWS["fri"], HOURS["office"]) == datetime(
        2026, 3, 16, 9, 0, tzinfo=LONDON
    )
    assert earliest_callback(NOWS["ny"], HOURS["new_york"]).isoformat() == (
        "2026-03-10T09:00:00-04:00"
    )


# Saying it back.

TUESDAY_10 = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("at", "language", "said"),
    [
        (datetime(2026, 3, 11, 15, 0), "en", "tomorrow at 3 pm"),
        (datetime(2026, 3, 10, 15, 30), "en", "today at 3:30 pm"),
        (datetime(2026, 3, 16, 9, 0), "en", "on Monday at 9 am"),
        (datetime(2026, 3, 11, 12, 0), "en", "tomorrow at noon"),
        (datetime(2026, 3, 12, 8, 5), "en", "on Thursday at 8:05 am"),
        (datetime(2026, 3, 17, 9, 0), "en", "on Tuesday 17 March at 9 am"),  # a week ahead
        (datetime(2026, 12, 28, 10, 0), "en", "on Monday 28 December at 10 am"),
        (datetime(2026, 3, 11, 15, 0), "xx", "tomorrow at 3 pm"),  # unknown language: English
    ],
)
def test_spoken_time(at: datetime, language: str, said: str) -> None:
    assert spoken_time(at.replace(tzinfo=LONDON), TUESDAY_10, language) == said
    assert written_time(at.replace(tzinfo=LONDON), TUESDAY_10, language) == said  # the same


@pytest.mark.parametrize(
    ("at", "language", "written"),
    [
        (datetime(2026, 3, 11, 15, 30), "cs", "zítra v 15:30"),
        (datetime(2026, 3, 16, 9, 0), "pl", "w poniedziałek o 9:00"),
        (datetime(2026, 3, 10, 14, 0), "lv", "šodien plkst. 14:00"),
        (datetime(2026, 12, 28, 10, 0), "cs", "v pondělí 28. prosince v 10:00"),
        (datetime(2026, 12, 28, 10, 0), "pl", "w poniedziałek 28 grudnia o 10:00"),
        (datetime(2026, 12, 28, 10, 0), "lv", "pirmdien 28. decembrī plkst. 10:00"),
    ],
)
def test_written_time_in_figures(at: datetime, language: str, written: str) -> None:
    assert written_time(at.replace(tzinfo=LONDON), TUESDAY_10, language) == written


def test_spoken_time_counts_days_in_the_zone_of_the_time() -> None:
    at = datetime(2026, 3, 10, 10, 0, tzinfo=NEW_YORK)  # Tuesday in New York
    assert spoken_time(at, NOWS["ny"]) == "tomorrow at 10 am"  # it is Monday night there


def test_spoken_time_of_a_resolved_answer() -> None:
    answer = resolve("fri", "office", "none", "in an hour")
    assert answer.at is not None
    assert spoken_time(answer.at, NOWS["fri"]) == "on Monday at 9 am"


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("+447700900123", "0 7 7 0 0, 9 0 0, 1 2 3"),
        ("07700 900123", "0 7 7 0 0, 9 0 0, 1 2 3"),
        ("+420601234567", "plus 4 2 0, 6 0 1, 2 3 4, 5 6 7"),
        ("+371 2123 4567", "plus 3 7 1 2 1, 2 3 4, 5 6 7"),
        ("1234", "1 2 3, 4"),
        ("client:alice", "client:alice"),
    ],
)
def test_spoken_number(number: str, said: str) -> None:
    assert spoken_number(number) == said
