"""Callback times in Czech, Polish and Latvian: read as they are said, and said back in words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.callback_time import TimeAnswer, resolve_callback_time, spoken_time, written_time
from bot.callback_time.foreign import english, translate
from bot.flow.hours import parse_days, parse_windows
from bot.flow.model import BusinessHours

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 10, 2, tzinfo=LONDON)  # Tuesday morning
# A contact centre open 08:00-20:00 on weekdays and 09:00-13:00 on Saturdays.
STANDARD = BusinessHours(
    "Europe/London",
    {
        **dict.fromkeys(parse_days("mon-fri"), tuple(parse_windows("08:00-20:00"))),
        **dict.fromkeys(parse_days("sat"), tuple(parse_windows("09:00-13:00"))),
    },
)
ALWAYS = BusinessHours("Europe/London")  # no hours: open around the clock

TIME, ASAP, PAST = "time", "asap", "past"

# (language, what the caller said, kind, the moment booked) with now Tuesday 10:02.
PHRASINGS = [
    # Czech: "po" + a feminine ordinal is "after", "v/ve" + a cardinal "at", 24-hour or not.
    ("cs", "zítra po třetí", TIME, "2026-03-11T15:00"),
    ("cs", "zitra po treti", TIME, "2026-03-11T15:00"),  # without diacritics
    ("cs", "zítra ráno", TIME, "2026-03-11T09:00"),
    ("cs", "v pondělí odpoledne", TIME, "2026-03-16T14:00"),
    ("cs", "za hodinu", TIME, "2026-03-10T11:05"),
    ("cs", "co nejdřív", ASAP, "2026-03-10T10:05"),
    ("cs", "co nejdříve", ASAP, "2026-03-10T10:05"),
    ("cs", "v deset", TIME, "2026-03-11T10:00"),  # 10:00 has gone by today
    ("cs", "ve tři", TIME, "2026-03-10T15:00"),
    ("cs", "v půl třetí", TIME, "2026-03-10T14:30"),  # half of the third hour: 2:30
    ("cs", "v půl jedné", TIME, "2026-03-10T12:30"),
    ("cs", "zítra ve čtvrt na čtyři", TIME, "2026-03-11T15:15"),
    ("cs", "zítra ve tři čtvrtě na čtyři", TIME, "2026-03-11T15:45"),
    ("cs", "v patnáct", TIME, "2026-03-10T15:00"),
    ("cs", "zítra v patnáct hodin", TIME, "2026-03-11T15:00"),
    ("cs", "zítra v patnáct třicet", TIME, "2026-03-11T15:30"),
    ("cs", "zítra v deset nula pět", TIME, "2026-03-11T10:05"),
    ("cs", "zítra v 15 hodin", TIME, "2026-03-11T15:00"),
    ("cs", "v jednu hodinu", TIME, "2026-03-10T13:00"),
    ("cs", "po jedné", TIME, "2026-03-10T13:00"),
    ("cs", "zítra kolem páté", TIME, "2026-03-11T17:00"),
    ("cs", "zítra před třetí", TIME, "2026-03-11T08:00"),  # before three: from opening
    ("cs", "zítra ve tři odpoledne", TIME, "2026-03-11T15:00"),
    ("cs", "zítra v devět ráno", TIME, "2026-03-11T09:00"),
    ("cs", "mezi druhou a čtvrtou", TIME, "2026-03-10T14:00"),
    ("cs", "za dvě hodiny", TIME, "2026-03-10T12:05"),
    ("cs", "za půl hodiny", TIME, "2026-03-10T10:35"),
    ("cs", "za hodinu a půl", TIME, "2026-03-10T11:35"),
    ("cs", "za dvě a půl hodiny", TIME, "2026-03-10T12:35"),
    ("cs", "za pětadvacet minut", TIME, "2026-03-10T10:30"),
    ("cs", "za dvacet pět minut", TIME, "2026-03-10T10:30"),
    ("cs", "za chvíli", ASAP, "2026-03-10T10:05"),
    ("cs", "teď hned", ASAP, "2026-03-10T10:05"),
    ("cs", "kdykoliv zítra", TIME, "2026-03-11T08:00"),
    ("cs", "pozítří dopoledne", TIME, "2026-03-12T09:00"),
    ("cs", "v úterý příští týden", TIME, "2026-03-17T08:00"),
    ("cs", "příští pondělí v deset", TIME, "2026-03-16T10:00"),
    ("cs", "ve středu v poledne", TIME, "2026-03-11T12:00"),
    ("cs", "zítra po obědě", TIME, "2026-03-11T14:00"),
    ("cs", "zítra hned ráno", TIME, "2026-03-11T08:00"),
    ("cs", "na konci dne", TIME, "2026-03-10T19:00"),
    ("cs", "za tři dny", TIME, "2026-03-13T08:00"),
    ("cs", "dvacátého osmého prosince v deset", TIME, "2026-12-28T10:00"),
    ("cs", "28. prosince", TIME, "2026-12-28T08:00"),
    ("cs", "ten pátek odpoledne", TIME, "2026-03-13T14:00"),  # "ten" is "that", not 10
    ("cs", "včera", PAST, None),
    # Polish: hours are feminine ordinals ("o piętnastej", "po trzeciej", "przed trzecią").
    ("pl", "jutro po piętnastej", TIME, "2026-03-11T15:00"),
    ("pl", "jutro po pietnastej", TIME, "2026-03-11T15:00"),  # without diacritics
    ("pl", "jutro o dziesiątej", TIME, "2026-03-11T10:00"),
    ("pl", "w poniedziałek rano", TIME, "2026-03-16T09:00"),
    ("pl", "za godzinę", TIME, "2026-03-10T11:05"),
    ("pl", "jak najszybciej", ASAP, "2026-03-10T10:05"),
    ("pl", "o piętnastej", TIME, "2026-03-10T15:00"),
    ("pl", "o trzeciej", TIME, "2026-03-10T15:00"),
    ("pl", "po dziesiątej", TIME, "2026-03-11T10:00"),
    ("pl", "we wtorek o pierwszej", TIME, "2026-03-17T13:00"),
    ("pl", "jutro o piętnastej trzydzieści", TIME, "2026-03-11T15:30"),
    ("pl", "jutro o godzinie piętnastej", TIME, "2026-03-11T15:00"),
    ("pl", "jutro o wpół do czwartej", TIME, "2026-03-11T15:30"),
    ("pl", "jutro kwadrans po trzeciej", TIME, "2026-03-11T15:15"),
    ("pl", "jutro za kwadrans czwarta", TIME, "2026-03-11T15:45"),
    ("pl", "jutro za dziesięć trzecia", TIME, "2026-03-11T14:50"),
    ("pl", "o trzeciej po południu", TIME, "2026-03-10T15:00"),
    ("pl", "między drugą a czwartą", TIME, "2026-03-10T14:00"),
    ("pl", "jutro przed południem", TIME, "2026-03-11T08:00"),
    ("pl", "jutro po południu", TIME, "2026-03-11T14:00"),
    ("pl", "w środę w południe", TIME, "2026-03-11T12:00"),
    ("pl", "w piątek wieczorem", TIME, "2026-03-13T18:00"),
    ("pl", "z samego rana", TIME, "2026-03-11T08:00"),
    ("pl", "pod koniec dnia", TIME, "2026-03-10T19:00"),
    ("pl", "za kwadrans", TIME, "2026-03-10T10:20"),
    ("pl", "za pół godziny", TIME, "2026-03-10T10:35"),
    ("pl", "za półtorej godziny", TIME, "2026-03-10T11:35"),
    ("pl", "za dwie godziny", TIME, "2026-03-10T12:05"),
    ("pl", "za dwie i pół godziny", TIME, "2026-03-10T12:35"),
    ("pl", "w ciągu godziny", TIME, "2026-03-10T11:05"),
    ("pl", "za chwilę", ASAP, "2026-03-10T10:05"),
    ("pl", "teraz", ASAP, "2026-03-10T10:05"),
    ("pl", "pojutrze", TIME, "2026-03-12T08:00"),
    ("pl", "w przyszłym tygodniu", TIME, "2026-03-16T08:00"),
    ("pl", "w przyszły poniedziałek", TIME, "2026-03-16T08:00"),
    ("pl", "w ten piątek", TIME, "2026-03-13T08:00"),
    ("pl", "dwudziestego ósmego grudnia o dziesiątej", TIME, "2026-12-28T10:00"),
    ("pl", "ten termin jutro o trzeciej", TIME, "2026-03-11T15:00"),
    ("pl", "wczoraj", PAST, None),
    # Latvian: "pēc" is "after" before a time and "in" before a duration; hours in the
    # locative ("trijos") or, after a preposition, the dative ("pēc trijiem", "ap četriem").
    ("lv", "rīt pēc trijiem", TIME, "2026-03-11T15:00"),
    ("lv", "rit pec trijiem", TIME, "2026-03-11T15:00"),  # without diacritics
    ("lv", "rīt no rīta", TIME, "2026-03-11T09:00"),
    ("lv", "pirmdien pēcpusdienā", TIME, "2026-03-16T14:00"),
    ("lv", "pēc stundas", TIME, "2026-03-10T11:05"),
    ("lv", "pēc iespējas ātrāk", ASAP, "2026-03-10T10:05"),
    ("lv", "trijos", TIME, "2026-03-10T15:00"),
    ("lv", "desmitos", TIME, "2026-03-11T10:00"),
    ("lv", "pulksten trijos", TIME, "2026-03-10T15:00"),
    ("lv", "rīt pulksten piecpadsmitos", TIME, "2026-03-11T15:00"),
    ("lv", "rīt pulksten piecpadsmitos trīsdesmit", TIME, "2026-03-11T15:30"),
    ("lv", "rīt pusčetros", TIME, "2026-03-11T15:30"),  # half to four: 3:30
    ("lv", "rīt plkst. 15", TIME, "2026-03-11T15:00"),
    ("lv", "rīt pēc vieniem", TIME, "2026-03-11T13:00"),
    ("lv", "rīt ap četriem", TIME, "2026-03-11T16:00"),
    ("lv", "rīt līdz trijiem", TIME, "2026-03-11T08:00"),  # by three: from opening
    ("lv", "pēc divām stundām", TIME, "2026-03-10T12:05"),
    ("lv", "pēc trim stundām", TIME, "2026-03-10T13:05"),  # "trim" is a duration here
    ("lv", "pēc pusstundas", TIME, "2026-03-10T10:35"),
    ("lv", "pēc pusotras stundas", TIME, "2026-03-10T11:35"),
    ("lv", "pēc piecpadsmit minūtēm", TIME, "2026-03-10T10:20"),
    ("lv", "pēc 15 minūtēm", TIME, "2026-03-10T10:20"),
    ("lv", "pēc brīža", ASAP, "2026-03-10T10:05"),
    ("lv", "tūlīt", ASAP, "2026-03-10T10:05"),
    ("lv", "rīt pusdienlaikā", TIME, "2026-03-11T12:00"),
    ("lv", "rīt pēc pusdienām", TIME, "2026-03-11T14:00"),
    ("lv", "šovakar", TIME, "2026-03-10T18:00"),
    ("lv", "parīt", TIME, "2026-03-12T08:00"),
    ("lv", "nākamnedēļ", TIME, "2026-03-16T08:00"),
    ("lv", "nākamajā pirmdienā", TIME, "2026-03-16T08:00"),
    ("lv", "piektdien vakarā", TIME, "2026-03-13T18:00"),
    ("lv", "darba dienas beigās", TIME, "2026-03-10T19:00"),
    ("lv", "pēc divām dienām", TIME, "2026-03-12T08:00"),
    ("lv", "divdesmit astotajā decembrī pulksten desmitos", TIME, "2026-12-28T10:00"),
    ("lv", "vakar", PAST, None),
]

UNCLEAR = [
    ("cs", "pondělí nebo úterý"),
    ("cs", "ráno nebo odpoledne"),
    ("cs", "později"),
    ("cs", "tento týden"),
    ("cs", "zítra za hodinu"),
    ("cs", "třicátého prvního února"),
    ("cs", "nevím"),
    ("pl", "później"),
    ("pl", "w tym tygodniu"),
    ("pl", "nie wiem"),
    ("lv", "vēlāk"),
    ("lv", "nezinu"),
]


@pytest.mark.parametrize(("language", "text", "kind", "at"), PHRASINGS)
def test_phrasing(language: str, text: str, kind: str, at: str | None) -> None:
    answer = resolve_callback_time(text, language, NOW, STANDARD)
    booked = answer.at.replace(tzinfo=None).isoformat(timespec="minutes") if answer.at else None
    assert (answer.kind, booked) == (kind, at)


@pytest.mark.parametrize(("language", "text"), UNCLEAR)
def test_unclear(language: str, text: str) -> None:
    assert resolve_callback_time(text, language, NOW, STANDARD) == TimeAnswer("unclear")


def test_closed_times_are_snapped_like_english_ones() -> None:
    evening = resolve_callback_time("dnes večer v osm", "cs", NOW, STANDARD)
    assert (evening.kind, evening.at, evening.snapped) == (
        "time",
        datetime(2026, 3, 11, 8, 0, tzinfo=LONDON),
        True,
    )
    sunday = resolve_callback_time("w niedzielę o dziesiątej", "pl", NOW, STANDARD)
    assert (sunday.at, sunday.snapped) == (datetime(2026, 3, 16, 8, 0, tzinfo=LONDON), True)


@pytest.mark.parametrize(
    ("language", "folded", "english_words"),
    [
        ("cs", "zitra po treti", "tomorrow after three"),
        ("cs", "za pet hodin", "in five hours"),  # a duration...
        ("cs", "v pet hodin", "at five oclock"),  # ... and a time
        ("pl", "w ten piatek o dziesiatej", "this friday at ten"),  # "ten" is "this" there
        ("pl", "za piec trzecia", "five to three"),
        ("lv", "pec trijiem", "after three"),
        ("lv", "pec trim stundam", "in three hours"),
        ("lv", "pusvienos", "at half past twelve"),
        ("en", "after three", "after three"),  # English is left alone
    ],
)
def test_translation_into_the_readers_english(
    language: str, folded: str, english_words: str
) -> None:
    assert translate(folded, language) == english_words


@pytest.mark.parametrize(
    ("value", "words"),
    [(0, "oh"), (5, "five"), (15, "fifteen"), (40, "forty"), (45, "forty five"), (70, "70")],
)
def test_numbers_in_english(value: int, words: str) -> None:
    assert english(value) == words


# Saying it back: words, not figures (TTS reads "10:00" as "deset nula nula" and spells "plkst.").

TUESDAY_10 = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("at", "language", "said"),
    [
        (datetime(2026, 3, 11, 15, 30), "cs", "zítra v patnáct třicet"),
        (datetime(2026, 3, 10, 14, 0), "cs", "dnes ve čtrnáct hodin"),
        (datetime(2026, 3, 16, 9, 0), "cs", "v pondělí v devět hodin"),
        (datetime(2026, 3, 11, 13, 0), "cs", "zítra ve třináct hodin"),
        (datetime(2026, 3, 12, 8, 5), "cs", "ve čtvrtek v osm nula pět"),
        (datetime(2026, 3, 11, 12, 0), "cs", "zítra v poledne"),
        (datetime(2026, 3, 17, 1, 0), "cs", "v úterý sedmnáctého března v jednu hodinu"),
        (datetime(2026, 3, 11, 2, 0), "cs", "zítra ve dvě hodiny"),
        (datetime(2026, 12, 28, 10, 0), "cs", "v pondělí dvacátého osmého prosince v deset hodin"),
        (datetime(2026, 3, 21, 21, 45), "cs",
         "v sobotu dvacátého prvního března ve dvacet jedna čtyřicet pět"),
        (datetime(2026, 3, 11, 15, 30), "pl", "jutro o piętnastej trzydzieści"),
        (datetime(2026, 3, 16, 9, 0), "pl", "w poniedziałek o dziewiątej"),
        (datetime(2026, 3, 12, 8, 5), "pl", "w czwartek o ósmej zero pięć"),
        (datetime(2026, 3, 11, 12, 0), "pl", "jutro w południe"),
        (datetime(2026, 3, 11, 0, 0), "pl", "jutro o północy"),
        (datetime(2026, 12, 28, 10, 0), "pl",
         "w poniedziałek dwudziestego ósmego grudnia o dziesiątej"),
        (datetime(2026, 3, 31, 13, 0), "pl",
         "we wtorek trzydziestego pierwszego marca o trzynastej"),
        (datetime(2026, 3, 10, 14, 0), "lv", "šodien pulksten četrpadsmitos"),
        (datetime(2026, 3, 11, 15, 30), "lv", "rīt pulksten piecpadsmitos trīsdesmit"),
        (datetime(2026, 3, 12, 8, 5), "lv", "ceturtdien pulksten astoņos nulle piecas"),
        (datetime(2026, 3, 13, 16, 25), "lv", "piektdien pulksten sešpadsmitos divdesmit piecas"),
        (datetime(2026, 12, 28, 10, 0), "lv",
         "pirmdien, divdesmit astotajā decembrī, pulksten desmitos"),
        (datetime(2026, 3, 20, 9, 0), "lv", "piektdien, divdesmitajā martā, pulksten deviņos"),
    ],
)  # fmt: skip
def test_spoken_time_in_words(at: datetime, language: str, said: str) -> None:
    assert spoken_time(at.replace(tzinfo=LONDON), TUESDAY_10, language) == said


@pytest.mark.parametrize("language", ["en", "cs", "pl", "lv"])
def test_what_the_bot_says_back_reads_as_the_same_moment(language: str) -> None:
    """Said back in words, then heard again: every moment of a fortnight's working hours."""
    moment = datetime(2026, 3, 10, 10, 5, tzinfo=LONDON)
    checked = 0
    while moment < TUESDAY_10 + timedelta(days=14):
        if 8 <= moment.hour < 20:
            said = spoken_time(moment, TUESDAY_10, language)
            answer = resolve_callback_time(said, language, TUESDAY_10, ALWAYS)
            assert (said, answer.at) == (said, moment)
            checked += 1
        moment += timedelta(minutes=35)
    assert checked > 200


def test_a_weekday_with_its_date_is_that_date() -> None:
    monday = "on Monday 28 December at 10"
    assert resolve_callback_time(monday, "en", NOW, STANDARD).at == datetime(
        2026, 12, 28, 10, 0, tzinfo=LONDON
    )
    # ... and a weekday that is not the date's is still unclear
    tuesday = resolve_callback_time("Tuesday 28 December", "en", NOW, STANDARD)
    assert tuesday == TimeAnswer("unclear")


@pytest.mark.parametrize(
    ("language", "written"),
    [("cs", "zítra v 15:30"), ("pl", "jutro o 15:30"), ("lv", "rīt plkst. 15:30")],
)
def test_written_time_keeps_figures_for_texts(language: str, written: str) -> None:
    at = datetime(2026, 3, 11, 15, 30, tzinfo=LONDON)
    assert written_time(at, TUESDAY_10, language) == written
    assert resolve_callback_time(written, language, TUESDAY_10, ALWAYS).at == at
