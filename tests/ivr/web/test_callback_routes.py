"""Callbacks on a real server: the TwiML of a placed callback (agent first, customer first with a
machine or a person), outcomes from Twilio's callbacks, SMS replies, and the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import httpx
import pytest

from ivr.config import DEVELOPMENT_API_TOKEN
from ivr.nlu.service import free_port
from ivr.store.callbacks import CallbackRecord, CallbackStatus, CallbackStore
from tests.fixtures.live_server import OPEN, PUBLIC_URL, LiveServer
from tests.ivr.web.test_app import post, verbs

API = {"Authorization": f"Bearer {DEVELOPMENT_API_TOKEN}"}
CUSTOMER = "+447700900123"
TUESDAY_15 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}")


def callbacks(server: LiveServer) -> CallbackStore:
    return server.services.desk.callbacks()


def booked(server: LiveServer, queue: str = "billing", mode: str = "agent_first") -> CallbackRecord:
    """A callback due now that a worker has just placed (dialing, with the call's sid)."""
    store = callbacks(server)
    record = store.schedule(
        queue=queue,
        number=CUSTOMER,
        due_at=OPEN,
        now=OPEN - timedelta(hours=1),
        reason="caller_request",
        from_number="+442079460000",
        mode=mode,
        language="en",
        context={"summary": "Caller wants a question about your bill; account_number=44128890."},
    )
    claims = store.claim_due("w1", OPEN, lease_seconds=60)
    assert [c.callback.id for c in claims] == [record.id]
    store.dial_requested(record.id, "w1", 1, OPEN)
    return store.dial_placed(record.id, "CA" + "c" * 32, OPEN)


def leg(record: CallbackRecord, **more: str) -> dict[str, str]:
    return {
        "CallSid": record.dial_sid or "",
        "AccountSid": "AC" + "b" * 32,
        "From": record.from_number or "",
        "To": "+441632960001",
        "Direction": "outbound-api",
        "CallStatus": "in-progress",
        **more,
    }


def status_of(server: LiveServer, record: CallbackRecord) -> CallbackStatus:
    found = callbacks(server).get(record.id)
    assert found is not None
    return found.status


def test_agent_first_whispers_to_the_agent_then_dials_the_customer_with_the_opening(
    server: LiveServer,
) -> None:
    record = booked(server)
    answer = post(server, f"/twilio/callback/answer?callback={record.id}", leg(record))
    assert verbs(answer) == ["Say", "Dial"]
    document = ElementTree.fromstring(answer.text)
    whisper = document[0].text or ""
    assert whisper.startswith("Callback to + 4 4 7 7 0 0 9 0 0 1 2 3, about your bill,")
    assert "account_number=44128890" in whisper
    dial = document[1]
    assert dial.get("callerId") == "+442079460000"
    assert (dial[0].tag, (dial[0].text or "").strip()) == ("Number", CUSTOMER)
    greet_url = dial[0].get("url") or ""
    assert greet_url == f"{PUBLIC_URL}/twilio/callback/greet?callback={record.id}"
    assert status_of(server, record) == CallbackStatus.DIALING  # only the agent is on

    greet = post(server, greet_url.removeprefix(PUBLIC_URL), leg(record, To=CUSTOMER))
    assert verbs(greet) == ["Say"]
    assert "calling you back about your bill" in greet.text
    assert status_of(server, record) == CallbackStatus.CONNECTED
    found = callbacks(server).get(record.id)
    assert found is not None and found.on_time is True

    post(
        server, f"/twilio/callback/status?callback={record.id}", leg(record, CallStatus="completed")
    )
    assert status_of(server, record) == CallbackStatus.DONE


def test_an_agent_who_does_not_answer_means_a_retry(server: LiveServer) -> None:
    record = booked(server)
    response = post(
        server, f"/twilio/callback/status?callback={record.id}", leg(record, CallStatus="no-answer")
    )
    assert response.status_code == 204
    found = callbacks(server).get(record.id)
    assert found is not None and found.status == CallbackStatus.RETRY
    assert found.due_at == OPEN + timedelta(minutes=5)  # the billing queue's first back-off


def test_a_customer_who_does_not_answer_means_a_retry_and_the_agent_is_told(
    server: LiveServer,
) -> None:
    record = booked(server)
    done = post(
        server,
        f"/twilio/callback/dial-action?callback={record.id}",
        leg(record, DialCallStatus="no-answer"),
    )
    assert verbs(done) == ["Say", "Hangup"]
    assert "did not answer" in done.text
    assert status_of(server, record) == CallbackStatus.RETRY


def test_customer_first_leaves_a_machine_a_short_message_and_retries(server: LiveServer) -> None:
    record = booked(server, queue="faults", mode="customer_first")
    answer = post(
        server,
        f"/twilio/callback/answer?callback={record.id}",
        leg(record, To=CUSTOMER, AnsweredBy="machine_end_beep"),
    )
    assert verbs(answer) == ["Say", "Hangup"]
    assert "the fault you reported" in answer.text
    assert status_of(server, record) == CallbackStatus.RETRY


def test_customer_first_with_a_person_dials_the_agent_on_shift_with_a_whisper(
    server: LiveServer,
) -> None:
    record = booked(server, queue="faults", mode="customer_first")
    answer = post(
        server,
        f"/twilio/callback/answer?callback={record.id}",
        leg(record, To=CUSTOMER, AnsweredBy="human"),
    )
    assert verbs(answer) == ["Say", "Dial"]
    document = ElementTree.fromstring(answer.text)
    assert "calling you back about the fault you reported" in (document[0].text or "")
    target = document[1][0]
    assert (target.tag, (target.text or "").strip()) == ("Sip", "sip:bob@pbx.acme.example")
    whisper = post(
        server, (target.get("url") or "").removeprefix(PUBLIC_URL), leg(record, To="bob")
    )
    assert "Callback to + 4 4 7 7" in whisper.text
    assert status_of(server, record) == CallbackStatus.CONNECTED


def test_a_text_reply_moves_or_cancels_the_booked_callback(server: LiveServer) -> None:
    record = callbacks(server).schedule(
        queue="billing", number=CUSTOMER, due_at=TUESDAY_15, now=OPEN, language="en"
    )
    sms = {"From": CUSTOMER, "To": "+442079460000", "MessageSid": "SM" + "d" * 32}
    moved = post(server, "/twilio/sms", {**sms, "Body": "tomorrow at 10am please"})
    assert moved.status_code == 200 and "<Message>" in moved.text
    assert "tomorrow at 10 am" in moved.text
    found = callbacks(server).get(record.id)
    assert found is not None and found.due_at == TUESDAY_15.replace(hour=10)
    assert found.transitions[-1].event == "moved"

    unclear = post(server, "/twilio/sms", {**sms, "Body": "what?"})
    assert "Reply CANCEL" in unclear.text

    cancelled = post(server, "/twilio/sms", {**sms, "Body": "Cancel"})
    assert "cancelled" in cancelled.text
    assert status_of(server, record) == CallbackStatus.CANCELLED
    nothing = post(server, "/twilio/sms", {**sms, "Body": "Cancel"})
    assert "no callback booked" in nothing.text


def test_the_api_books_lists_moves_and_cancels_callbacks(server: LiveServer) -> None:
    url = f"{server.url}/api/callbacks"
    created = httpx.post(
        url, json={"number": CUSTOMER, "queue": "billing", "when": "tomorrow after three"},
        headers=API,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    callback = created.json()
    assert callback["due_at"] == "2026-11-24T15:00:00+00:00"
    assert callback["status"] == "scheduled"

    listed = httpx.get(url, params={"status": "scheduled"}, headers=API).json()["callbacks"]
    assert [c["id"] for c in listed] == [callback["id"]]

    moved = httpx.patch(
        f"{url}/{callback['id']}", json={"due_at": "2026-11-25T09:30:00+00:00"}, headers=API
    )
    assert moved.status_code == 200 and moved.json()["due_at"] == "2026-11-25T09:30:00+00:00"
    assert [t["event"] for t in moved.json()["transitions"]] == ["scheduled", "moved"]

    cancelled = httpx.delete(f"{url}/{callback['id']}", headers=API)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = httpx.delete(f"{url}/{callback['id']}", headers=API)
    assert again.status_code == 409 and "cancelled" in again.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"number": "07700 900123"}, 400, "E.164"),
        ({"number": CUSTOMER, "queue": "billng"}, 400, "unknown queue"),
        ({"number": CUSTOMER}, 400, "give 'when'"),
        ({"number": CUSTOMER, "when": "purple"}, 400, "could not read a future time"),
        ({"number": CUSTOMER, "due_at": "2026-11-24T15:00:00"}, 400, "UTC offset"),
        ({"number": CUSTOMER, "due_at": "2020-01-01T15:00:00+00:00"}, 400, "in the past"),
    ],
)
def test_the_api_says_what_is_wrong_with_a_booking(
    server: LiveServer, body: dict[str, str], status: int, message: str
) -> None:
    response = httpx.post(f"{server.url}/api/callbacks", json=body, headers=API)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_callbacks_are_404(server: LiveServer) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = httpx.request(
            method, f"{server.url}/api/callbacks/nope", json={"when": "tomorrow"}, headers=API
        )
        assert response.status_code == 404, method
