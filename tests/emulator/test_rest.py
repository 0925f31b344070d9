"""The REST emulator answers the official twilio client: resources, filters, paging, errors,
faults, recording and concurrency. No web target here: calls end at once (test_outbound.py
places them for real)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twilio_emulator import AgentBehaviour, TwilioRestEmulator

OURS = "+442079460000"
ANN = "+447700900001"
BOB = "+447700900002"
ANSWER_URL = "https://ivr.example.test/twilio/callback/answer"
RFC2822 = re.compile(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$")


@pytest.fixture
def rest() -> Iterator[TwilioRestEmulator]:
    with TwilioRestEmulator() as running:
        yield running


def client_for(rest: TwilioRestEmulator, token: str | None = None) -> Client:
    client = Client(rest.account_sid, token or rest.auth_token)
    client.api.base_url = rest.url  # the one change: where the API lives
    return client


@pytest.fixture
def client(rest: TwilioRestEmulator) -> Client:
    return client_for(rest)


def place(client: Client, to: str = ANN, **options: object) -> str:
    sid: str = client.calls.create(to=to, from_=OURS, url=ANSWER_URL, **options).sid
    return sid


# --- Calls ------------------------------------------------------------------------------------


def test_create_call_answers_a_queued_call_resource(rest: TwilioRestEmulator) -> None:
    response = requests.post(
        f"{rest.url}/2010-04-01/Accounts/{rest.account_sid}/Calls.json",
        data=[
            ("To", ANN),
            ("From", OURS),
            ("Url", ANSWER_URL),
            ("StatusCallback", "https://ivr.example.test/twilio/callback/status"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "answered"),
        ],
        auth=(rest.account_sid, rest.auth_token),
        timeout=5,
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    call = response.json()
    assert re.fullmatch(r"CA[0-9a-f]{32}", call["sid"])
    assert call["status"] == "queued" and call["direction"] == "outbound-api"
    assert (call["to"], call["from"], call["account_sid"]) == (ANN, OURS, rest.account_sid)
    assert call["uri"] == f"/2010-04-01/Accounts/{rest.account_sid}/Calls/{call['sid']}.json"
    assert RFC2822.match(call["date_created"]) and call["start_time"] is None
    assert call["api_version"] == "2010-04-01" and call["answered_by"] is None
    assert rest.call(call["sid"]).status_callback_event == ("initiated", "answered")


def test_the_official_client_creates_and_fetches_calls(
    rest: TwilioRestEmulator, client: Client
) -> None:
    created = client.calls.create(to=ANN, from_=OURS, url=ANSWER_URL, timeout=20)
    assert created.status == "queued" and created.direction == "outbound-api"
    assert isinstance(created.date_created, datetime)
    fetched = client.calls(created.sid).fetch()
    assert fetched.sid == created.sid
    assert fetched.status == "completed"  # no web target: over at once
    assert fetched.start_time is not None and fetched.end_time is not None
    assert fetched.duration == "0"
    assert rest.call(created.sid).timeout == 20


def test_callee_behaviour_without_a_web_target(rest: TwilioRestEmulator, client: Client) -> None:
    rest.set_callee(BOB, AgentBehaviour("busy"))
    rest.set_callee("+447700900003", AgentBehaviour("no-answer"))
    rest.set_callee("+447700900004", AgentBehaviour("machine"))
    assert client.calls(place(client, BOB)).fetch().status == "busy"
    assert client.calls(place(client, "+447700900003")).fetch().status == "no-answer"
    machine = place(client, "+447700900004", machine_detection="DetectMessageEnd")
    assert client.calls(machine).fetch().answered_by == "machine_end_beep"
    human = place(client, ANN, machine_detection="Enable")
    assert client.calls(human).fetch().answered_by == "human"
    assert client.calls(place(client, ANN)).fetch().answered_by is None
    assert rest.wait_for_call(machine, timeout=1).status == "completed"


def test_list_filters_calls_by_to_from_status_and_start_time(
    rest: TwilioRestEmulator, client: Client
) -> None:
    rest.set_callee(BOB, AgentBehaviour("busy"))
    first, second, to_bob = place(client, ANN), place(client, ANN), place(client, BOB)
    other_from = client.calls.create(to=ANN, from_="+442079460001", url=ANSWER_URL).sid
    assert [c.sid for c in client.calls.list(to=ANN)] == [other_from, second, first]  # newest first
    assert [c.sid for c in client.calls.list(from_="+442079460001")] == [other_from]
    assert [c.sid for c in client.calls.list(status="busy")] == [to_bob]
    today = datetime.now(UTC).date()
    assert len(client.calls.list(start_time=today)) == 4
    assert len(client.calls.list(start_time_after=datetime.now(UTC) + timedelta(hours=1))) == 0
    assert len(client.calls.list(start_time_after=datetime.now(UTC) - timedelta(hours=1))) == 4
    assert len(client.calls.list(start_time_before=today - timedelta(days=1))) == 0
    (listed,) = rest.requests_to("Calls.json", "GET")[-1:]
    assert listed.get("StartTime<") == f"{today - timedelta(days=1)}T00:00:00Z"  # as sent


def test_list_pages_through_every_call(rest: TwilioRestEmulator, client: Client) -> None:
    sids = [place(client) for _ in range(5)]
    listed = client.calls.list(page_size=2)
    assert [c.sid for c in listed] == sids[::-1]
    pages = [r.get("Page") for r in rest.requests_to("Calls.json", "GET")]
    assert pages == [None, "1", "2"]  # the client followed next_page_uri
    query: dict[str, str | int] = {"To": ANN, "PageSize": 2, "Page": 2}
    page = requests.get(
        f"{rest.url}/2010-04-01/Accounts/{rest.account_sid}/Calls.json",
        params=query,
        auth=(rest.account_sid, rest.auth_token),
        timeout=5,
    ).json()
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (2, 2, 4, 4)
    assert page["next_page_uri"] is None
    assert (
        "To=%2B447700900001" in page["previous_page_uri"] and "Page=1" in page["previous_page_uri"]
    )
    assert [c["sid"] for c in page["calls"]] == [sids[0]]


def test_update_of_an_ended_call_changes_nothing(client: Client) -> None:
    sid = place(client)
    assert client.calls(sid).update(status="canceled").status == "completed"


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        ({"to": "", "from_": OURS, "url": ANSWER_URL}, 21201, "No 'To' number is specified"),
        ({"to": ANN, "from_": "", "url": ANSWER_URL}, 21213, "No 'From' number is specified"),
        ({"to": "07700900001", "from_": OURS, "url": ANSWER_URL}, 21211, "Invalid 'To'"),
        ({"to": ANN, "from_": "ivr", "url": ANSWER_URL}, 21212, "Invalid 'From'"),
        ({"to": ANN, "from_": OURS}, 21205, "'Url' or 'Twiml'"),
        ({"to": ANN, "from_": OURS, "url": "/twilio/answer"}, 21205, "not a valid URL"),
        (
            {"to": ANN, "from_": OURS, "url": ANSWER_URL, "machine_detection": "Yes"},
            21200,
            "MachineDetection",
        ),
    ],
)
def test_invalid_calls_are_refused_with_twilio_codes(
    rest: TwilioRestEmulator, client: Client, options: dict[str, str], code: int, message: str
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(**options)
    assert raised.value.status == 400 and raised.value.code == code
    assert message in raised.value.msg
    assert rest.calls == []


def test_sip_and_client_addresses_can_be_called(client: Client) -> None:
    assert place(client, "sip:alice@pbx.example.com").startswith("CA")
    assert place(client, "client:alice").startswith("CA")


# --- Messages ---------------------------------------------------------------------------------


def test_messages_are_created_and_listed(rest: TwilioRestEmulator, client: Client) -> None:
    message = client.messages.create(to=ANN, from_=OURS, body="We will call you at 3 pm.")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.direction, message.body) == (
        "queued",
        "outbound-api",
        "We will call you at 3 pm.",
    )
    via_service = client.messages.create(to=BOB, messaging_service_sid="MG" + "0" * 32, body="Hi")
    assert via_service.status == "accepted" and via_service.from_ is None
    assert [m.sid for m in client.messages.list()] == [via_service.sid, message.sid]
    (to_ann,) = client.messages.list(to=ANN)
    assert to_ann.status == "sent" and to_ann.date_sent is not None
    assert client.messages.list(from_=OURS)[0].sid == message.sid
    assert [m.body for m in rest.messages] == ["We will call you at 3 pm.", "Hi"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"to": "", "from_": OURS, "body": "x"}, 21604),
        ({"to": ANN, "body": "x"}, 21603),
        ({"to": ANN, "from_": OURS}, 21602),
        ({"to": ANN, "from_": OURS, "body": "x" * 1601}, 21617),
        ({"to": "0770", "from_": OURS, "body": "x"}, 21211),
        ({"to": ANN, "from_": "not a number!", "body": "x"}, 21212),
    ],
)
def test_invalid_messages_are_refused(client: Client, options: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(**options)
    assert (raised.value.status, raised.value.code) == (400, code)


# --- Auth and not found -----------------------------------------------------------------------


def test_a_wrong_token_gets_401_20003(rest: TwilioRestEmulator) -> None:
    with pytest.raises(TwilioRestException) as raised:
        place(client_for(rest, token="wrong"))
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert "Authenticate" in raised.value.msg
    assert rest.calls == [] and rest.requests[-1].status == 401


def test_unknown_resources_get_404_20404(rest: TwilioRestEmulator, client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls("CA" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)
    assert "was not found" in raised.value.msg
    other_account = Client(rest.account_sid, rest.auth_token, account_sid="AC" + "1" * 32)
    other_account.api.base_url = rest.url
    with pytest.raises(TwilioRestException) as raised:
        place(other_account)
    assert raised.value.status == 404
    with pytest.raises(TwilioException):  # a list page that failed
        client_for(rest, token="wrong").calls.list()


# --- Recording, faults, concurrency -----------------------------------------------------------


def test_every_request_is_recorded_with_its_arrival_time(
    rest: TwilioRestEmulator, client: Client
) -> None:
    before = time.time()
    sid = place(client, status_callback_event=["initiated", "completed"])
    after = time.time()
    (request,) = rest.requests
    assert request.method == "POST" and request.path.endswith("/Calls.json")
    assert before <= request.at <= after
    assert request.params.getlist("StatusCallbackEvent") == ["initiated", "completed"]
    assert request.status == 201 and request.fault is None
    client.calls(sid).fetch()
    assert [r.method for r in rest.requests] == ["POST", "GET"]


def test_fail_next_answers_errors_without_processing(
    rest: TwilioRestEmulator, client: Client
) -> None:
    rest.fail_next(2, status=503, code=20503)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            place(client)
        assert (raised.value.status, raised.value.code) == (503, 20503)
    assert rest.calls == []
    assert place(client)  # the third goes through
    rest.fail_next(1, method="POST")
    assert client.calls.list()  # a GET is not affected
    with pytest.raises(TwilioRestException):
        place(client)
    assert [r.fault for r in rest.requests] == ["fail", "fail", None, None, "fail"]


def test_drop_next_creates_the_call_but_never_answers(
    rest: TwilioRestEmulator, client: Client
) -> None:
    rest.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        place(client)
    (call,) = rest.calls  # Twilio acted on it; the client just never heard
    (request,) = rest.requests
    assert request.fault == "drop" and request.status is None
    assert [c.sid for c in client.calls.list(to=ANN)] == [call.sid]


def test_many_clients_at_once(rest: TwilioRestEmulator) -> None:
    sids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        client = client_for(rest)
        try:
            for _ in range(15):
                sid = place(client)
                with lock:
                    sids.append(sid)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(sids)) == len(sids) == 120
    assert len(rest.requests_to("Calls.json", "POST")) == 120
    assert {c.sid for c in rest.calls} == set(sids)
