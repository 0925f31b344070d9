"""Transfers to the demo line's agents on a real server: who is rung, the whisper, the next
agent, the callback booking stream, and the agent's context as JSON (bearer token)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest

from ivr.call.handover import Handover
from ivr.config import DEVELOPMENT_API_TOKEN
from ivr.nlu.service import free_port
from ivr.store import TurnRecord
from tests.fixtures.live_server import OPEN, PUBLIC_URL, LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from tests.ivr.web.test_app import CALL, post, verbs

API = {"Authorization": f"Bearer {DEVELOPMENT_API_TOKEN}"}
MONDAY_15 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
#: No English Vosk model can be installed here: scripted words stand in for one (these tests
#: need English callers to reach the bot, not what they say).
ENGLISH = ScriptedRecognizerPool([])


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=ENGLISH)


def handed_over(server: LiveServer, call: dict[str, str], queue: str, **slots: str) -> None:
    """The call arrived and the bot handed it to ``queue`` (as the stream would have)."""
    assert verbs(post(server, "/twilio/voice", call)) == ["Connect"]
    summary = f"Caller wants help with {queue}; handed over because they asked for a person."
    server.services.board.put(
        call["CallSid"],
        Handover(
            "transfer",
            "asked_for_person",
            queue,
            context={"summary": summary, "intent": f"{queue}_question"},
            caller=call["From"],
            slots=slots,
        ),
    )


def dial_of(response: httpx.Response) -> tuple[ElementTree.Element, ElementTree.Element]:
    document = ElementTree.fromstring(response.text)
    dial = document.find("Dial")
    assert dial is not None, response.text
    return dial, dial[0]


def query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlsplit(url).query)


def test_a_transfer_rings_the_agent_on_shift_with_a_whisper_naming_them(
    server: LiveServer,
) -> None:
    handed_over(server, CALL, "billing", account_number="44128890")
    dial, target = dial_of(post(server, "/twilio/connect-action", CALL))
    assert (target.tag, (target.text or "").strip()) == ("Number", "+441632960001")  # alice
    assert query(target.get("url")) == {"call": [CALL["CallSid"]], "agent": ["alice"]}
    assert query(dial.get("action")) == {"queue": ["billing"], "tried": ["alice"]}
    store = server.services.store
    assert store is not None
    call = store.get_call(CALL["CallSid"])
    assert call is not None and call.transferred_at == OPEN


def test_the_whisper_says_who_what_why_and_how_often_they_called(
    server: LiveServer,
) -> None:
    store = server.services.store
    assert store is not None
    for days in (1, 3):
        store.call_started(
            f"CAearlier{days}",
            caller=CALL["From"],
            called=CALL["To"],
            started_at=OPEN - timedelta(days=days),
        )
    handed_over(server, CALL, "billing", account_number="44128890")
    whisper = post(
        server, f"/twilio/whisper?call={CALL['CallSid']}&agent=alice", {**CALL, "CallSid": "CA2"}
    )
    assert verbs(whisper) == ["Say"]
    text = ElementTree.fromstring(whisper.text)[0].text or ""
    assert text.startswith("Call from + 4 4 7 7 0 0 9 0 0 1 2 3.")
    assert "handed over because they asked for a person" in text
    assert "They called 2 times before in the last 7 days." in text
    call = store.get_call(CALL["CallSid"])
    assert call is not None and call.agent == "alice" and call.time_to_person_seconds == 0


def test_a_returning_caller_is_rung_through_to_their_last_agent(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(
        clock=lambda: MONDAY_15, NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=ENGLISH
    )
    store = server.services.store
    assert store is not None
    store.call_started("CAlast", caller=CALL["From"], called=None, started_at=OPEN)
    store.person_answered("CAlast", agent="carol", at=OPEN + timedelta(seconds=30))
    handed_over(server, CALL, "billing")
    _, target = dial_of(post(server, "/twilio/connect-action", CALL))
    assert (target.tag, (target.text or "").strip()) == ("Client", "carol")


def test_no_answer_rings_the_next_agent_then_books_a_callback_by_voice(
    server: LiveServer,
) -> None:
    handed_over(server, CALL, "general")
    dial, _ = dial_of(post(server, "/twilio/connect-action", CALL))
    action = dial.get("action") or ""
    assert action.startswith(PUBLIC_URL)
    path = action.removeprefix(PUBLIC_URL)
    next_dial, bob = dial_of(post(server, path, {**CALL, "DialCallStatus": "no-answer"}))
    assert (bob.tag, (bob.text or "").strip()) == ("Sip", "sip:bob@pbx.acme.example")
    assert query(next_dial.get("action"))["tried"] == ["alice,bob"]
    path = (next_dial.get("action") or "").removeprefix(PUBLIC_URL)
    booking = post(server, path, {**CALL, "DialCallStatus": "busy"})
    assert verbs(booking) == ["Connect"]
    stream = ElementTree.fromstring(booking.text)[0][0]
    parameters = {p.get("name"): p.get("value") for p in stream}
    assert parameters == {
        "caller": CALL["From"],
        "called": CALL["To"],
        "language": "en",  # the booking goes on in the call's language
        "offer_queue": "general",
        "offer_reason": "dial_busy",
        "offer_prompt": "no_agent",
    }


def test_the_api_needs_the_bearer_token(server: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}):
        response = httpx.get(f"{server.url}/api/callbacks", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="ivr"'
    assert httpx.get(f"{server.url}/api/callbacks", headers=API, timeout=10).status_code == 200


def test_the_agent_context_has_the_transcript_slots_and_earlier_calls(
    server: LiveServer,
) -> None:
    store = server.services.store
    assert store is not None
    store.call_started("CAbefore", caller=CALL["From"], called=None, started_at=OPEN - timedelta(1))
    store.set_outcome("CAbefore", outcome="transfer", queue="faults", reason="outage")
    handed_over(server, CALL, "billing", account_number="44128890")
    store.add_turn(
        CALL["CallSid"],
        TurnRecord(
            index=0,
            at=OPEN,
            step="main_menu",
            kind="speech",
            text="a question about my bill",
            asr_confidence=0.91,
            intent="billing_question",
            confidence=0.97,
            decision="route:billing_account",
        ),
    )
    response = httpx.get(f"{server.url}/api/calls/{CALL['CallSid']}/context", headers=API)
    assert response.status_code == 200
    context = response.json()
    assert context["caller"] == CALL["From"]
    assert context["slots"] == {"account_number": "44128890"}
    assert context["intent"] == "billing_question"
    assert context["transcript"][0] | {"at": None, "bot": None} == {
        "at": None,
        "step": "main_menu",
        "kind": "speech",
        "text": "a question about my bill",
        "asr_confidence": 0.91,
        "intent": "billing_question",
        "confidence": 0.97,
        "decision": "route:billing_account",
        "bot": None,
    }
    assert [c["call_id"] for c in context["earlier_calls"]] == ["CAbefore"]
    assert context["earlier_calls"][0]["queue"] == "faults"
    missing = httpx.get(f"{server.url}/api/calls/CAnone/context", headers=API)
    assert missing.status_code == 404


def test_in_production_the_api_is_off_until_its_token_is_set(
    live_server: Callable[..., LiveServer],
) -> None:
    nlu = f"http://127.0.0.1:{free_port()}"
    off = live_server(MODE="production", NLU_URL=nlu)
    response = httpx.get(f"{off.url}/api/callbacks", headers=API, timeout=10)
    assert response.status_code == 403 and "IVR_API_TOKEN" in response.json()["error"]
    on = live_server(MODE="production", NLU_URL=nlu, API_TOKEN="s3cret-token")
    assert httpx.get(f"{on.url}/api/callbacks", headers=API, timeout=10).status_code == 401
    ok = httpx.get(
        f"{on.url}/api/callbacks", headers={"Authorization": "Bearer s3cret-token"}, timeout=10
    )
    assert ok.status_code == 200 and ok.json() == {"callbacks": []}
