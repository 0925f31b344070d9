"""Routing by language: a call rings only agents who speak it, and the agent hears the whisper
in their own language (their first listed).

The line of ``tests/fixtures/flows/four_languages`` (English, Czech, Polish, Latvian), whose
agents answer whenever it is open (Monday to Friday, 08-20 in London) but for Piotr:

=====  =========  ===================  =================
agent  languages  queues               shift
=====  =========  ===================  =================
ed     (en)       general, billing     always
jana   cs, en     general, billing     always
piotr  pl         billing              08:00-12:00
liga   lv, en     general              always
=====  =========  ===================  =================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.flow import load_flow
from bot.flow.model import Flow
from ivr.call.context import CallContext
from ivr.call.handover import Handover
from ivr.call.next_step import DialPerson, OfferCallback, after_dial, after_stream
from ivr.config import ROOT
from ivr.people import agents_to_try, next_agent, speaks
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster
from ivr.people.staffing import LastAgent, Staffing
from ivr.people.whispers import REASONS, WORDING, called_before
from ivr.store import AgentStates, Presence, Store
from ivr.telephony import DialOutcome

FOUR_LANGUAGES = ROOT / "tests" / "fixtures" / "flows" / "four_languages"
FLOW = load_flow(FOUR_LANGUAGES)
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # London is on UTC in November
MONDAY_15 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Piotr's shift is over
CALLER = "+420601123456"


def ids(flow: Flow, queue: str, language: str | None, now: datetime = MONDAY_10) -> list[str]:
    return [agent.id for agent in agents_to_try(flow, queue, now, None, None, (), language)]


def staffing(states: AgentStates | None = None) -> Staffing:
    roster = Roster(lambda: states, tolerant=False) if states is not None else None
    return Staffing(FLOW, AgentDirectory({}), roster)


def transfer(queue: str, language: str | None, reason: str = "asked_for_person") -> Handover:
    return Handover("transfer", reason, queue, language=language, caller=CALLER)


# -- who is rung -----------------------------------------------------------------------------


def test_a_call_rings_only_the_agents_who_speak_its_language() -> None:
    assert ids(FLOW, "billing", "en") == ["ed", "jana"]  # Jana speaks English too
    assert ids(FLOW, "billing", "cs") == ["jana"]
    assert ids(FLOW, "billing", "pl") == ["piotr"]
    assert ids(FLOW, "billing", "lv") == []  # Liga answers general only
    assert ids(FLOW, "general", "lv") == ["liga"]
    assert ids(FLOW, "general", "pl") == []
    assert ids(FLOW, "billing", None) == ["ed", "jana", "piotr"]  # not filtered by language


def test_a_returning_callers_agent_who_does_not_speak_the_language_is_not_rung() -> None:
    now = MONDAY_10
    english = agents_to_try(FLOW, "billing", now, "jana", 1.0, (), "en")
    assert [agent.id for agent in english] == ["jana", "ed"]
    czech = agents_to_try(FLOW, "billing", now, "ed", 1.0, (), "cs")
    assert [agent.id for agent in czech] == ["jana"]


def test_the_next_agent_after_no_answer_speaks_the_language_too() -> None:
    assert next_agent(FLOW, "billing", MONDAY_10, ["ed"], (), "en").id == "jana"  # type: ignore[union-attr]
    assert next_agent(FLOW, "billing", MONDAY_10, ["jana"], (), "cs") is None


def test_speaks_counts_the_flows_default_for_an_agent_who_lists_none() -> None:
    ed, jana = FLOW.agents["ed"], FLOW.agents["jana"]
    assert speaks(FLOW, ed, "en") and not speaks(FLOW, ed, "cs")
    assert speaks(FLOW, jana, "cs") and speaks(FLOW, jana, "en") and not speaks(FLOW, jana, "lv")
    assert speaks(FLOW, ed, None)


def test_a_staffing_speaking_a_language_keeps_it_when_agents_are_excluded() -> None:
    czech = staffing().speaking("cs")
    assert [p.agent for p in czech.candidates("general", MONDAY_10)] == ["jana"]
    assert czech.excluding({"jana"}).candidates("general", MONDAY_10) == []
    # A call whose language is not known is spoken to in the default language: English.
    unknown = staffing().speaking(None)
    assert [p.agent for p in unknown.candidates("general", MONDAY_10)] == ["ed", "jana", "liga"]
    assert staffing().speaking("pl").staffed("billing", MONDAY_10)
    assert not staffing().speaking("pl").staffed("billing", MONDAY_15)
    assert staffing().staffed("billing", MONDAY_15)  # others are on shift


def test_a_numbers_only_line_rings_its_number_whatever_the_language() -> None:
    numbers = Staffing(
        load_flow(ROOT / "tests" / "nlu_flows" / "small"), AgentDirectory({"*": "+441632960000"})
    )
    person = numbers.speaking("lv").first("general", MONDAY_10)
    assert person is not None and person.address == "+441632960000"


# -- what a transfer leads to ----------------------------------------------------------------


def test_nobody_on_shift_speaks_it_means_a_callback_offer_never_another_agent() -> None:
    polish = after_stream(transfer("billing", "pl"), staffing().speaking("pl"), MONDAY_15)
    assert polish == OfferCallback("billing", "no_agent_available", ("no_agent",))
    at_ten = after_stream(transfer("billing", "pl"), staffing().speaking("pl"), MONDAY_10)
    assert isinstance(at_ten, DialPerson) and at_ten.agent == "piotr"
    latvian = after_stream(transfer("billing", "lv"), staffing().speaking("lv"), MONDAY_10)
    assert isinstance(latvian, OfferCallback)


def test_a_czech_call_that_rang_out_is_offered_a_callback_not_the_english_agent() -> None:
    czech = staffing().speaking("cs")
    first = after_stream(transfer("billing", "cs"), czech, MONDAY_10, LastAgent("ed", 1.0))
    assert first == DialPerson("+441632960022", "billing", None, "jana", ("jana",))
    step = after_dial(DialOutcome.NO_ANSWER, "billing", czech, MONDAY_10, ("jana",))
    assert step == OfferCallback("billing", "dial_no_answer", ("no_agent",))


def test_the_speaker_away_or_busy_is_not_replaced_by_one_who_does_not_speak_it(
    store: Store,
) -> None:
    states = AgentStates(store)
    czech = staffing(states).speaking("cs")
    assert [p.agent for p in czech.candidates("billing", MONDAY_10)] == ["jana"]
    states.set_presence("jana", Presence.AWAY, MONDAY_10)
    assert czech.first("billing", MONDAY_10) is None
    assert czech.staffed("billing", MONDAY_10)  # on shift: the callback waits for her
    states.set_presence("jana", Presence.AVAILABLE, MONDAY_10)
    assert states.reserve("jana", MONDAY_10, MONDAY_10 + timedelta(minutes=1), call_id="CA1")
    step = after_stream(transfer("general", "cs"), czech, MONDAY_10)
    assert step == OfferCallback("general", "no_agent_available", ("no_agent",))
    english = staffing(states).speaking("en")
    assert [p.agent for p in english.candidates("general", MONDAY_10)] == ["ed", "liga"]


# -- what the agent hears --------------------------------------------------------------------


def test_the_whisper_is_in_the_agents_language_with_the_intent_in_it(store: Store) -> None:
    for days in (1, 2):
        store.call_started(
            f"CAold{days}", caller=CALLER, called=None, started_at=MONDAY_10 - timedelta(days)
        )
    handover = Handover(
        "transfer",
        "asked_for_person",
        "billing",
        context={
            "summary": "Caller wants a question about your bill.",
            "intent": "billing_question",
        },
        language="pl",  # the caller's: the agent's own language decides the whisper
        caller=CALLER,
    )
    context = CallContext(lambda: store, lambda: MONDAY_10)
    czech = context.whisper("CA1", handover, language="cs", flow=FLOW)
    assert czech == (
        "Volá + 4 2 0 6 0 1 1 2 3 4 5 6. Téma: dotaz k vyúčtování. Předáno, protože volající "
        "chce mluvit s člověkem. Z tohoto čísla volali v posledních 7 dnech už 2krát."
    )
    latvian = context.whisper("CA1", handover, language="lv", flow=FLOW)
    assert latvian.startswith("Zvana + 4 2 0 6 0 1 1 2 3 4 5 6. Tēma: jautājums par rēķinu.")
    english = context.whisper("CA1", handover, language="en", flow=FLOW)
    assert english == (
        "Call from + 4 2 0 6 0 1 1 2 3 4 5 6. Caller wants a question about your bill. "
        "They called 2 times before in the last 7 days."
    )
    assert context.whisper("CA2", None, language="pl") == (
        "Dzwoni nieznany numer. Brak szczegółów."
    )


def test_how_often_they_called_follows_each_languages_plural() -> None:
    assert called_before("en", 1, 7) == "They called 1 time before in the last 7 days."
    assert called_before("pl", 1, 7).startswith("Z tego numeru dzwoniono 1 raz ")
    assert called_before("pl", 5, 7).startswith("Z tego numeru dzwoniono 5 razy ")
    assert called_before("lv", 21, 7).endswith("zvanīja 21 reizi.")
    assert called_before("lv", 11, 7).endswith("zvanīja 11 reizes.")
    assert called_before("cs", 3, 7).endswith("už 3krát.")
    assert called_before("cs", 0, 7) == ""


def test_every_language_has_every_sentence_and_reason() -> None:
    for language in ("cs", "pl", "lv"):
        assert set(WORDING[language]) == set(WORDING["en"]), language
        assert set(REASONS[language]) == set(REASONS["en"]), language
    assert set(WORDING) >= set(FLOW.languages)


@pytest.mark.parametrize("language", ["cs", "pl", "lv"])
def test_a_whisper_for_a_voice_failure_names_it_in_that_language(
    store: Store, language: str
) -> None:
    context = CallContext(lambda: store, lambda: MONDAY_10)
    text = context.whisper("CA1", transfer("billing", "en", "tts_failed"), language=language)
    assert REASONS[language]["tts_failed"] in text
    assert "tts_failed" not in text
