"""Transfers by language on a real server over the four-language line: the caller's language
picks who is rung, the agent's own language the whisper (with Twilio's ``<Say language>``).

The line and its agents are described in tests/ivr/people/test_languages.py: Ed (English), Jana
(Czech, English), Piotr (Polish, mornings) and Liga (Latvian, English; general only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest

from ivr.call.handover import Handover
from ivr.nlu.service import free_port
from tests.fixtures.live_server import OPEN, LiveServer
from tests.ivr.people.test_languages import FOUR_LANGUAGES
from tests.ivr.web.test_app import CALL, post, verbs

MONDAY_15 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Piotr has gone home
ED, JANA = "+441632960021", "+441632960022"


def serve(live_server: Callable[..., LiveServer], now: datetime = OPEN) -> LiveServer:
    return live_server(
        clock=lambda: now, FLOWS=str(FOUR_LANGUAGES), NLU_URL=f"http://127.0.0.1:{free_port()}"
    )


def handed_over(server: LiveServer, queue: str, language: str) -> None:
    """The call arrived and the bot, speaking ``language``, handed it to ``queue``."""
    store = server.services.store
    assert store is not None
    store.call_started(CALL["CallSid"], caller=CALL["From"], called=CALL["To"], started_at=OPEN)
    server.services.board.put(
        CALL["CallSid"],
        Handover(
            "transfer",
            "asked_for_person",
            queue,
            context={
                "summary": "Caller wants a question about your bill.",
                "intent": "billing_question",
            },
            language=language,
            caller=CALL["From"],
        ),
    )


def dialled(response: httpx.Response) -> tuple[str, str, dict[str, list[str]]]:
    """The noun a ``<Dial>`` rings, its address and its whisper URL's query."""
    assert verbs(response) == ["Dial"], response.text
    noun = ElementTree.fromstring(response.text).find("Dial")[0]  # type: ignore[index]
    url = noun.get("url") or ""
    return noun.tag, (noun.text or "").strip(), parse_qs(urlsplit(url).query)


def whisper(server: LiveServer, agent: str) -> ElementTree.Element:
    """What ``agent`` hears on answering: the one ``<Say>``."""
    response = post(
        server, f"/twilio/whisper?call={CALL['CallSid']}&agent={agent}", {**CALL, "CallSid": "CA2"}
    )
    assert verbs(response) == ["Say"]
    return ElementTree.fromstring(response.text)[0]


def test_a_czech_caller_is_put_through_to_the_czech_speaker_who_hears_czech(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    handed_over(server, "billing", "cs")
    tag, address, query = dialled(post(server, "/twilio/connect-action", CALL))
    assert (tag, address, query["agent"]) == ("Number", JANA, ["jana"])
    said = whisper(server, "jana")
    assert said.get("language") == "cs-CZ"
    assert (said.text or "").startswith("Volá + 4 4 7 7 0 0 9 0 0 1 2 3. Téma: dotaz k vyúčtování.")


def test_an_english_caller_gets_ed_and_jana_still_hears_her_whisper_in_czech(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    handed_over(server, "billing", "en")
    _, _, query = dialled(post(server, "/twilio/connect-action", CALL))
    assert query["agent"] == ["ed"]
    said = whisper(server, "ed")
    assert said.get("language") == "en-GB"
    assert "Caller wants a question about your bill." in (said.text or "")
    # Ed rang out: Jana speaks English too, and her whisper is in her first language.
    path = "/twilio/dial-action?queue=billing&tried=ed"
    _, address, query = dialled(post(server, path, {**CALL, "DialCallStatus": "no-answer"}))
    assert (address, query["agent"]) == (JANA, ["jana"])
    assert whisper(server, "jana").get("language") == "cs-CZ"


def test_a_czech_call_jana_did_not_answer_is_offered_a_callback_not_ed(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    handed_over(server, "billing", "cs")
    dialled(post(server, "/twilio/connect-action", CALL))
    after = post(
        server, "/twilio/dial-action?queue=billing&tried=jana", {**CALL, "DialCallStatus": "busy"}
    )
    assert "Dial" not in verbs(after)  # a callback, by voice or by the network: never Ed
    assert ED not in after.text


def test_a_polish_caller_nobody_on_shift_understands_is_offered_a_callback_in_polish(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server, MONDAY_15)
    handed_over(server, "billing", "pl")
    response = post(server, "/twilio/connect-action", CALL)
    assert "Dial" not in verbs(response)  # Ed and Jana are free, but speak no Polish
    if verbs(response) == ["Connect"]:  # the bot books it with the caller, in Polish
        stream = ElementTree.fromstring(response.text)[0][0]
        parameters = {p.get("name"): p.get("value") for p in stream}
        assert parameters["offer_reason"] == "no_agent_available"
        assert parameters["language"] == "pl"
    else:  # no Polish speech model: the network apologises in Polish and books the earliest
        said = ElementTree.fromstring(response.text)[0]
        assert said.get("language") == "pl-PL"
        assert said.text == "Nikt z zespołu nie może teraz odebrać, oddzwonimy."
        [booked] = server.services.desk.callbacks().pending_for_number(CALL["From"])
        assert booked.language == "pl"  # placed by a Polish speaker, in Polish
    store = server.services.store
    assert store is not None
    call = store.get_call(CALL["CallSid"])
    assert call is not None and call.transferred_at is None  # nobody was rung


@pytest.mark.parametrize(("language", "agent"), [("pl", "piotr"), ("lv", None)])
def test_in_the_morning_piotr_takes_polish_and_nobody_latvian_billing(
    live_server: Callable[..., LiveServer], language: str, agent: str | None
) -> None:
    server = serve(live_server)
    handed_over(server, "billing", language)
    response = post(server, "/twilio/connect-action", CALL)
    if agent is None:
        assert "Dial" not in verbs(response)
    else:
        tag, address, query = dialled(response)
        assert (tag, address, query["agent"]) == ("Sip", "sip:piotr@pbx.acme.example", [agent])
        assert whisper(server, agent).get("language") == "pl-PL"


def test_the_whisper_url_carries_the_agent_so_any_process_can_word_it(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    handed_over(server, "general", "lv")
    tag, address, query = dialled(post(server, "/twilio/connect-action", CALL))
    assert (tag, address, query) == (
        "Client",
        "liga",
        {"call": [CALL["CallSid"]], "agent": ["liga"]},
    )
    said = whisper(server, "liga")
    assert said.get("language") == "lv-LV"
    assert (said.text or "").startswith("Zvana + 4 4 7 7")
