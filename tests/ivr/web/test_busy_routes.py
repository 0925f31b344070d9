"""Presence and busy agents in transfers, on a real server: away agents and busy ones are not
rung, the reservation follows the call (ringing, on the call, free), and with the database down
a caller still reaches a person.

The demo line's people at Monday 10:00 in London: ``general`` is answered by alice, then bob.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy.engine import make_url

from ivr.nlu.service import free_port
from ivr.store import AgentStates, BusyKind, Presence, Store
from tests.fixtures.live_server import OPEN, PUBLIC_URL, LiveServer
from tests.fixtures.postgres import POSTGRES_URL
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from tests.ivr.store.conftest import TcpProxy, postgres_proxy
from tests.ivr.web.test_app import CALL, post, verbs
from tests.ivr.web.test_people_routes import dial_of, handed_over, query

ALICE, BOB = "+441632960001", "sip:bob@pbx.acme.example"
__all__ = ["postgres_proxy"]  # a fixture, for the database outage
#: No English Vosk model can be installed here: scripted words stand in for one (these tests
#: need English callers to reach the bot, not what they say).
ENGLISH = ScriptedRecognizerPool([])


def a_call(n: int) -> dict[str, str]:
    return {**CALL, "CallSid": f"CA{n:032d}", "From": f"+4477009000{n:02d}"}


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=ENGLISH)


def states(server: LiveServer) -> AgentStates:
    assert server.services.store is not None
    return AgentStates(server.services.store)


def transfer(server: LiveServer, call: dict[str, str], queue: str = "general") -> tuple[str, str]:
    """Hand ``call`` to ``queue``; whom the ``<Dial>`` rings (address) and its ``tried``."""
    handed_over(server, call, queue)
    dial, target = dial_of(post(server, "/twilio/connect-action", call))
    return (target.text or "").strip(), query(dial.get("action"))["tried"][0]


def busy(server: LiveServer) -> dict[str, tuple[str | None, BusyKind]]:
    return {a: (b.call_id, b.kind) for a, b in states(server).busy(OPEN).items()}


def test_an_agent_away_in_the_console_is_not_rung_and_one_never_logged_in_is(
    server: LiveServer,
) -> None:
    states(server).set_presence("alice", Presence.AWAY, OPEN)  # bob never used the console
    assert transfer(server, a_call(1)) == (BOB, "bob")
    states(server).set_presence("alice", Presence.AVAILABLE, OPEN)
    assert transfer(server, a_call(2)) == (ALICE, "alice")


def test_a_returning_callers_agent_who_is_away_gives_way_to_the_queues_next(
    server: LiveServer,
) -> None:
    store = server.services.store
    assert store is not None
    call = a_call(1)
    store.call_started("CAlast", caller=call["From"], called=None, started_at=OPEN - timedelta(1))
    store.person_answered("CAlast", agent="bob", at=OPEN - timedelta(1))
    assert transfer(server, call) == (BOB, "bob")  # sticky: bob first
    post(server, "/twilio/status", {**call, "CallStatus": "completed"})
    states(server).set_presence("bob", Presence.AWAY, OPEN)
    assert transfer(server, a_call(2) | {"From": call["From"]}) == (ALICE, "alice")


def test_an_agent_rung_for_one_call_is_not_rung_for_another(server: LiveServer) -> None:
    first, second, third = a_call(1), a_call(2), a_call(3)
    assert transfer(server, first) == (ALICE, "alice")
    assert busy(server) == {"alice": (first["CallSid"], BusyKind.RINGING)}
    assert transfer(server, second) == (BOB, "bob")
    # Everybody on shift is being rung: the third caller is offered a callback.
    handed_over(server, third, "general")
    offer = post(server, "/twilio/connect-action", third)
    assert verbs(offer) == ["Connect"]
    parameters = {p.get("name"): p.get("value") for p in ElementTree.fromstring(offer.text)[0][0]}
    assert parameters["offer_reason"] == "no_agent_available"

    # Alice does not answer the first: she is free, but bob is still rung for the second, so
    # the first caller is offered a callback rather than bob.
    booking = post(
        server,
        "/twilio/dial-action?queue=general&tried=alice",
        {**first, "DialCallStatus": "no-answer"},
    )
    assert verbs(booking) == ["Connect"]
    assert busy(server) == {"bob": (second["CallSid"], BusyKind.RINGING)}


def test_the_reservation_follows_the_call_ringing_on_the_call_then_free(
    server: LiveServer,
) -> None:
    first, second = a_call(1), a_call(2)
    assert transfer(server, first) == (ALICE, "alice")
    whisper = post(
        server,
        f"/twilio/whisper?call={first['CallSid']}&agent=alice",
        {**first, "CallSid": "CA" + "7" * 32, "To": ALICE},
    )
    assert verbs(whisper) == ["Say"]
    assert busy(server) == {"alice": (first["CallSid"], BusyKind.ON_CALL)}
    assert transfer(server, second) == (BOB, "bob")  # alice talks: the next call gets bob
    # The first call's conversation is over (the dial action after the bridge): alice is free.
    done = post(
        server,
        "/twilio/dial-action?queue=general&tried=alice",
        {**first, "DialCallStatus": "completed"},
    )
    assert verbs(done) == ["Hangup"]
    assert busy(server) == {"bob": (second["CallSid"], BusyKind.RINGING)}
    # The second caller hangs up while bob's phone rings: the call's end frees him.
    post(server, "/twilio/status", {**second, "CallStatus": "completed"})
    assert busy(server) == {}


def test_a_second_agent_after_no_answer_is_reserved_and_the_call_end_frees_them(
    server: LiveServer,
) -> None:
    call = a_call(1)
    assert transfer(server, call) == (ALICE, "alice")
    dial, target = dial_of(
        post(
            server,
            "/twilio/dial-action?queue=general&tried=alice",
            {**call, "DialCallStatus": "no-answer"},
        )
    )
    assert ((target.text or "").strip(), query(dial.get("action"))["tried"]) == (
        BOB,
        ["alice,bob"],
    )
    assert busy(server) == {"bob": (call["CallSid"], BusyKind.RINGING)}
    post(server, "/twilio/status", {**call, "CallStatus": "canceled"})
    assert busy(server) == {}


def test_with_the_database_down_a_caller_still_reaches_the_agent_on_shift(
    live_server: Callable[..., LiveServer], postgres_proxy: TcpProxy, postgres_schema: str
) -> None:
    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=postgres_proxy.port)
    with Store(url.render_as_string(hide_password=False), schema=postgres_schema) as store:
        AgentStates(store).set_presence("alice", Presence.AWAY, OPEN)
    database = url.update_query_dict({"options": f"-csearch_path={postgres_schema}"})
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}",
        DATABASE_URL=database.render_as_string(hide_password=False),
        recognizers=ENGLISH,
    )
    assert transfer(server, a_call(1)) == (BOB, "bob")  # alice is away
    postgres_proxy.stop()
    # Presence is unknown now: everyone counts as available, and nobody as busy.
    response = post(server, "/twilio/voice", a_call(2))
    assert verbs(response) == ["Say", "Dial"]
    dial = ElementTree.fromstring(response.text)[1]
    assert (dial[0].text or "").strip() == ALICE
    assert (dial.get("action") or "").startswith(f"{PUBLIC_URL}/twilio/dial-action")
    again = ElementTree.fromstring(post(server, "/twilio/voice", a_call(3)).text)[1]
    assert (again[0].text or "").strip() == ALICE  # alice again: no reservation could be kept
