"""TwilioDialer (the official twilio client) against the REST emulator on a real port."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from twilio_emulator import AgentBehaviour, TwilioRestEmulator

from ivr.twilio.dialer import DialerError, OutboundCall, TwilioDialer

OURS = "+442079460000"
ANN = "+447700900001"
BOB = "+447700900002"
ANSWER = "https://ivr.example.test/twilio/callback/answer?id=cb1"
STATUS = "https://ivr.example.test/twilio/callback/status?id=cb1"


@pytest.fixture
def rest() -> Iterator[TwilioRestEmulator]:
    with TwilioRestEmulator() as running:
        yield running


@pytest.fixture
def dialer(rest: TwilioRestEmulator) -> TwilioDialer:
    return TwilioDialer(rest.account_sid, rest.auth_token, rest.url, timeout=5)


def test_place_call_sends_what_the_call_asks_for(
    rest: TwilioRestEmulator, dialer: TwilioDialer
) -> None:
    sid = dialer.place_call(
        OutboundCall(ANN, OURS, ANSWER, status_callback=STATUS, machine_detection=True, timeout=25)
    )
    (request,) = rest.requests_to("Calls.json", "POST")
    assert request.get("To") == ANN and request.get("From") == OURS
    assert request.get("Url") == ANSWER and request.get("Method") == "POST"
    assert request.get("StatusCallback") == STATUS
    assert request.get("StatusCallbackMethod") == "POST"
    assert request.params.getlist("StatusCallbackEvent") == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]
    assert request.get("MachineDetection") == "DetectMessageEnd"
    assert request.get("Timeout") == "25"
    assert rest.call(sid).to == ANN


def test_a_plain_call_sends_no_callback_or_detection(
    rest: TwilioRestEmulator, dialer: TwilioDialer
) -> None:
    dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    (request,) = rest.requests_to("Calls.json", "POST")
    assert request.params.names() == {"To", "From", "Url", "Method", "Timeout"}


def test_find_calls_matches_the_number_and_the_creation_time(
    rest: TwilioRestEmulator, dialer: TwilioDialer
) -> None:
    first = dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    created = rest.call(first).date_created
    dialer.place_call(OutboundCall(BOB, OURS, ANSWER))
    second = dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    # Twilio's dates are whole seconds: a moment later in the same second still finds it.
    same_second = created.replace(microsecond=999_999)
    assert set(dialer.find_calls(ANN, same_second)) >= {first}
    assert dialer.find_calls(ANN, created - timedelta(minutes=1)) == [second, first]
    assert dialer.find_calls(ANN, created + timedelta(minutes=1)) == []
    assert dialer.find_calls("+447700900003", created) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        dialer.find_calls(ANN, datetime.now())  # naive: the mistake under test


def test_find_calls_sees_a_call_still_queued(rest: TwilioRestEmulator) -> None:
    """A queued call has no start time yet; find_calls must still see it (crash recovery)."""
    rest.set_callee(ANN, AgentBehaviour("no-answer"))
    dialer = TwilioDialer(rest.account_sid, rest.auth_token, rest.url)
    sid = dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    with rest._lock:  # put it back in the queue, as Twilio holds calls beyond the account's CPS
        record = rest._calls[sid]
        record.status, record.start_time = "queued", None
    assert dialer.find_calls(ANN, record.date_created) == [sid]


def test_find_calls_leaves_out_dial_legs(rest: TwilioRestEmulator, dialer: TwilioDialer) -> None:
    """A transfer's ``<Dial>`` leg to the same agent is Twilio's child call, not one we placed.

    Twilio lists child calls with their ``parent_call_sid``; the emulator does not list the
    legs its ``<Dial>`` rings, so one is put in its table as Twilio would show it.
    """
    ours = dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    with rest._lock:
        parent = rest._calls[ours]
        leg = dataclasses.replace(
            parent, sid="CA" + "d" * 32, direction="outbound-dial", parent_call_sid="CA" + "e" * 32
        )
        rest._calls[leg.sid] = leg
    assert {c.sid for c in rest.calls} == {ours, leg.sid}
    assert dialer.find_calls(ANN, parent.date_created) == [ours]


def test_send_sms_from_a_number_or_a_messaging_service(
    rest: TwilioRestEmulator, dialer: TwilioDialer
) -> None:
    sid = dialer.send_sms(ANN, OURS, "We will call you back today at 3 pm.")
    via_service = dialer.send_sms(BOB, "MG" + "0" * 32, "Hi")
    first, second = rest.messages
    assert (first.sid, first.to, first.from_, first.body) == (
        sid,
        ANN,
        OURS,
        "We will call you back today at 3 pm.",
    )
    assert second.sid == via_service and second.messaging_service_sid == "MG" + "0" * 32


def test_a_refused_request_is_not_retryable(dialer: TwilioDialer) -> None:
    with pytest.raises(DialerError) as raised:
        dialer.place_call(OutboundCall("07700900001", OURS, ANSWER))
    error = raised.value
    assert (error.status, error.code) == (400, 21211)
    assert not error.retryable and not error.unknown_outcome
    assert "Invalid 'To' Phone Number" in error.message
    with pytest.raises(DialerError) as raised:
        dialer.send_sms(ANN, OURS, "")
    assert raised.value.code == 21602 and not raised.value.retryable


def test_bad_credentials_are_not_retryable(rest: TwilioRestEmulator) -> None:
    dialer = TwilioDialer(rest.account_sid, "wrong-token", rest.url)
    with pytest.raises(DialerError) as raised:
        dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (401, 20003, False)
    with pytest.raises(DialerError) as raised:  # a list page fails differently in the client
        dialer.find_calls(ANN, datetime.now().astimezone())
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (401, 20003, False)


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (429, 20429)])
def test_server_errors_and_rate_limits_are_retryable(
    rest: TwilioRestEmulator, dialer: TwilioDialer, status: int, code: int
) -> None:
    rest.fail_next(1, status=status, code=code)
    with pytest.raises(DialerError) as raised:
        dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (status, code, True)
    assert raised.value.unknown_outcome == (status >= 500)
    rest.fail_next(1, status=status, code=code)
    with pytest.raises(DialerError) as raised:
        dialer.find_calls(ANN, datetime.now().astimezone())
    assert (raised.value.code, raised.value.retryable) == (code, True)
    assert dialer.place_call(OutboundCall(ANN, OURS, ANSWER))  # then it works again


def test_a_dropped_answer_is_retryable_with_an_unknown_outcome(
    rest: TwilioRestEmulator, dialer: TwilioDialer
) -> None:
    since = datetime.now().astimezone()
    rest.drop_next(1)
    with pytest.raises(DialerError) as raised:
        dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    assert raised.value.retryable and raised.value.unknown_outcome
    assert raised.value.status is None and raised.value.code is None
    (placed,) = rest.calls  # it was placed: find it instead of dialling again
    assert dialer.find_calls(ANN, since) == [placed.sid]


def test_nothing_listening_is_retryable_and_surely_not_placed() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialer = TwilioDialer("AC" + "0" * 32, "token", f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(DialerError) as raised:
        dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    assert raised.value.retryable and not raised.value.unknown_outcome


def test_no_answer_in_time_is_an_unknown_outcome() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        dialer = TwilioDialer("AC" + "0" * 32, "token", f"http://127.0.0.1:{port}", timeout=0.3)
        with pytest.raises(DialerError) as raised:
            dialer.place_call(OutboundCall(ANN, OURS, ANSWER))
    assert raised.value.retryable and raised.value.unknown_outcome


def test_region_settings_do_not_redirect_the_emulator_url(
    rest: TwilioRestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    dialer = TwilioDialer(rest.account_sid, rest.auth_token, rest.url + "/")
    assert dialer.place_call(OutboundCall(ANN, OURS, ANSWER)).startswith("CA")
    assert len(rest.requests) == 1


def test_credentials_are_required_and_never_shown() -> None:
    with pytest.raises(ValueError, match="account SID and auth token"):
        TwilioDialer("", "token")
    assert "secret-token" not in repr(TwilioDialer("AC" + "0" * 32, "secret-token"))
