"""Calls placed through the REST emulator, run for real against a small Flask server.

The server (conftest.py) checks every signature with twilio-python's RequestValidator; the
calls are created with the official twilio client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.rest import Client
from twilio_emulator import AgentBehaviour, Hangup, Press, TwilioRestEmulator

from tests.emulator.conftest import PUBLIC, TOKEN, Hit, StreamLog, TestServer, twiml

OURS = "+442079460000"
ANN = "+447700900001"
ALICE = "+441632960001"
BOB = "+441632960002"
ANSWER = PUBLIC + "/outbound/answer"
STATUS = PUBLIC + "/outbound/status"
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def rest(server: TestServer) -> Iterator[TwilioRestEmulator]:
    server.routes["/outbound/status"] = twiml("")
    with TwilioRestEmulator(
        auth_token=TOKEN, server_url=server.url, public_url=PUBLIC, say_words_per_second=0
    ) as running:
        yield running


@pytest.fixture
def client(rest: TwilioRestEmulator) -> Client:
    client = Client(rest.account_sid, rest.auth_token)
    client.api.base_url = rest.url
    return client


def place(client: Client, to: str = ANN, **options: object) -> str:
    options.setdefault("url", ANSWER)
    options.setdefault("status_callback", STATUS)
    sid: str = client.calls.create(to=to, from_=OURS, **options).sid
    return sid


def progress(server: TestServer) -> list[Hit]:
    """Status callbacks in Twilio's order (they may arrive out of order)."""
    return sorted(server.hits_to("/outbound/status"), key=lambda h: int(h.form["SequenceNumber"]))


def test_answered_call_runs_the_twiml_and_dials_an_agent_with_a_whisper(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    server.routes["/outbound/answer"] = twiml(
        "<Say>Hello Ann, this is your call back.</Say>"
        f'<Dial callerId="{OURS}"><Number url="/outbound/whisper">{ALICE}</Number></Dial>'
        "<Say>Goodbye.</Say>"
    )
    server.routes["/outbound/whisper"] = twiml("<Say>Call back for Ann about her bill.</Say>")
    rest.set_callee(ALICE, AgentBehaviour("answered", talk_seconds=0.2))
    sid = place(client, status_callback_event=ALL_EVENTS, machine_detection="DetectMessageEnd")

    result = rest.wait_for_call(sid, timeout=10)

    assert result.ok, result.errors
    assert result.call_sid == sid and result.status == "completed"
    assert result.heard_says == ["Hello Ann, this is your call back.", "Goodbye."]
    (dial,) = result.dials
    assert (dial.number, dial.outcome, dial.bridged) == (ALICE, "completed", True)
    assert dial.whisper == ["Call back for Ann about her bill."]
    assert all(hit.valid for hit in server.hits), [h.path for h in server.hits if not h.valid]
    (voice,) = server.hits_to("/outbound/answer")
    assert voice.form["CallSid"] == sid and voice.form["AccountSid"] == rest.account_sid
    assert voice.form["Direction"] == "outbound-api"
    assert voice.form["CallStatus"] == "in-progress"
    assert voice.form["AnsweredBy"] == "human"
    assert (voice.form["From"], voice.form["To"]) == (OURS, ANN)
    (whisper,) = server.hits_to("/outbound/whisper")
    assert whisper.form["Direction"] == "outbound-dial" and whisper.form["ParentCallSid"] == sid
    assert whisper.form["To"] == ALICE and whisper.form["From"] == OURS

    events = progress(server)
    assert [h.form["CallStatus"] for h in events] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [h.form["SequenceNumber"] for h in events] == ["0", "1", "2", "3"]
    assert {h.form["CallbackSource"] for h in events} == {"call-progress-events"}
    final = events[-1].form
    assert final["AnsweredBy"] == "human" and final["Direction"] == "outbound-api"
    assert final["CallDuration"] == "0" and final["Duration"] == "0"  # 0.2 s, rounded
    call = client.calls(sid).fetch()
    assert (call.status, call.answered_by, call.duration) == ("completed", "human", "0")
    assert call.start_time is not None and call.end_time is not None


def test_no_answer_fetches_no_twiml_and_reports_no_answer(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    rest.set_callee(ANN, AgentBehaviour("no-answer", ring_seconds=0.3))
    started = time.monotonic()
    sid = place(client, status_callback_event=["ringing"])
    result = rest.wait_for_call(sid, timeout=10)
    assert result.status == "no-answer" and time.monotonic() - started >= 0.3
    assert server.hits_to("/outbound/answer") == []
    events = progress(server)
    assert [h.form["CallStatus"] for h in events] == ["ringing", "no-answer"]
    assert events[-1].form["CallDuration"] == "0" and "Duration" not in events[-1].form
    assert "AnsweredBy" not in events[-1].form  # no detection asked for
    assert client.calls(sid).fetch().status == "no-answer"


def test_the_timeout_cuts_a_long_ring_short(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    rest.set_callee(ANN, AgentBehaviour("answered", ring_seconds=30))
    started = time.monotonic()
    sid = place(client, timeout=1)
    assert rest.wait_for_call(sid, timeout=10).status == "no-answer"
    assert 1.0 <= time.monotonic() - started < 5
    assert server.hits_to("/outbound/answer") == []


def test_busy_and_failed_numbers_never_ring(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    rest.set_callee(ANN, AgentBehaviour("busy"))
    rest.set_callee(BOB, AgentBehaviour("failed"))
    busy = place(client, status_callback_event=ALL_EVENTS)
    assert rest.wait_for_call(busy, timeout=10).status == "busy"
    assert [h.form["CallStatus"] for h in progress(server)] == ["initiated", "busy"]
    failed = place(client, BOB)
    assert rest.wait_for_call(failed, timeout=10).status == "failed"
    assert client.calls(failed).fetch().status == "failed"
    assert server.hits_to("/outbound/answer") == []


@pytest.mark.parametrize(
    ("mode", "answered_by"), [("DetectMessageEnd", "machine_end_beep"), ("Enable", "machine_start")]
)
def test_machine_detection_tells_a_voicemail(
    server: TestServer, rest: TwilioRestEmulator, client: Client, mode: str, answered_by: str
) -> None:
    server.routes["/outbound/answer"] = twiml("<Say>Please call us back.</Say><Hangup/>")
    rest.set_callee(ANN, AgentBehaviour("machine"))
    sid = place(client, machine_detection=mode)
    result = rest.wait_for_call(sid, timeout=10)
    assert result.status == "completed" and result.heard_says == ["Please call us back."]
    (voice,) = server.hits_to("/outbound/answer")
    assert voice.valid and voice.form["AnsweredBy"] == answered_by
    (final,) = progress(server)
    assert final.form["AnsweredBy"] == answered_by
    assert client.calls(sid).fetch().answered_by == answered_by


def test_dial_legs_behave_per_number(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    server.routes["/outbound/answer"] = twiml(
        f'<Dial action="/outbound/dialled"><Number>{ALICE}</Number><Number>{BOB}</Number></Dial>'
    )
    server.routes["/outbound/dialled"] = twiml("<Hangup/>")
    rest.set_callee(ALICE, AgentBehaviour("busy"))
    rest.set_callee(BOB, AgentBehaviour("answered", ring_seconds=0.1, talk_seconds=0))
    result = rest.wait_for_call(place(client), timeout=10)
    assert [(d.number, d.outcome) for d in result.dials] == [(ALICE, "busy"), (BOB, "completed")]
    (action,) = server.hits_to("/outbound/dialled")
    assert action.form["DialCallStatus"] == "completed"
    assert action.form["DialCallSid"] == result.dials[1].call_sid


def test_inline_twiml_runs_without_a_fetch(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    sid = client.calls.create(
        to=ANN, from_=OURS, twiml="<Response><Say>Inline hello</Say></Response>"
    ).sid
    result = rest.wait_for_call(sid, timeout=10)
    assert result.ok and result.heard_says == ["Inline hello"]
    assert server.hits == []  # no URL, no status callback


def test_a_failing_webhook_is_an_application_error(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    result = rest.wait_for_call(place(client, url=PUBLIC + "/outbound/missing"), timeout=10)
    assert [e.code for e in result.errors] == [11200]
    assert [h.text for h in result.heard if h.kind == "twilio"] == [
        "We are sorry, an application error has occurred. Goodbye."
    ]


def test_canceling_a_ringing_call(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    rest.set_callee(ANN, AgentBehaviour("answered", ring_seconds=20))
    sid = place(client)
    deadline = time.monotonic() + 5
    while client.calls(sid).fetch().status != "ringing" and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    assert client.calls(sid).update(status="canceled").status == "canceled"
    assert time.monotonic() - started < 3
    assert rest.wait_for_call(sid, timeout=5).status == "canceled"
    (final,) = progress(server)
    assert final.form["CallStatus"] == "canceled"
    assert server.hits_to("/outbound/answer") == []


def test_completing_a_call_in_progress_hangs_it_up(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    server.routes["/outbound/answer"] = twiml('<Say>Hold on.</Say><Pause length="30"/>')
    sid = place(client)
    deadline = time.monotonic() + 5
    while not server.hits_to("/outbound/answer") and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert client.calls(sid).update(status="canceled").status == "in-progress"  # too late
    started = time.monotonic()
    assert client.calls(sid).update(status="completed").status == "completed"
    assert time.monotonic() - started < 3
    result = rest.wait_for_call(sid, timeout=5)
    assert result.status == "completed" and result.heard_says == ["Hold on."]
    (final,) = progress(server)
    assert final.form["CallStatus"] == "completed"


def test_the_callee_script_runs_on_a_media_stream(
    server: TestServer, rest: TwilioRestEmulator, client: Client
) -> None:
    server.routes["/outbound/answer"] = twiml(
        '<Connect><Stream url="wss://ivr.example.test/twilio/media"/></Connect>'
    )

    def handler(ws: Any, log: StreamLog) -> None:
        log.wait_for(ws, lambda m: m["event"] == "start")
        log.notes["digit"] = log.wait_for(ws, lambda m: m["event"] == "dtmf")["dtmf"]["digit"]
        log.wait_for(ws, lambda m: m["event"] == "stop")

    server.stream_handler = handler
    rest.set_callee(ANN, AgentBehaviour("answered"), script=[Press("7"), Hangup()])
    result = rest.wait_for_call(place(client), timeout=10)
    assert result.ok, result.errors
    (stream,) = server.streams
    assert stream.notes["digit"] == "7"
    assert [h.form["CallStatus"] for h in progress(server)] == ["completed"]
