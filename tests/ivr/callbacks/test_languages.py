"""Callbacks by language: only agents who speak the callback's language are rung for it, each
side hears its own language, and the confirmation text is in the caller's.

Real parts over the four-language line (see tests/ivr/people/test_languages.py): the worker
on SQLite and PostgreSQL placing calls at the REST emulator, the web app on a port answering
the placed calls' webhooks, the desk texting through the emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import httpx
import pytest
from twilio_emulator.rest import TwilioRestEmulator

from bot.engine.actions import ScheduleCallback
from ivr.callbacks.desk import CallbackDesk
from ivr.callbacks.replies import TextReplies
from ivr.callbacks.worker import AGENTS_BUSY_WAIT, NOTHING_SOON, CallbackWorker, WorkerSettings
from ivr.nlu.service import free_port
from ivr.people.directory import AgentDirectory
from ivr.people.roster import Roster
from ivr.people.staffing import Staffing
from ivr.store import AgentStates, CallbackRecord, CallbackStatus, CallbackStore, Store
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from tests.fixtures.live_server import PUBLIC_URL, LiveServer
from tests.ivr.callbacks.test_worker import Clock
from tests.ivr.people.test_languages import FLOW, FOUR_LANGUAGES, MONDAY_10, MONDAY_15
from tests.ivr.web.test_app import post, verbs

S = CallbackStatus
ED, JANA, PIOTR = "+441632960021", "+441632960022", "sip:piotr@pbx.acme.example"
CUSTOMER = "+447700900123"
TUESDAY_08 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Piotr's next shift starts


def worker_of(
    callbacks: CallbackStore, twilio: TwilioRestEmulator, clock: Clock, states: AgentStates | None
) -> CallbackWorker:
    roster = Roster(lambda: states, tolerant=False) if states is not None else None
    return CallbackWorker(
        callbacks,
        TwilioRinger(
            TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url, timeout=5),
            PUBLIC_URL + "/",
        ),
        FLOW,
        Staffing(FLOW, AgentDirectory({}), roster),
        WorkerSettings(worker_id="w1", caller_id="+15005550006"),
        clock=clock,
    )


def book(callbacks: CallbackStore, language: str | None, due_at: datetime = MONDAY_10) -> str:
    return callbacks.schedule(
        queue="billing",
        number=CUSTOMER,
        due_at=due_at,
        now=due_at - timedelta(hours=1),
        language=language,
    ).id


def rung(twilio: TwilioRestEmulator) -> list[str | None]:
    return [request.get("To") for request in twilio.requests_to("Calls.json", "POST")]


def deferral(callbacks: CallbackStore, callback_id: str) -> tuple[datetime, str]:
    record = callbacks.get(callback_id)
    assert record is not None and record.status == S.SCHEDULED
    last = record.transitions[-1]
    assert last.event == "deferred"
    assert record.promised_at != record.due_at  # the promise stays; only the due time moves
    return record.due_at, str(last.detail["reason"])


# -- the worker ------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "agent"), [("cs", JANA), ("en", ED), (None, ED)])
def test_a_callback_rings_the_first_agent_who_speaks_its_language(
    callbacks: CallbackStore, twilio: TwilioRestEmulator, language: str | None, agent: str
) -> None:
    book(callbacks, language)  # no language (booked by the API): the line's default, English
    assert worker_of(callbacks, twilio, Clock(MONDAY_10), None).tick(MONDAY_10) == ["placed"]
    assert rung(twilio) == [agent]


def test_a_polish_callback_after_piotrs_shift_waits_for_his_next_morning(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    polish = book(callbacks, "pl", MONDAY_15)
    clock = Clock(MONDAY_15)
    worker = worker_of(callbacks, twilio, clock, None)
    assert worker.tick(MONDAY_15) == ["deferred"]  # Ed and Jana are free: not for Polish
    assert deferral(callbacks, polish) == (TUESDAY_08, "nobody_speaks_language")
    assert rung(twilio) == []
    clock.now = TUESDAY_08
    assert worker.tick(TUESDAY_08) == ["placed"]
    assert rung(twilio) == [PIOTR]


def test_a_callback_in_a_language_nobody_in_its_queue_speaks_waits_and_is_asked_again(
    callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    latvian = book(callbacks, "lv")  # Liga speaks Latvian, but answers general only
    assert worker_of(callbacks, twilio, Clock(MONDAY_10), None).tick(MONDAY_10) == ["deferred"]
    assert deferral(callbacks, latvian) == (MONDAY_10 + NOTHING_SOON, "nobody_speaks_language")
    assert rung(twilio) == []


def test_a_czech_callback_waits_while_jana_is_busy_and_ed_is_never_rung(
    store: Store, callbacks: CallbackStore, twilio: TwilioRestEmulator
) -> None:
    states = AgentStates(store)
    assert states.reserve("jana", MONDAY_10, MONDAY_10 + timedelta(minutes=10), call_id="CA1")
    czech = book(callbacks, "cs")
    clock = Clock(MONDAY_10)
    worker = worker_of(callbacks, twilio, clock, states)
    assert worker.tick(MONDAY_10) == ["deferred"]
    assert deferral(callbacks, czech) == (MONDAY_10 + AGENTS_BUSY_WAIT, "agents_busy")
    assert rung(twilio) == []
    states.release(call_id="CA1")
    clock.now = MONDAY_10 + AGENTS_BUSY_WAIT
    assert worker.tick(clock.now) == ["placed"]
    assert rung(twilio) == [JANA]
    assert states.busy(clock.now)["jana"].callback_id == czech


# -- what each side of a placed callback hears -----------------------------------------------


def serve(live_server: Callable[..., LiveServer], now: datetime = MONDAY_10) -> LiveServer:
    return live_server(
        clock=lambda: now, FLOWS=str(FOUR_LANGUAGES), NLU_URL=f"http://127.0.0.1:{free_port()}"
    )


def placed(
    server: LiveServer, language: str, to: str, mode: str = "agent_first", now: datetime = MONDAY_10
) -> CallbackRecord:
    """A billing callback a worker has just placed to ``to`` (dialing, with the call's sid)."""
    store = server.services.desk.callbacks()
    record = store.schedule(
        queue="billing",
        number=CUSTOMER,
        due_at=now,
        now=now - timedelta(hours=1),
        reason="caller_request",
        from_number="+442079460000",
        mode=mode,
        language=language,
        context={
            "summary": "Caller wants a question about your bill.",
            "intent": "billing_question",
        },
    )
    assert [c.callback.id for c in store.claim_due("w1", now, lease_seconds=60)] == [record.id]
    store.dial_requested(record.id, "w1", 1, now, to=to)
    return store.dial_placed(record.id, "CA" + "c" * 32, now)


def leg(record: CallbackRecord, to: str, **more: str) -> dict[str, str]:
    return {
        "CallSid": record.dial_sid or "",
        "AccountSid": "AC" + "b" * 32,
        "From": record.from_number or "",
        "To": to,
        "Direction": "outbound-api",
        "CallStatus": "in-progress",
        **more,
    }


def says(response: httpx.Response) -> list[tuple[str | None, str]]:
    """Each ``<Say>``'s language and text."""
    document = ElementTree.fromstring(response.text)
    return [(e.get("language"), e.text or "") for e in document if e.tag == "Say"]


def test_jana_hears_her_whisper_in_czech_and_the_english_customer_hears_english(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    record = placed(server, "en", JANA)
    answer = post(server, f"/twilio/callback/answer?callback={record.id}", leg(record, JANA))
    assert verbs(answer) == ["Say", "Dial"]
    [(language, text)] = says(answer)
    assert language == "cs-CZ"
    assert text == (
        "Zpětné volání na + 4 4 7 7 0 0 9 0 0 1 2 3 ohledně vašeho vyúčtování, slíbené na 10:00. "
        "Téma: dotaz k vyúčtování. Objednáno, protože volající chce zavolat zpět."
    )
    greet = post(server, f"/twilio/callback/greet?callback={record.id}", leg(record, CUSTOMER))
    assert says(greet) == [("en-GB", "This is Acme calling you back about your bill.")]


def test_a_polish_callback_is_polish_on_both_sides(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    record = placed(server, "pl", PIOTR)
    answer = post(server, f"/twilio/callback/answer?callback={record.id}", leg(record, PIOTR))
    [(language, text)] = says(answer)
    assert language == "pl-PL"
    assert text.startswith("Oddzwonienie na numer + 4 4 7 7 0 0 9 0 0 1 2 3 w sprawie rachunku,")
    greet = post(server, f"/twilio/callback/greet?callback={record.id}", leg(record, CUSTOMER))
    assert says(greet) == [("pl-PL", "Tu Acme, oddzwaniamy w sprawie rachunku.")]


def test_customer_first_rings_the_agent_who_speaks_the_customers_language(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    record = placed(server, "cs", CUSTOMER, mode="customer_first")
    answer = post(
        server,
        f"/twilio/callback/answer?callback={record.id}",
        leg(record, CUSTOMER, AnsweredBy="human"),
    )
    assert says(answer) == [("cs-CZ", "Tady Acme, voláme vám zpět ohledně vašeho vyúčtování.")]
    target = ElementTree.fromstring(answer.text).find("Dial")[0]  # type: ignore[index]
    assert (target.tag, (target.text or "").strip()) == ("Number", JANA)  # not Ed, first in YAML
    url = (target.get("url") or "").removeprefix(PUBLIC_URL)
    whisper = post(server, url, leg(record, JANA))
    [(language, text)] = says(whisper)
    assert language == "cs-CZ" and text.startswith("Zpětné volání na + 4 4 7 7")


def test_customer_first_with_nobody_who_speaks_it_tells_the_customer_in_their_language(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server, MONDAY_15)
    record = placed(server, "pl", CUSTOMER, mode="customer_first", now=MONDAY_15)
    answer = post(
        server,
        f"/twilio/callback/answer?callback={record.id}",
        leg(record, CUSTOMER, AnsweredBy="human"),
    )
    assert verbs(answer) == ["Say", "Hangup"]
    assert says(answer) == [("pl-PL", "Nikt z zespołu nie może teraz odebrać, oddzwonimy.")]
    found = server.services.desk.callbacks().get(record.id)
    assert found is not None and found.status == S.RETRY
    outcome = next(t for t in found.transitions if t.status == S.FAILED)
    assert outcome.detail["why"] == "no_agent_speaks_language"


def test_the_agent_is_told_in_their_own_language_that_the_customer_did_not_answer(
    live_server: Callable[..., LiveServer],
) -> None:
    server = serve(live_server)
    record = placed(server, "en", JANA)
    done = post(
        server,
        f"/twilio/callback/dial-action?callback={record.id}",
        leg(record, JANA, DialCallStatus="no-answer"),
    )
    assert says(done) == [("cs-CZ", "Zákazník hovor nepřijal. Zpětné volání zkusíme znovu.")]


# -- texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "cs",
            "Acme Telecom: zavoláme vám zítra v 15:00. Pro zrušení odpovězte ZRUŠIT, nebo "
            "pošlete jiný čas (například: zítra v 10).",
        ),
        ("pl", "Acme Telecom: oddzwonimy jutro o 15:00. Aby odwołać, prosimy odpisać ANULUJ"),
        ("lv", "Acme Telecom: mēs jums atzvanīsim rīt plkst. 15:00. Lai atceltu, atbildiet"),
        ("en", "Acme Telecom: we'll call you back tomorrow at 3 pm. Reply CANCEL"),
    ],
)
def test_the_confirmation_text_is_in_the_callers_language(
    store: Store, twilio: TwilioRestEmulator, language: str, expected: str
) -> None:
    dialer = TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url)
    desk = CallbackDesk(lambda: store, lambda: FLOW, lambda: MONDAY_15, dialer)
    action = ScheduleCallback("caller_request", "billing", at="2026-11-24T15:00:00+00:00", sms=True)
    record = desk.book(
        action, call_id="CA1", caller=CUSTOMER, called="+442079460099", language=language
    )
    assert record is not None and record.language == language
    (text,) = twilio.messages
    assert text.body.startswith(expected)


def test_a_reply_in_the_callers_language_cancels_or_moves_it_and_is_answered_so(
    callbacks: CallbackStore,
) -> None:
    replies = TextReplies(lambda: callbacks, lambda: FLOW, lambda: MONDAY_15)
    polish = book(callbacks, "pl", TUESDAY_08 + timedelta(hours=7))
    moved = replies.answer(CUSTOMER, "jutro o 10")
    assert moved == "Acme Telecom: gotowe, oddzwonimy jutro o 10:00."
    record = callbacks.get(polish)
    assert record is not None and record.due_at == TUESDAY_08 + timedelta(hours=2)
    assert replies.answer(CUSTOMER, "Anuluj") == (
        "Acme Telecom: oddzwonienie zostało odwołane. Zapraszamy do kontaktu w każdej chwili."
    )
    czech = book(callbacks, "cs", TUESDAY_08 + timedelta(hours=7))
    assert replies.answer(CUSTOMER, "ZRUŠIT prosím").startswith("Acme Telecom: zpětné volání")
    cancelled = callbacks.get(czech)
    assert cancelled is not None and cancelled.status == S.CANCELLED
