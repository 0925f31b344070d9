"""Callback times in words, both ways: read a caller's ("tomorrow at 10am"), say ours.

Shared by the SMS replies, the JSON API and the confirmation text, so they read and say a
time exactly as the bot does on the phone. The texts we send are in the callback's language
(the caller's), worded in one table, :data:`SMS`; a language it lacks gets English.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.callback_time import TimeAnswer, resolve_callback_time, spoken_time, written_time
from bot.flow.model import Flow
from ivr.store import CallbackRecord

#: What we text about a callback, by language. ``{name}`` is the line's name, ``{when}`` the
#: time as a text writes it in that language ("tomorrow at 3 pm", "zítra v 15:00"). The word to
#: reply with to cancel (CANCEL, ZRUŠIT, ANULUJ, ATCELT) is understood in every language.
SMS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "confirm": "{name}: we'll call you back {when}. Reply CANCEL to cancel, or reply with "
        "a new time (for example: tomorrow at 10am).",
        "cancelled": "{name}: your callback is cancelled. Call us any time.",
        "moved": "{name}: done, we'll call you back {when}.",
        "none": "{name}: you have no callback booked with us.",
        "unchangeable": "Sorry, that callback can no longer be changed.",
        "unavailable": "Sorry, we can't change your callback right now. Please call us.",
    },
    "cs": {
        "confirm": "{name}: zavoláme vám {when}. Pro zrušení odpovězte ZRUŠIT, nebo pošlete "
        "jiný čas (například: zítra v 10).",
        "cancelled": "{name}: zpětné volání je zrušené. Zavolejte nám kdykoli.",
        "moved": "{name}: hotovo, zavoláme vám {when}.",
        "none": "{name}: nemáte u nás domluvené žádné zpětné volání.",
        "unchangeable": "Omlouváme se, toto zpětné volání už nejde změnit.",
        "unavailable": "Omlouváme se, zpětné volání teď nemůžeme změnit. Zavolejte nám prosím.",
    },
    "pl": {
        "confirm": "{name}: oddzwonimy {when}. Aby odwołać, prosimy odpisać ANULUJ albo podać "
        "nowy termin (na przykład: jutro o 10).",
        "cancelled": "{name}: oddzwonienie zostało odwołane. Zapraszamy do kontaktu w każdej "
        "chwili.",
        "moved": "{name}: gotowe, oddzwonimy {when}.",
        "none": "{name}: nie ma u nas umówionego oddzwonienia.",
        "unchangeable": "Przepraszamy, tego oddzwonienia nie można już zmienić.",
        "unavailable": "Przepraszamy, teraz nie możemy zmienić oddzwonienia. Prosimy o telefon.",
    },
    "lv": {
        "confirm": "{name}: mēs jums atzvanīsim {when}. Lai atceltu, atbildiet ATCELT vai "
        "nosūtiet citu laiku (piemēram: rīt plkst. 10).",
        "cancelled": "{name}: atzvans ir atcelts. Zvaniet mums jebkurā laikā.",
        "moved": "{name}: darīts, mēs jums atzvanīsim {when}.",
        "none": "{name}: jums pie mums nav pieteikta atzvana.",
        "unchangeable": "Atvainojiet, šo atzvanu vairs nevar mainīt.",
        "unavailable": "Atvainojiet, šobrīd atzvanu nevaram mainīt. Lūdzu, piezvaniet mums.",
    },
}


def sms_wording(language: str | None, key: str, **values: str) -> str:
    """The text ``key`` of :data:`SMS` in ``language`` (else English), filled in."""
    return SMS.get(language or "", SMS["en"])[key].format(**values)


def language_of(flow: Flow, record: CallbackRecord) -> str:
    """The language the caller of ``record`` is written to: theirs, else the flow's default."""
    return record.language or flow.default_language


def read_time(flow: Flow, text: str, queue: str, language: str, now: datetime) -> TimeAnswer:
    """A time in words ("tomorrow at 10am") read as a caller's, in ``queue``'s hours."""
    quiet = flow.queue_callbacks(queue).quiet_hours
    return resolve_callback_time(text, language, now, flow.queue_hours(queue), quiet)


def spoken_when(flow: Flow, record: CallbackRecord, now: datetime) -> str:
    """When ``record`` is due, as the caller is told ("tomorrow at 3 pm"), in its queue's zone."""
    zone = flow.queue_hours(record.queue).zone
    return spoken_time(record.due_at.astimezone(zone), now.astimezone(zone))


def written_when(flow: Flow, record: CallbackRecord, now: datetime) -> str:
    """When ``record`` is due as its text says it, in the caller's language ("zítra v 15:00")."""
    zone = flow.queue_hours(record.queue).zone
    language = language_of(flow, record)
    return written_time(record.due_at.astimezone(zone), now.astimezone(zone), language)


def sms_text(flow: Flow, record: CallbackRecord, now: datetime) -> str:
    """The confirmation text, in the caller's language: when, and how to cancel or move it."""
    when = written_when(flow, record, now)
    return sms_wording(language_of(flow, record), "confirm", name=flow.name, when=when)
