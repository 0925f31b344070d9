"""Calls without a stream: signed webhooks, TwiML verbs, Dial outcomes, errors, status callback."""

from __future__ import annotations

import re

import pytest
from twilio_emulator import AgentBehaviour, TwilioEmulator

from tests.emulator.conftest import PUBLIC, TOKEN, TestServer, twiml

SID = re.compile(r"^CA[0-9a-f]{32}$")


def emulator(server: TestServer, token: str = TOKEN) -> TwilioEmulator:
    return TwilioEmulator(server.url, PUBLIC, token, say_words_per_second=0)


def test_voice_webhook_is_signed_with_the_standard_parameters(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml('<Say>Hello</Say><Pause length="0"/><Hangup/>')
    server.routes["/twilio/status"] = twiml("")
    result = emulator(server).call(caller="+447700900123", called="+442079460000")
    assert result.ok, result.errors
    (voice,) = server.hits_to("/twilio/voice")
    assert voice.valid and voice.method == "POST"
    assert SID.match(voice.form["CallSid"]) and voice.form["CallSid"] == result.call_sid
    assert re.match(r"^AC[0-9a-f]{32}$", voice.form["AccountSid"])
    assert voice.form == {
        "AccountSid": result.account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": result.call_sid,
        "CallStatus": "ringing",
        "Called": "+442079460000",
        "Caller": "+447700900123",
        "Direction": "inbound",
        "From": "+447700900123",
        "To": "+442079460000",
    }
    assert result.heard_says == ["Hello"]
    assert result.webhooks[0].url == f"{PUBLIC}/twilio/voice"
    assert result.webhooks[0].status_code == 200
    (status,) = server.hits_to("/twilio/status")
    assert status.valid
    assert status.form["CallStatus"] == "completed"
    assert status.form["CallbackSource"] == "call-progress-events"
    assert status.form["SequenceNumber"] == "0"
    assert status.form["CallDuration"] == "0"
    assert status.form["Duration"] == "0"
    assert re.match(
        r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$", status.form["Timestamp"]
    )
    assert result.status == "completed"


def test_end_of_document_hangs_up_and_say_takes_time_at_the_given_pace(
    server: TestServer,
) -> None:
    server.routes["/twilio/voice"] = twiml("<Say>one two three four five</Say>")
    server.routes["/twilio/status"] = twiml("")
    slow = TwilioEmulator(server.url, PUBLIC, TOKEN, say_words_per_second=10)
    result = slow.call()
    assert result.ok
    assert 0.45 <= result.duration < 1.5  # five words at ten a second


def test_redirect_relative_and_by_get_is_signed_over_the_query(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml('<Redirect method="GET">next?step=2</Redirect>')
    server.routes["/twilio/next"] = twiml("<Redirect>/twilio/last</Redirect>")
    server.routes["/twilio/last"] = twiml("<Say>done</Say>")
    server.routes["/twilio/status"] = twiml("")
    result = emulator(server).call()
    assert result.ok, result.errors
    (get,) = server.hits_to("/twilio/next")
    assert get.method == "GET" and get.valid and get.form == {}
    assert get.query["step"] == "2" and get.query["CallSid"] == result.call_sid
    assert get.query["CallStatus"] == "in-progress"
    (post,) = server.hits_to("/twilio/last")
    assert post.method == "POST" and post.valid
    assert result.heard_says == ["done"]


def test_http_redirect_is_followed_as_a_get_with_only_standard_parameters(
    server: TestServer,
) -> None:
    server.routes["/twilio/voice"] = twiml('<Dial action="/twilio/moved">+447700900999</Dial>')
    server.routes["/twilio/moved"] = lambda hit: ("", 302, "text/plain")
    server.routes["/twilio/new-home"] = twiml("<Say>moved</Say>")
    server.routes["/twilio/status"] = twiml("")
    server.app.after_request(_add_location)
    result = emulator(server).call(agent=AgentBehaviour(talk_seconds=0))
    assert result.ok, result.errors
    (moved,) = server.hits_to("/twilio/moved")
    assert moved.form["DialCallStatus"] == "completed"
    (home,) = server.hits_to("/twilio/new-home")
    assert home.method == "GET" and home.valid
    assert "DialCallStatus" not in home.query and home.query["CallSid"] == result.call_sid
    assert result.heard_says == ["moved"]


def _add_location(response):  # type: ignore[no-untyped-def]
    if response.status_code == 302:
        response.headers["Location"] = "/twilio/new-home"
    return response


def test_wrong_token_gets_403_and_the_call_ends_with_an_application_error(
    server: TestServer,
) -> None:
    server.routes["/twilio/voice"] = twiml("<Say>never</Say>")
    server.routes["/twilio/status"] = twiml("")
    result = emulator(server, token="wrong").call()
    assert not result.ok
    (error,) = result.errors
    assert (error.kind, error.code) == ("webhook", 11200)
    assert "HTTP 403" in error.message
    assert result.heard[0].kind == "twilio" and "application error" in result.heard[0].text
    assert result.status == "completed"
    assert [hit.valid for hit in server.hits] == [False, False]  # voice, status callback


@pytest.mark.parametrize(
    ("route", "code", "fragment"),
    [
        (("boom", 500, "text/plain"), 11200, "HTTP 500"),
        (("<Response><Say>x</Response>", 200, "text/xml"), 12100, "malformed XML"),
        (("<Response><Dance/></Response>", 200, "application/xml"), 12100, "<Dance>"),
        (('{"say": "hi"}', 200, "application/json"), 12300, "application/json"),
    ],
)
def test_failures_twilio_would_log(
    server: TestServer, route: tuple[str, int, str], code: int, fragment: str
) -> None:
    server.routes["/twilio/voice"] = lambda hit: route
    result = emulator(server).call(status_callback_path=None)
    assert [e.code for e in result.errors] == [code]
    assert fragment in result.errors[0].message
    assert result.webhooks[0].error is result.errors[0]
    assert "application error" in result.heard[-1].text


def test_connection_refused_is_11205() -> None:
    with TestServer() as gone:
        url = gone.url
    result = TwilioEmulator(url, PUBLIC, TOKEN, say_words_per_second=0).call(
        status_callback_path=None
    )
    assert [e.code for e in result.errors] == [11205]


def test_plain_text_that_is_not_twiml_is_read_out(server: TestServer) -> None:
    server.routes["/twilio/voice"] = lambda hit: ("Sorry, we are closed.", 200, "text/plain")
    result = emulator(server).call(status_callback_path=None)
    assert result.ok and result.heard_says == ["Sorry, we are closed."]


def test_reject_as_first_verb_leaves_the_call_unanswered(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml('<Reject reason="busy"/><Say>unreachable</Say>')
    server.routes["/twilio/status"] = twiml("")
    result = emulator(server).call()
    assert result.status == "busy" and result.heard == []
    (status,) = server.hits_to("/twilio/status")
    assert status.form["CallStatus"] == "busy" and "Duration" not in status.form


def test_unsupported_verb_is_recorded_without_a_twilio_code(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml("<Gather/>")
    result = emulator(server).call(status_callback_path=None)
    assert [(e.kind, e.code) for e in result.errors] == [("unsupported", None)]


DIAL = (
    '<Dial action="/twilio/dial-done" callerId="+442079460000" timeout="20">'
    '<Number url="/twilio/whisper" statusCallback="/twilio/leg"'
    ' statusCallbackEvent="initiated ringing answered completed">+447700900999</Number>'
    "</Dial><Say>not reached: the action decides</Say>"
)


@pytest.mark.parametrize("answer", ["answered", "no-answer", "busy", "failed"])
def test_dial_action_gets_the_outcome_of_each_agent_behaviour(
    server: TestServer, answer: str
) -> None:
    server.routes["/twilio/voice"] = twiml(DIAL)
    server.routes["/twilio/whisper"] = twiml("<Say>Caller about billing</Say>")
    server.routes["/twilio/dial-done"] = lambda hit: twiml(
        f"<Say>{hit.form['DialCallStatus']}</Say>"
    )
    server.routes["/twilio/leg"] = twiml("")
    server.routes["/twilio/status"] = twiml("")
    result = emulator(server).call(agent=AgentBehaviour(answer, talk_seconds=0.2))
    assert result.ok, result.errors
    expected = {"answered": "completed"}.get(answer, answer)
    (done,) = server.hits_to("/twilio/dial-done")
    assert done.valid
    (attempt,) = result.dials
    assert done.form["DialCallStatus"] == expected == attempt.outcome
    assert done.form["DialCallSid"] == attempt.call_sid != result.call_sid
    assert done.form["CallSid"] == result.call_sid
    assert done.form["DialBridged"] == ("true" if answer == "answered" else "false")
    assert ("DialCallDuration" in done.form) == (answer == "answered")
    assert result.heard_says == [expected]
    whispers = server.hits_to("/twilio/whisper")
    # Twilio may deliver these out of order: SequenceNumber gives the order.
    leg_hits = sorted(server.hits_to("/twilio/leg"), key=lambda h: int(h.form["SequenceNumber"]))
    legs = [hit.form["CallStatus"] for hit in leg_hits]
    if answer == "answered":
        (whisper,) = whispers
        assert whisper.valid
        assert whisper.form["Direction"] == "outbound-dial"
        assert whisper.form["ParentCallSid"] == result.call_sid
        assert whisper.form["CallSid"] == attempt.call_sid
        assert (whisper.form["From"], whisper.form["To"]) == ("+442079460000", "+447700900999")
        assert attempt.whisper == ["Caller about billing"] and attempt.bridged
        assert attempt.ended_at is not None and attempt.answered_at is not None
        assert attempt.ended_at - attempt.answered_at >= 0.2
        assert legs == ["initiated", "ringing", "in-progress", "completed"]
    else:
        assert whispers == [] and attempt.whisper == []
        ringing = ["ringing"] if answer == "no-answer" else []
        assert legs == ["initiated", *ringing, answer]
    assert all(hit.valid for hit in server.hits)


def test_whisper_that_hangs_up_leaves_the_legs_unbridged(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml(DIAL)
    server.routes["/twilio/whisper"] = twiml("<Say>Press nothing</Say><Hangup/>")
    server.routes["/twilio/dial-done"] = twiml("<Hangup/>")
    server.routes["/twilio/leg"] = twiml("")
    result = emulator(server).call(status_callback_path=None)
    (done,) = server.hits_to("/twilio/dial-done")
    assert (done.form["DialCallStatus"], done.form["DialBridged"]) == ("completed", "false")
    assert result.dials[0].whisper == ["Press nothing"]


def test_dial_without_action_continues_with_the_next_verb(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml(
        "<Dial><Number>+447700900999</Number><Number>+447700900888</Number></Dial>"
        "<Say>after the dial</Say>"
    )
    result = emulator(server).call(
        status_callback_path=None, agent=AgentBehaviour("answered", talk_seconds=0)
    )
    assert result.ok
    assert [(d.number, d.outcome) for d in result.dials] == [
        ("+447700900999", "completed"),
        ("+447700900888", "canceled"),
    ]
    assert result.heard_says == ["after the dial"]


def test_max_seconds_hangs_up_during_a_pause(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml('<Pause length="30"/><Say>too late</Say>')
    result = emulator(server).call(status_callback_path=None, max_seconds=0.3)
    assert result.heard == [] and result.status == "completed"
    assert 0.25 <= result.duration < 1.5


def test_hits_are_recorded_in_order(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml("<Redirect>/twilio/a</Redirect>")
    server.routes["/twilio/a"] = twiml("")
    emulator(server).call(status_callback_path=None)
    assert [h.path for h in server.hits] == ["/twilio/voice", "/twilio/a"]
