"""Value extraction: turn what a caller said (or pressed) into a slot value, locally.

These run without NLU on purpose: when Rasa is down a caller can still give an account
number or say "yes". Every function returns ``None`` when nothing usable was found.
Values are stored as strings: digits as ``"44125555"``, yes/no as ``"yes"``/``"no"``,
date-times as ISO 8601 with offset, text as said.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import dateparser

from bot.callback_time import resolve_callback_time
from bot.flow.model import BusinessHours, Slot, SlotType
from bot.text import NUMBER_WORDS, fold, number_value

YES = "yes"
NO = "no"

# Words that count as digits only when a number is read out: Czech "jednička", "dvojka".
_DIGIT_NOUNS: dict[str, dict[str, int]] = {
    "cs": {"nulka": 0, "jednicka": 1, "dvojka": 2, "trojka": 3, "ctyrka": 4, "petka": 5,
           "sestka": 6, "sedmicka": 7, "osmicka": 8, "devitka": 9},
    "pl": {"jedynka": 1, "dwojka": 2, "trojka": 3, "czworka": 4, "piatka": 5, "szostka": 6,
           "siodemka": 7, "osemka": 8, "dziewiatka": 9},
}  # fmt: skip
# Hundreds standing alone ("sto", Polish "sześćset", Latvian "divsimt") ...
_HUNDREDS: dict[str, dict[str, int]] = {
    "en": {"hundred": 100},
    "cs": {"sto": 100},
    "pl": {"sto": 100, "dwiescie": 200, "trzysta": 300, "czterysta": 400, "piecset": 500,
           "szescset": 600, "siedemset": 700, "osiemset": 800, "dziewiecset": 900},
    "lv": {"simts": 100, "simt": 100, "divsimt": 200, "trissimt": 300, "cetrsimt": 400,
           "piecsimt": 500, "sessimt": 600, "septinsimt": 700, "astonsimt": 800,
           "devinsimt": 900},
}  # fmt: skip
# ... and words that make hundreds of the unit before them ("six hundred", "šest set", "tři
# sta", "trīs simti"). Polish and Czech "osiem sto", "osm sto" are 8 and 100.
_TIMES_HUNDRED = {
    "en": frozenset({"hundred"}),
    "cs": frozenset({"sta", "ste", "set"}),
    "lv": frozenset({"simti", "simts"}),
}
# English number words work in every language, but these are everyday words there: Czech and
# Polish "ten" is "this", so "ten numer" must not give a 10.
_NOT_ENGLISH = {"cs": frozenset({"ten"}), "pl": frozenset({"ten"})}
# "oh" is zero only next to other digits, so "oh, it's 4 4 1 2" does not gain a leading 0;
# a bare "o" only in English (elsewhere it is a word: Polish "o", Czech "o").
_OH = {"oh": "*", "o": "en"}
_REPEATS = {"double": 2, "triple": 3, "dvakrat": 2, "trikrat": 3}

YesNo = dict[tuple[str, ...], str | None]


def _answers(yes: str, no: str, neither: str = "") -> YesNo:
    """Answer words and phrases (``|`` between them) into ``{words: "yes"/"no"/None}``."""
    found: YesNo = {}
    for answer, said in ((YES, yes), (NO, no), (None, neither)):
        found |= {tuple(phrase.split()): answer for phrase in said.split("|") if phrase}
    return found


# What a yes/no answer can be, folded. ``None``: a phrase that holds a "no" but is no answer.
_YES_NO: dict[str, YesNo] = {
    "en": _answers(
        "yes|yeah|yep|yup|sure|correct|right|ok|okay|absolutely|definitely|certainly|"
        "affirmative|please|of course|no problem",
        "no|nope|nah|wrong|incorrect|negative|not really",
    ),
    "cs": _answers(
        "ano|jo|jojo|no jo|jasne|spravne|urcite|souhlasi|souhlasim|presne|jiste|samozrejme|"
        "rozhodne|dobre|plati|sedi|beru|klidne|v poradku|pravda|mate pravdu|neni problem|"
        "bez problemu",
        "ne|nee|nikoliv|nikoli|spatne|nesouhlasi|nesouhlasim|nespravne|nesedi|nechci|neplati|"
        "neni|chyba|omyl|ani nahodou|v zadnem pripade|nemam zajem",
    ),
    "pl": _answers(
        "tak|no tak|tak jest|jasne|dobrze|zgadza|zgadzam|oczywiscie|poprawnie|prawidlowo|"
        "owszem|pewnie|na pewno|dokladnie|racja|zgoda|okej|slusznie|chetnie|prawda|"
        "zdecydowanie|jak najbardziej|nie ma problemu",
        "nie|zle|niepoprawnie|nieprawidlowo|blednie|nieprawda|w zadnym wypadku|nie ma mowy",
        "nie wiem|nie jestem pewien|nie jestem pewna|nie rozumiem|nie slysze|nie pamietam",
    ),
    "lv": _answers(
        "ja|jaa|protams|pareizi|labi|noteikti|tiesi|tiesi ta|der|piekritu|skaidrs|lieliski|"
        "taisniba|pilnigi|absoluti|nav problemu",
        "ne|nee|nav|nepareizi|neder|nevajag|negribu|nepiekritu|nemaz|kluda|nekada gadijuma",
    ),
}
# English "no" is a filler in the other languages: Czech and Polish "no tak", "no jo" are yes,
# Latvian "no" is "from".
_FILLERS = {"cs": {("no",)}, "pl": {("no",)}, "lv": {("no",)}}
# A yes-word right after one of these means no ("that's not right", "nie tak"), also with a
# word between ("není to správně", "not quite right", "nav īsti pareizi").
_NEGATORS = frozenset({"not", "ne", "neni", "nie", "nav"})
_BETWEEN = frozenset(
    {"quite", "really", "exactly", "very", "so", "that", "s", "to", "je", "moc", "uplne",
     "docela", "jest", "calkiem", "bardzo", "zbyt", "tas", "ir", "gluzi", "isti", "visai"}
)  # fmt: skip
# ... and one of these followed by a no is no: "definitely not", "jasně že ne", "protams, ka nē".
_STRONG = frozenset(
    {"definitely", "absolutely", "certainly", "sure", "course", "jasne", "urcite", "samozrejme",
     "rozhodne", "jiste", "oczywiscie", "pewnie", "pewno", "zdecydowanie", "protams",
     "noteikti", "pilnigi", "absoluti"}
)  # fmt: skip
_THAT = frozenset({"that", "ze", "ka"})

# Hour words for times ("tomorrow at three"); dateparser only understands digits there.
_HOUR_WORDS: dict[str, str] = {
    **{w: str(v) for w, v in NUMBER_WORDS["en"].items() if 1 <= v <= 9},
    "ten": "10", "eleven": "11", "twelve": "12", "noon": "12",
    "jednu": "1", "dve": "2", "tri": "3", "ctyri": "4", "pet": "5", "sest": "6", "sedm": "7",
    "osm": "8", "devet": "9", "deset": "10", "jedenact": "11", "dvanact": "12",
}  # fmt: skip
_AT_HOUR = re.compile(
    r"\b(?:at|after|around|about|by|from|v|ve|o|plkst\.?|pec)\s+(\d{1,2})(?::(\d{2}))?\b"
    r"(?!\s*(?:am|pm|a\.m|p\.m))",
)
_WORD = re.compile(r"[^\W_]+|\d+", re.UNICODE)
# Date-times: the languages the callback-time reader reads better than dateparser.
_READER_FIRST = frozenset({"cs", "pl", "lv"})
_PAST = "past"


def words(text: str) -> list[str]:
    """The folded words of ``text``; digit runs stay whole ("44-12" gives "44", "12")."""
    return _WORD.findall(fold(text))


class _Numbers:
    """Number words in a caller's words: one digit at a time, or grouped as people read them."""

    def __init__(self, tokens: list[str], language: str) -> None:
        self.t = tokens
        self.language = language
        self.hundreds = {**_HUNDREDS["en"], **_HUNDREDS.get(language, {})}
        self.times_hundred = _TIMES_HUNDRED["en"] | _TIMES_HUNDRED.get(language, frozenset())

    def at(self, i: int) -> str:
        return self.t[i] if 0 <= i < len(self.t) else ""

    def value(self, i: int) -> int | None:
        """The value of the number word at ``i`` (0-99), in the language or English."""
        word = self.at(i)
        found = number_value(word, self.language)
        if found is None and word not in _NOT_ENGLISH.get(self.language, ()):
            found = number_value(word, "en")
        return found if found is not None else _DIGIT_NOUNS.get(self.language, {}).get(word)

    def is_number(self, i: int) -> bool:
        word = self.at(i)
        return word.isdigit() or self.value(i) is not None or word in self.hundreds

    def group(self, i: int) -> tuple[str, int] | None:
        """The digits said from ``i`` ("4412", "forty four", "šest set dva") and the index after."""
        if self.at(i).isdigit():
            return self.at(i), i + 1
        unit = self.value(i)
        if unit is not None and 1 <= unit <= 9 and self.at(i + 1) in self.times_hundred:
            hundreds, j = unit, i + 2  # "six hundred", "tři sta", "trīs simti"
        elif self.at(i) in self.hundreds:
            hundreds, j = self.hundreds[self.at(i)] // 100, i + 1
        else:
            tens = self.tens(i)
            return (str(tens[0]), tens[1]) if tens else None
        if self.at(j) == "and" and self.value(j + 1) is not None:
            j += 1  # "six hundred and two"
        elif self.language == "en":
            return f"{hundreds}00", j  # "oh seven seven hundred, nine hundred, one two three"
        rest, j = self.tens(j) or (0, j)
        return f"{hundreds}{rest:02d}", j

    def tens(self, i: int) -> tuple[int, int] | None:
        """A number below 100 at ``i``: "four", "fourteen", "forty", "forty four"."""
        value = self.value(i)
        if value is None:
            return None
        unit = self.value(i + 1)
        hundreds = self.at(i + 2) in self.times_hundred  # "dvacet, šest set": 20, 600
        if value >= 20 and value % 10 == 0 and unit is not None and 1 <= unit <= 9 and not hundreds:
            return value + unit, i + 2
        return value, i + 1


def extract_digits(text: str, language: str) -> str | None:
    """Spoken or written digits in ``text``: "four four one two", "double five", "oh", "4412".

    Number words of the call's language (English ones work too) and digit strings count, one
    digit at a time or in the groups people read numbers in ("forty four", "čtyřicet čtyři",
    "šest set dva" give 44, 44, 602); other words are ignored. ``double``/``triple`` (Czech
    ``dvakrát``/``třikrát``) repeat the next digit.
    """
    numbers = _Numbers(words(text), language)
    out: list[str] = []
    repeat, i = 1, 0
    while i < len(numbers.t):
        token = numbers.t[i]
        group = numbers.group(i)
        oh = _OH.get(token) in ("*", language)
        if group is None and oh and (numbers.is_number(i - 1) or numbers.is_number(i + 1)):
            group = "0", i + 1
        if group is None:
            repeat = _REPEATS.get(token, 1)
            i += 1
            continue
        value, i = group
        out.append(value[0] * repeat + value[1:])
        repeat = 1
    return "".join(out) or None


def valid_digits(value: str, slot: Slot) -> bool:
    """Whether ``value`` is all digits and within the slot's length limits."""
    if not value.isdigit():
        return False
    if slot.min_length is not None and len(value) < slot.min_length:
        return False
    return slot.max_length is None or len(value) <= slot.max_length


def _answer_table(language: str) -> list[tuple[tuple[str, ...], str | None]]:
    table = {**_YES_NO["en"], **_YES_NO.get(language, {})}
    for filler in _FILLERS.get(language, ()):
        table.pop(filler, None)
    return sorted(table.items(), key=lambda item: -len(item[0]))


def _negated(tokens: list[str], i: int) -> bool:
    """Whether the yes-word at ``i`` follows a "not" ("not right", "not quite right")."""
    last = tokens[i - 1] if i > 0 else ""
    return last in _NEGATORS or (last in _BETWEEN and i > 1 and tokens[i - 2] in _NEGATORS)


def _denied(tokens: list[str], j: int) -> bool:
    """Whether a "no" follows at ``j`` ("definitely not", "jasně že ne")."""
    if j < len(tokens) and tokens[j] in _THAT:
        j += 1
    return j < len(tokens) and tokens[j] in _NEGATORS


def extract_yes_no(text: str, language: str) -> str | None:
    """``"yes"``/``"no"`` from yes/no words of the language (or English); ``None`` if unclear.

    Phrases count as a whole ("no tak", "nie ma problemu" are yes, "nie wiem" is neither); a
    yes after a "not" is no ("to nesedí", "nie zgadza się", "nav pareizi"), and so is a strong
    yes followed by a no ("jasně že ne", "definitely not").
    """
    table = _answer_table(language)
    tokens = words(text)
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        match = next(((p, a) for p, a in table if tuple(tokens[i : i + len(p)]) == p), None)
        if match is None:
            i += 1
            continue
        phrase, answer = match
        if answer == YES and (
            _negated(tokens, i) or (phrase[-1] in _STRONG and _denied(tokens, i + len(phrase)))
        ):
            answer = NO
        if answer is not None:
            found.add(answer)
        i += len(phrase)
    return found.pop() if len(found) == 1 else None


def _normalise_time(text: str) -> str:
    """Rewrite "at three" as "15:00" so dateparser can read it.

    A bare hour from 1 to 7 means the afternoon: callers book callbacks in business hours.
    """
    folded = " ".join(_HOUR_WORDS.get(w, w) for w in fold(text).split())

    def hour(match: re.Match[str]) -> str:
        h, minutes = int(match.group(1)), match.group(2) or "00"
        if 1 <= h <= 7:
            h += 12
        return f" {h:02d}:{minutes}" if h < 24 else match.group(0)

    return _AT_HOUR.sub(hour, folded)


def _read_time(text: str, language: str, now: datetime, timezone: str) -> str | None:
    """A moment read by the callback-time reader ("zítra po třetí", "o piętnastej")."""
    answer = resolve_callback_time(text, language, now, BusinessHours(timezone))  # open always
    return answer.at.isoformat() if answer.kind == "time" and answer.at is not None else None


def _dateparser(text: str, language: str, local_now: datetime, timezone: str) -> str | None:
    """The moment dateparser reads in ``text`` (ISO 8601), ``_PAST`` if it has gone by."""
    zone = ZoneInfo(timezone)
    settings = {
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    for candidate in (_normalise_time(text), text):
        try:
            parsed = dateparser.parse(candidate, languages=[language], settings=settings)
        except Exception:  # a parser bug must not end a call: treat it as no value
            parsed = None
        if parsed is not None:
            moment = parsed.replace(tzinfo=zone)
            return moment.isoformat() if moment > local_now else _PAST
    return None


def extract_datetime(text: str, language: str, now: datetime, timezone: str) -> str | None:
    """A future moment in ``text`` ("tomorrow at three"), as ISO 8601 with offset.

    Resolved relative to ``now`` in the flow's time zone; times in the past are rejected.
    Czech, Polish and Latvian go to the callback-time reader first, which knows how hours are
    said there ("po třetí", "o piętnastej", "pēc trijiem"); English to dateparser first.
    """
    local_now = now.astimezone(ZoneInfo(timezone))
    if language in _READER_FIRST and (found := _read_time(text, language, now, timezone)):
        return found
    found = _dateparser(text, language, local_now, timezone)
    if found is None:
        return _read_time(text, language, now, timezone)
    return None if found == _PAST else found


def extract_value(slot: Slot, text: str, language: str, now: datetime, timezone: str) -> str | None:
    """The value for ``slot`` in ``text``, validated; ``None`` when there is none."""
    match slot.type:
        case SlotType.DIGITS:
            digits = extract_digits(text, language)
            return digits if digits is not None and valid_digits(digits, slot) else None
        case SlotType.YES_NO:
            return extract_yes_no(text, language)
        case SlotType.DATETIME:
            return extract_datetime(text, language, now, timezone)
        case SlotType.TEXT:
            return text.strip() or None
    return None
