"""Word tables for :mod:`bot.callback_time.foreign`: Czech, Polish and Latvian, folded.

Every word is written folded (no diacritics, as :func:`bot.text.fold` gives it): "třetí" is
``treti``, "piętnastej" ``pietnastej``, "pēc" ``pec``.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.text import NUMBER_WORDS


def _values(*rows: str) -> dict[str, int]:
    """``"3 treti", "4 ctvrta ctvrte"`` -> ``{"treti": 3, "ctvrta": 4, "ctvrte": 4}``."""
    return {word: int(value) for row in rows for value, *said in [row.split()] for word in said}


def _endings(endings: str, *rows: str) -> dict[str, int]:
    """``"a e", "4 ctvrt"`` -> ``{"ctvrta": 4, "ctvrte": 4}``: stems with each ending."""
    return {
        stem + ending: value for stem, value in _values(*rows).items() for ending in endings.split()
    }


def _forms(table: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """``{"monday": "pondeli pondelka"}`` -> ``{"monday": ("pondeli", "pondelka")}``."""
    return {english: tuple(said.split()) for english, said in table.items()}


_CZECH_UNITS = ("jeden", "dva", "tri", "ctyri", "pet", "sest", "sedm", "osm", "devet")
_CZECH_TENS = ("dvacet", "tricet", "ctyricet", "padesat", "sedesat", "sedmdesat", "osmdesat",
               "devadesat")  # fmt: skip
_TEENS = range(11, 20)
_LV = {value: word for word, value in NUMBER_WORDS["lv"].items()}

# Cardinals in every case a caller uses: "za dvě hodiny", "kolem pěti", "pēc trim stundām".
NUMBERS: Mapping[str, Mapping[str, int]] = {
    "cs": {
        **NUMBER_WORDS["cs"],
        **_values("1 jedne jednoho jednom", "2 dvou dvema", "3 tremi", "4 ctyr ctyrmi", "5 peti",
                  "6 sesti", "7 sedmi", "8 osmi", "9 deviti", "10 deseti", "11 jedenacti",
                  "12 dvanacti", "13 trinacti", "14 ctrnacti", "15 patnacti", "16 sestnacti",
                  "17 sedmnacti", "18 osmnacti", "19 devatenacti", "20 dvaceti", "30 triceti",
                  "40 ctyriceti", "50 padesati"),
        # "pětačtyřicet" (45): the unit first, in one word
        **{f"{unit}a{tens}": 10 * t + u for u, unit in enumerate(_CZECH_UNITS, 1)
           for t, tens in enumerate(_CZECH_TENS, 2)},
    },
    "pl": {
        **NUMBER_WORDS["pl"],
        **_values("1 jednej jednego", "2 dwoch dwom dwoma", "3 trzech trzem trzema",
                  "4 czterech czterem czterema", "5 pieciu", "6 szesciu", "7 siedmiu", "8 osmiu",
                  "9 dziewieciu", "10 dziesieciu", "11 jedenastu", "12 dwunastu",
                  "13 trzynastu", "14 czternastu", "15 pietnastu", "16 szesnastu",
                  "17 siedemnastu", "18 osiemnastu", "19 dziewietnastu", "20 dwudziestu",
                  "30 trzydziestu", "40 czterdziestu", "50 piecdziesieciu"),
    },
    "lv": {
        **NUMBER_WORDS["lv"],
        **_values("1 vienu vienam vienai vieniem vienas", "2 diviem divam divu",
                  "3 trim trijiem triju", "4 cetriem cetram cetru", "5 pieciem piecam piecu",
                  "6 sesiem sesam sesu", "7 septiniem septinam septinu",
                  "8 astoniem astonam astonu", "9 deviniem devinam devinu", "10 desmitiem",
                  "20 divdesmitiem"),
        **{_LV[value] + "iem": value for value in _TEENS},  # "pēc piecpadsmitiem"
    },
}  # fmt: skip

# Latvian says the hour in the locative: "trijos" is at three, "pusčetros" half past three.
LATVIAN_LOCATIVES: Mapping[str, int] = {
    **_values("1 vienos", "2 divos", "3 trijos", "4 cetros", "5 piecos", "6 sesos", "7 septinos",
              "8 astonos", "9 devinos", "10 desmitos", "20 divdesmitos"),
    **{_LV[value] + "os": value for value in _TEENS},
}  # fmt: skip

# The hour as a feminine ordinal after a preposition: "po třetí", "kolem páté", "půl jedné";
# "o piętnastej", "przed trzecią", "wpół do czwartej".
HOUR_ORDINALS: Mapping[str, Mapping[str, int]] = {
    "cs": {
        **_values("1 prvni jedne", "2 druha druhe druhou", "3 treti"),
        **_endings("a e ou", "4 ctvrt", "5 pat", "6 sest", "7 sedm", "8 osm", "9 devat",
                   "10 desat", "11 jedenact", "12 dvanact", "13 trinact", "14 ctrnact",
                   "15 patnact", "16 sestnact", "17 sedmnact", "18 osmnact", "19 devatenact",
                   "20 dvacat"),
    },
    "pl": {
        **_values("2 druga drugiej"),
        **_endings("a ej", "1 pierwsz", "3 trzeci", "4 czwart", "5 piat", "6 szost", "7 siodm",
                   "8 osm", "9 dziewiat", "10 dziesiat", "11 jedenast", "12 dwunast",
                   "13 trzynast", "14 czternast", "15 pietnast", "16 szesnast", "17 siedemnast",
                   "18 osiemnast", "19 dziewietnast", "20 dwudziest"),
    },
    "lv": {},
}  # fmt: skip

# The day of the month: "dvacátého osmého prosince", "dwudziestego ósmego grudnia",
# "divdesmit astotajā decembrī". DAY_TENS start a two-word day.
DAY_ORDINALS: Mapping[str, Mapping[str, int]] = {
    "cs": _values("1 prvniho", "2 druheho", "3 tretiho", "4 ctvrteho", "5 pateho", "6 sesteho",
                  "7 sedmeho", "8 osmeho", "9 devateho", "10 desateho", "11 jedenacteho",
                  "12 dvanacteho", "13 trinacteho", "14 ctrnacteho", "15 patnacteho",
                  "16 sestnacteho", "17 sedmnacteho", "18 osmnacteho", "19 devatenacteho",
                  "20 dvacateho", "30 tricateho"),
    "pl": _values("1 pierwszego", "2 drugiego", "3 trzeciego", "4 czwartego", "5 piatego",
                  "6 szostego", "7 siodmego", "8 osmego", "9 dziewiatego", "10 dziesiatego",
                  "11 jedenastego", "12 dwunastego", "13 trzynastego", "14 czternastego",
                  "15 pietnastego", "16 szesnastego", "17 siedemnastego", "18 osiemnastego",
                  "19 dziewietnastego", "20 dwudziestego", "30 trzydziestego"),
    "lv": _endings("aja ais", "1 pirm", "2 otr", "3 tres", "4 ceturt", "5 piekt", "6 sest",
                   "7 septit", "8 astot", "9 devit", "10 desmit", "11 vienpadsmit",
                   "12 divpadsmit", "13 trispadsmit", "14 cetrpadsmit", "15 piecpadsmit",
                   "16 sespadsmit", "17 septinpadsmit", "18 astonpadsmit", "19 devinpadsmit",
                   "20 divdesmit", "30 trisdesmit"),
}  # fmt: skip
DAY_TENS: Mapping[str, Mapping[str, int]] = {
    "cs": _values("20 dvacateho", "30 tricateho"),
    "pl": _values("20 dwudziestego", "30 trzydziestego"),
    "lv": _values("20 divdesmit", "30 trisdesmit"),
}

# Units of a duration, every case: "za hodinu", "za dvě hodiny", "pēc piecām minūtēm".
UNITS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "cs": _forms({"hour": "hodin hodiny hodinu hodinku hodinky hodinek",
                  "minute": "minut minuty minutu minutku minutky minutek",
                  "day": "den dny dni dnu", "week": "tyden tydny tydnu"}),
    "pl": _forms({"hour": "godzin godziny godzine godzinke godzinki",
                  "minute": "minut minuty minute minutke minutki",
                  "day": "dzien dni dnia", "week": "tydzien tygodnie tygodni tygodnia"}),
    "lv": _forms({"hour": "stundas stundam stundu stundai",
                  "minute": "minutes minutem minutu minuti", "day": "dienas dienam dienu",
                  "week": "nedelas nedelam nedelu"}),
}  # fmt: skip

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LATVIAN_DAYS = ("pirmdien", "otrdien", "tresdien", "ceturtdien", "piektdien", "sestdien",
                 "svetdien")  # fmt: skip
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip

# Days of the week and months, every form: "ve středu", "do pátku", "w środę", "pirmdienā".
CALENDAR: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "cs": _forms(dict(zip(_WEEKDAYS + _MONTHS, (
        "pondeli pondelka pondelku", "utery uterka uterku", "streda stredu stredy strede",
        "ctvrtek ctvrtka ctvrtku", "patek patku patka", "sobota sobotu soboty sobote",
        "nedele nedeli", "leden ledna lednu", "unor unora unoru", "brezen brezna breznu",
        "duben dubna dubnu", "kveten kvetna kvetnu", "cerven cervna cervnu",
        "cervenec cervence cervenci", "srpen srpna srpnu", "zari", "rijen rijna rijnu",
        "listopad listopadu", "prosinec prosince prosinci",
    ), strict=True))),
    "pl": _forms(dict(zip(_WEEKDAYS + _MONTHS, (
        "poniedzialek poniedzialku", "wtorek wtorku", "sroda srode srody", "czwartek czwartku",
        "piatek piatku", "sobota sobote soboty", "niedziela niedziele niedzieli",
        "styczen stycznia", "luty lutego", "marzec marca", "kwiecien kwietnia", "maj maja",
        "czerwiec czerwca", "lipiec lipca", "sierpien sierpnia", "wrzesien wrzesnia",
        "pazdziernik pazdziernika", "listopad listopada", "grudzien grudnia",
    ), strict=True))),
    "lv": {
        **{english: (day, day + "a", day + "u", day + "as")
           for english, day in zip(_WEEKDAYS, _LATVIAN_DAYS, strict=True)},
        **_forms(dict(zip(_MONTHS, (
            "janvaris janvari janvara", "februaris februari februara", "marts marta",
            "aprilis aprili aprila", "maijs maija", "junijs junija", "julijs julija",
            "augusts augusta", "septembris septembri septembra", "oktobris oktobri oktobra",
            "novembris novembri novembra", "decembris decembri decembra",
        ), strict=True))),
    },
}  # fmt: skip

# Phrases, in order, as regular expressions over folded words -> the English they mean.
PHRASES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "cs": (
        (r"co (?:nejdriv|nejdrive|nejrychleji)(?: to pujde)?|jak nejdrive?(?: to pujde)?|"
         r"hned ted|hned jak to pujde|jakmile to pujde|za chvil(?:i|ku|inku)", "asap"),
        (r"hned rano|brzy rano|hned po otevreni", "first thing"),
        (r"pristi tyden|pristi tydnu|pristim tydnu", "next week"),
        (r"tento tyden|tenhle tyden|tomto tydnu", "this week"),
        (r"na konci dne|ke konci dne|konec dne|(?:na |ke )?konci pracovni doby", "end of the day"),
        (r"pred polednem", "before noon"), (r"v poledne", "noon"), (r"po obede", "after lunch"),
        (r"kolem obeda|v obed|pres obed|na obed", "lunchtime"), (r"v noci", "night"),
        (r"pul hodiny|pulhodiny|pul hodinky|pulhodinku", "half an hour"),
        (r"ctvrt hodiny|ctvrthodinu|ctvrthodiny|ctvrt hodinky", "a quarter of an hour"),
        (r"a pul", "and a half"),
    ),
    "pl": (
        (r"jak (?:najszybciej|najwczesniej|najpredzej)|od razu|najszybciej jak (?:sie da|to "
         r"mozliwe)|jak tylko (?:bedzie mozna|to mozliwe|sie da)|w kazdej chwili|"
         r"za (?:chwile|chwilke|moment)", "asap"),
        (r"obojetnie kiedy", "whenever"), (r"z samego ran(?:a|ka)", "first thing"),
        (r"przed poludniem", "before noon"), (r"w poludnie", "noon"),
        (r"po poludniu|popoludniu", "afternoon"), (r"po obiedzie|po lunchu", "after lunch"),
        (r"w porze (?:lunchu|obiadu)|na lunch", "lunchtime"), (r"w nocy", "night"),
        (r"(?:pod|na) koniec dnia(?: pracy)?|koniec dnia", "end of the day"),
        (r"w (?:przyszlym|nastepnym) tygodniu|(?:przyszly|nastepny) tydzien", "next week"),
        (r"w tym tygodniu|ten tydzien", "this week"),
        (r"(?:w |we |na )?(?:ten )?weekend", "weekend"),
        (r"(?:w |we )?(?:ten|ta|te|to)(?= (?:poniedzial|wtor|srod|czwart|piat|sobot|niedziel))",
         "this"),
        (r"pol godziny|polgodziny|pol godzinki", "half an hour"),
        (r"poltorej godziny|poltorej godzinki", "one and a half hours"),
        (r"i pol", "and a half"), (r"w ciagu", "within"),
    ),
    "lv": (
        (r"pec iespejas (?:atrak|agrak|driz|atri)|cik (?:atri|driz) vien (?:iespejams|var)|"
         r"cik atri iespejams|pec (?:briza|brizi|mirkla)|iespejami atri", "asap"),
        (r"jebkura laika|kad vien", "any time"),
        (r"agri no rita|no pasa rita|pasa rita", "first thing"), (r"no rita", "morning"),
        (r"pec pusdienam", "after lunch"),
        (r"pusdienlaika|pusdienas laika|pusdienlaiku|pusdienas laiku", "lunchtime"),
        (r"(?:darba )?dienas beigas|(?:darba )?dienas beigam|darba laika beigas",
         "end of the day"),
        (r"dienas vidu", "noon"),
        (r"nakamaja nedela|nakamnedel|nakoso nedelu|nakosaja nedela|nakamo nedelu", "next week"),
        (r"so nedel|sonedel|saja nedela", "this week"),
        (r"nedelas nogale|nedelas nogali|brivdienas", "weekend"),
        (r"so(?= (?:pirmdien|otrdien|tresdien|ceturtdien|piektdien|sestdien|svetdien))", "this"),
        (r"pusstund(?:as|u)|pus stund(?:as|u)", "half an hour"),
        (r"pusotras stundas|pusotru stundu", "one and a half hours"),
        (r"ceturtdalstund(?:as|u)|ceturtdal(?:as)? stundas", "a quarter of an hour"),
        (r"un pusi|ar pusi", "and a half"),
    ),
}  # fmt: skip


def _each(table: Mapping[str, str]) -> dict[str, str]:
    """``{"asap": "ted hned"}`` -> ``{"ted": "asap", "hned": "asap"}``."""
    return {word: english for english, words in table.items() for word in words.split()}


# Single words -> English (after the phrases, numbers and calendar).
WORDS: Mapping[str, Mapping[str, str]] = {
    "cs": _each({
        "asap": "ted hned ihned okamzite", "any time": "kdykoli kdykoliv",
        "today": "dnes dneska", "tomorrow": "zitra zitrek", "day after tomorrow": "pozitri",
        "yesterday": "vcera predevcirem", "morning": "rano dopoledne", "afternoon": "odpoledne",
        "noon": "poledne polednem", "evening": "vecer navecer", "lunch": "obed obede",
        "next": "pristi", "this": "ten tento tenhle tuto tuhle", "weekend": "vikend vikendu",
        "later": "pozdeji", "at": "v ve", "after": "po", "before": "pred",
        "around": "kolem okolo zhruba asi", "from": "od", "by": "do", "between": "mezi",
        "and": "a", "in": "za", "half": "pul", "quarter": "ctvrt",
    }),
    "pl": _each({
        "asap": "teraz natychmiast zaraz", "any time": "kiedykolwiek",
        "today": "dzis dzisiaj", "tomorrow": "jutro", "day after tomorrow": "pojutrze",
        "yesterday": "wczoraj", "morning": "rano rankiem", "evening": "wieczorem wieczor",
        "noon": "poludnie", "next": "przyszly przyszla przyszle przyszlym nastepny nastepna",
        "this": "ten",  # Polish and Czech "ten" is "this"/"that", never 10
        "later": "pozniej", "at": "o", "after": "po", "before": "przed",
        "around": "okolo kolo", "from": "od", "by": "do", "between": "miedzy", "and": "a",
        "in": "za", "half": "pol", "quarter": "kwadrans",
    }),
    "lv": _each({
        "asap": "tulit tulin tagad nekavejoties uzreiz", "any time": "jebkad",
        "today": "sodien", "tomorrow": "rit ritdien", "day after tomorrow": "parit",
        "yesterday": "vakar aizvakar", "tonight": "sovakar", "this morning": "sorit",
        "this afternoon": "sopecpusdien", "morning": "rita",
        "afternoon": "pecpusdiena pecpusdien", "evening": "vakara vakaru vakars",
        "night": "nakti", "next": "nakamaja nakamo nakama nakamais nakosaja nakoso",
        "later": "velak", "at": "pulksten plkst", "in": "pec", "before": "pirms",
        "around": "ap apmeram aptuveni", "by": "lidz", "from": "no", "between": "starp",
        "and": "un", "half": "pus",
    }),
}  # fmt: skip
