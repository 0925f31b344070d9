"""What an agent hears before the caller joins, in the agent's own language.

The whisper of a transfer (:mod:`ivr.call.context`) and of a placed callback
(:mod:`ivr.callbacks.placed`) are put together here from facts (the number, why the bot handed
over, how often the number called), with the wording of each language in one table,
:data:`WORDING`. A language it lacks gets English. English keeps the engine's summary when the
handover has one (it is written in English, with the slots); other languages are told the
intent's label from the flow and the reason instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.engine.handover import HANDOVER_REASONS

#: Every sentence of a whisper, by language. ``{who}`` is the number read digit by digit (and
#: the caller's name); ``{about}`` a queue's label ("your bill"), which each language's labels
#: are written to follow ("ohledně vašeho vyúčtování", "w sprawie rachunku", "par jūsu rēķinu").
WORDING: Mapping[str, Mapping[str, str]] = {
    "en": {
        "call_from": "Call from {who}.",
        "unknown_number": "an unknown number",
        "no_details": "No details are available.",
        "wants": "Caller wants {label}.",
        "handed_over": "Handed over because {why}.",
        "called_before_one": "They called {count} time before in the last {days} days.",
        "called_before": "They called {count} times before in the last {days} days.",
        "callback": "Callback to {number}, about {about}, promised for {time}.",
        "booked": "Booked because {why}.",
        "customer_away": "The customer did not answer. The callback will be tried again.",
        "your_call": "your call",
    },
    "cs": {
        "call_from": "Volá {who}.",
        "unknown_number": "neznámé číslo",
        "no_details": "Podrobnosti nejsou k dispozici.",
        "wants": "Téma: {label}.",
        "handed_over": "Předáno, protože {why}.",
        "called_before_one": "Z tohoto čísla volali v posledních {days} dnech už {count}krát.",
        "called_before": "Z tohoto čísla volali v posledních {days} dnech už {count}krát.",
        "callback": "Zpětné volání na {number} ohledně {about}, slíbené na {time}.",
        "booked": "Objednáno, protože {why}.",
        "customer_away": "Zákazník hovor nepřijal. Zpětné volání zkusíme znovu.",
        "your_call": "vašeho hovoru",
    },
    "pl": {
        "call_from": "Dzwoni {who}.",
        "unknown_number": "nieznany numer",
        "no_details": "Brak szczegółów.",
        "wants": "Temat: {label}.",
        "handed_over": "Przekazano, ponieważ {why}.",
        "called_before_one": "Z tego numeru dzwoniono {count} raz w ciągu ostatnich {days} dni.",
        "called_before": "Z tego numeru dzwoniono {count} razy w ciągu ostatnich {days} dni.",
        "callback": "Oddzwonienie na numer {number} w sprawie {about}, umówione na {time}.",
        "booked": "Umówiono, ponieważ {why}.",
        "customer_away": "Klient nie odebrał. Spróbujemy oddzwonić ponownie.",
        "your_call": "Państwa połączenia",
    },
    "lv": {
        "call_from": "Zvana {who}.",
        "unknown_number": "nezināms numurs",
        "no_details": "Sīkāka informācija nav pieejama.",
        "wants": "Tēma: {label}.",
        "handed_over": "Nodots, jo {why}.",
        "called_before_one": "No šī numura pēdējās {days} dienās zvanīja {count} reizi.",
        "called_before": "No šī numura pēdējās {days} dienās zvanīja {count} reizes.",
        "callback": "Atzvans uz {number} par {about}, apsolīts plkst. {time}.",
        "booked": "Pieteikts, jo {why}.",
        "customer_away": "Klients neatbildēja. Atzvanu mēģināsim vēlreiz.",
        "your_call": "jūsu zvanu",
    },
}

#: Why the bot handed a caller over (or booked a callback), finishing "handed over because ...".
#: English is the engine's own table (:data:`bot.engine.handover.HANDOVER_REASONS`) and the
#: reasons of the web app; a ``dial_...`` reason (a transfer that rang out) is ``dial``.
REASONS: Mapping[str, Mapping[str, str]] = {
    "en": {
        **HANDOVER_REASONS,
        "tts_failed": "the bot's voice failed",
        "asr_failed": "speech recognition failed",
        "asr_unavailable": "speech recognition was unavailable",
        "language_not_heard": "the bot cannot hear their language",
        "database_unavailable": "the call records were unavailable",
        "internal_error": "the bot hit an internal error",
        "no_agent_available": "no agent was free",
        "dial": "nobody answered the transfer",
    },
    "cs": {
        "asked_for_person": "volající chce mluvit s člověkem",
        "low_confidence": "robot volajícímu nerozuměl",
        "nlu_unavailable": "porozumění řeči nebylo k dispozici",
        "no_input": "volající neodpovídal",
        "technical_problem": "robot měl technický problém",
        "outside_hours": "nikdo nebyl k dispozici",
        "caller_request": "volající chce zavolat zpět",
        "no_callback_number": "volající neuvedl číslo pro zpětné volání",
        "stream_lost": "spojení s robotem selhalo",
        "tts_failed": "selhal hlas robota",
        "asr_failed": "selhalo rozpoznávání řeči",
        "asr_unavailable": "rozpoznávání řeči nebylo k dispozici",
        "language_not_heard": "robot jejich jazyku nerozumí",
        "database_unavailable": "databáze hovorů nebyla dostupná",
        "internal_error": "v robotovi nastala vnitřní chyba",
        "no_agent_available": "žádný kolega nebyl volný",
        "dial": "přepojený hovor nikdo nepřijal",
    },
    "pl": {
        "asked_for_person": "dzwoniący prosi o rozmowę z konsultantem",
        "low_confidence": "bot nie rozumiał dzwoniącego",
        "nlu_unavailable": "rozumienie mowy było niedostępne",
        "no_input": "dzwoniący nie odpowiadał",
        "technical_problem": "bot miał problem techniczny",
        "outside_hours": "nikt nie był dostępny",
        "caller_request": "dzwoniący prosi o oddzwonienie",
        "no_callback_number": "dzwoniący nie podał numeru do oddzwonienia",
        "stream_lost": "połączenie z botem zostało przerwane",
        "tts_failed": "głos bota przestał działać",
        "asr_failed": "rozpoznawanie mowy zawiodło",
        "asr_unavailable": "rozpoznawanie mowy było niedostępne",
        "language_not_heard": "bot nie rozpoznaje mowy w ich języku",
        "database_unavailable": "baza połączeń była niedostępna",
        "internal_error": "w bocie wystąpił błąd wewnętrzny",
        "no_agent_available": "żaden konsultant nie był wolny",
        "dial": "nikt nie odebrał przekazanego połączenia",
    },
    "lv": {
        "asked_for_person": "zvanītājs lūdza runāt ar cilvēku",
        "low_confidence": "robots nesaprata zvanītāju",
        "nlu_unavailable": "runas izpratne nebija pieejama",
        "no_input": "zvanītājs neatbildēja",
        "technical_problem": "robotam radās tehniska problēma",
        "outside_hours": "neviens nebija pieejams",
        "caller_request": "zvanītājs lūdza atzvanīt",
        "no_callback_number": "zvanītājs nenorādīja numuru atzvanīšanai",
        "stream_lost": "savienojums ar robotu pārtrūka",
        "tts_failed": "robota balss nedarbojās",
        "asr_failed": "runas atpazīšana neizdevās",
        "asr_unavailable": "runas atpazīšana nebija pieejama",
        "language_not_heard": "robots nesaprot viņu valodu",
        "database_unavailable": "zvanu datubāze nebija pieejama",
        "internal_error": "robotā radās iekšēja kļūda",
        "no_agent_available": "neviens kolēģis nebija brīvs",
        "dial": "neviens neatbildēja uz pāradresēto zvanu",
    },
}


def _latvian_one(count: int) -> bool:
    return count % 10 == 1 and count % 100 != 11


#: Whether ``count`` takes the singular ("1 time", "21 reizi"); Czech "krát" never changes.
_SINGULAR: Mapping[str, Callable[[int], bool]] = {
    "en": lambda count: count == 1,
    "cs": lambda count: False,
    "pl": lambda count: count == 1,
    "lv": _latvian_one,
}


def words(language: str) -> Mapping[str, str]:
    """The whisper sentences of ``language``, else English."""
    return WORDING.get(language, WORDING["en"])


def spoken_in(language: str) -> str:
    """The language a whisper in ``language`` is actually said in (English when unknown)."""
    return language if language in WORDING else "en"


def reason(language: str, why: str) -> str:
    """``why`` (``asked_for_person``) as the end of "handed over because ..."; else as given."""
    key = "dial" if why.startswith("dial_") else why
    table = REASONS.get(language, REASONS["en"])
    return table.get(key) or REASONS["en"].get(key) or why


def spelled(language: str, digits: str) -> str:
    """A phone number read digit by digit (``+ 4 4 7 …``), or "an unknown number"."""
    return " ".join(digits) if digits else words(language)["unknown_number"]


def called_before(language: str, count: int, days: int) -> str:
    """How often the number called in the last ``days`` days ("" when it did not)."""
    if count <= 0:
        return ""
    singular = _SINGULAR.get(spoken_in(language), _SINGULAR["en"])(count)
    key = "called_before_one" if singular else "called_before"
    return words(language)[key].format(count=count, days=days)


def call_whisper(
    language: str,
    *,
    who: str,
    summary: str | None,
    label: str | None,
    why: str | None,
    history: str = "",
) -> str:
    """A transfer's whisper: who calls, what they want and why, and how often they called.

    ``why`` is ``None`` when nothing is known of the call (no handover): then only who calls.
    English says the engine's ``summary`` when there is one.
    """
    said = words(language)
    parts = [said["call_from"].format(who=who)]
    if why is None:
        parts.append(said["no_details"])
    elif summary and spoken_in(language) == "en":
        parts.append(summary)
    else:
        if label:
            parts.append(said["wants"].format(label=label))
        parts.append(said["handed_over"].format(why=reason(language, why)))
    if history:
        parts.append(history)
    return " ".join(parts)


def callback_whisper(
    language: str,
    *,
    number: str,
    about: str,
    time: str,
    summary: str | None,
    label: str | None,
    why: str,
) -> str:
    """A placed callback's whisper: to whom, about what, for when, and why it was booked."""
    said = words(language)
    parts = [said["callback"].format(number=number, about=about, time=time)]
    if summary and spoken_in(language) == "en":
        parts.append(summary)
    else:
        if label:
            parts.append(said["wants"].format(label=label))
        parts.append(said["booked"].format(why=reason(language, why)))
    return " ".join(parts)
