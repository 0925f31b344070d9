"""Who may open the browser phone and its socket: stream passes, the production gate, the JSON
API's refusals, and a pass that names one call but starts another, on the real server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from simple_websocket import ConnectionClosed  # type: ignore[import-untyped]  # no hints
from twilio_emulator import stream_messages
from twilio_emulator.stream_client import HandshakeFailed, StreamClient

from ivr.config import ConfigurationError, load_config, simulator_on
from ivr.nlu.service import free_port
from ivr.parts import build_parts
from ivr.stream_tokens import PASS_PARAMETER, PASS_SECONDS, StreamPasses
from ivr.web import create_app
from tests.console.conftest import PASSWORD, add_accounts, csrf_token
from tests.fixtures.live_server import AUTH_TOKEN, PUBLIC_URL, LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool

#: The secret the live servers sign sessions (and so stream passes) with.
SECRET = "test-console-secret-not-for-production"
CALL_A = "CA" + "a" * 32
CALL_B = "CA" + "b" * 32
ACCOUNT = "AC" + "c" * 32
STREAM = "MZ" + "1" * 32
PARAMETERS = {"caller": "+447700900123", "called": "+442079460000"}
REFUSED = "the server answered HTTP 403"


def start(live_server: Callable[..., LiveServer], **overrides: Any) -> LiveServer:
    """A server with no NLU behind it (nothing listens at the port: no Rasa is started)."""
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", **overrides)


def socket(server: LiveServer, token: str | None) -> StreamClient:
    """The Media Streams socket, opened with ``token`` as its pass (none if ``None``)."""
    url = server.url.replace("http", "ws", 1) + "/twilio/media"
    if token is not None:
        url += f"?{PASS_PARAMETER}={token}"
    return StreamClient(url, headers=[], timeout=5)


def refused(server: LiveServer, token: str | None) -> str:
    """The handshake's failure with ``token``; fails the test if the socket opened."""
    with pytest.raises(HandshakeFailed) as failure:
        socket(server, token).shut()
    return str(failure.value)


class _IssuedLongAgo(TimestampSigner):
    """Stamps what it signs as issued well over a pass's lifetime ago."""

    def get_timestamp(self) -> int:
        return int(time.time()) - PASS_SECONDS - 30


def expired_pass(call_id: str) -> str:
    """A pass for ``call_id`` signed with the servers' secret, issued too long ago to open."""
    signer = URLSafeTimedSerializer(SECRET, salt="ivr.stream-pass", signer=_IssuedLongAgo)
    token = signer.dumps({"call": call_id, "nonce": "issued-long-ago"})
    # Its age is its only fault: back then, a fresh set of passes (nothing used) admitted it.
    back_then = time.time() - PASS_SECONDS - 29
    assert StreamPasses(SECRET).admit(token, now=back_then) == call_id
    return token


def production_log_in(server: LiveServer, name: str) -> httpx.Client:
    """A client logged in to a production server's console through the form.

    Production's cookies are ``Secure``, which httpx keeps off plain http; the server here
    has no TLS, so the client sends them back anyway (after every answer: each may set one).
    """
    client = httpx.Client(base_url=server.url, timeout=10)

    def send_secure_cookies_over_http(_: httpx.Response) -> None:
        for cookie in client.cookies.jar:
            cookie.secure = False

    client.event_hooks = {"response": [send_secure_cookies_over_http]}
    form = client.get("/console/login")
    data = {"csrf_token": csrf_token(form.text), "name": name, "password": PASSWORD}
    done = client.post("/console/login", data=data)
    assert done.status_code == 302, done.text
    return client


# 1. The passes themselves.


def test_a_pass_admits_its_own_call_once_and_nothing_else_admits_at_all() -> None:
    passes = StreamPasses(SECRET)
    token = passes.issue(CALL_A)
    assert passes.admit(token) == CALL_A
    assert passes.admit(token) is None  # used once

    other = passes.issue(CALL_B)
    value, signature = token.rsplit(".", 1)
    at = len(value) // 2
    flipped = value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1 :]
    assert passes.admit(f"{flipped}.{signature}") is None
    spliced = other.rsplit(".", 1)[0] + "." + signature  # B's claims under A's signature
    assert passes.admit(spliced) is None
    assert passes.admit(StreamPasses("another secret").issue(CALL_A)) is None
    assert passes.admit("") is None
    assert passes.admit(None) is None
    assert passes.admit("not.a.pass") is None
    assert passes.admit(other) == CALL_B  # refusing the forgeries used nothing up


def test_a_pass_opens_only_within_its_lifetime() -> None:
    passes = StreamPasses(SECRET)
    token = passes.issue(CALL_A)
    assert passes.admit(token, now=time.time() + PASS_SECONDS + 5) is None  # expired
    assert passes.admit(token, now=time.time() - 5) is None  # not issued yet
    assert passes.admit(token) == CALL_A  # the refusals were for its age alone


# 2. The socket on a development server.


def test_the_socket_opens_to_a_valid_pass_only_once_and_never_to_none_or_an_expired_one(
    live_server: Callable[..., LiveServer],
) -> None:
    server = start(live_server)
    assert refused(server, None) == REFUSED  # neither a pass nor a signature
    assert refused(server, expired_pass(CALL_A)) == REFUSED
    assert refused(server, StreamPasses("another secret").issue(CALL_A)) == REFUSED

    token = StreamPasses(SECRET).issue(CALL_A)  # the server's secret: as if it issued it
    socket(server, token).shut()  # 101: the handshake was accepted
    assert refused(server, token) == REFUSED  # a pass is used once


# 3. Production: off unless an admin turns it on, and then only for supervisors.


def test_in_production_the_phone_is_off_by_default_and_a_pass_opens_nothing(
    live_server: Callable[..., LiveServer],
) -> None:
    server = start(live_server, MODE="production", API_TOKEN="t")
    assert httpx.get(server.url + "/simulator").status_code == 404
    assert httpx.get(server.url + "/simulator/status").status_code == 404
    assert refused(server, StreamPasses(SECRET).issue(CALL_A)) == REFUSED
    log_in_form = httpx.get(server.url + "/console/login")  # the log-in stays the console's
    assert "Path=/console" in log_in_form.headers["set-cookie"]


def test_in_production_a_phone_turned_on_needs_a_supervisors_log_in(
    live_server: Callable[..., LiveServer],
) -> None:
    server = start(live_server, MODE="production", API_TOKEN="t", SIMULATOR="on")
    add_accounts(server)

    anonymous = httpx.get(server.url + "/simulator")
    assert anonymous.status_code == 403
    assert "supervisor" in anonymous.json()["error"]
    placed = httpx.post(server.url + "/simulator/calls", json={"caller": "+447700900123"})
    assert placed.status_code == 403  # no call is placed without a log-in either

    supervisor = production_log_in(server, "sam")
    session = next(cookie for cookie in supervisor.cookies.jar if cookie.name == "ivr_console")
    assert session.path == "/"  # the log-in reaches /simulator, not only /console
    page = supervisor.get("/simulator")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert supervisor.get("/simulator/status").status_code == 200

    agent = production_log_in(server, "alice")
    assert agent.get("/console/").status_code == 200  # a real log-in ...
    refused_agent = agent.get("/simulator")  # ... but not a supervisor's
    assert refused_agent.status_code == 403 and "supervisor" in refused_agent.json()["error"]
    assert agent.get("/console/").status_code == 200  # still logged in: refused for the role


def test_simulator_setting_is_checked() -> None:
    production = {"MODE": "production", "SECRET_KEY": "k"}
    development = {"MODE": "development", "SECRET_KEY": ""}
    assert simulator_on({**development, "SIMULATOR": "auto"}) is True
    assert simulator_on({**development, "SIMULATOR": "off"}) is False
    assert simulator_on({**production, "SIMULATOR": "auto"}) is False
    assert simulator_on({**production, "SIMULATOR": "On"}) is True
    with pytest.raises(ConfigurationError, match="IVR_SECRET_KEY"):
        simulator_on({**production, "SECRET_KEY": "", "SIMULATOR": "on"})
    with pytest.raises(ConfigurationError, match="auto, on or off"):
        simulator_on({**development, "SIMULATOR": "maybe"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"MODE": "production", "SIMULATOR": "on", "SECRET_KEY": ""}, "IVR_SECRET_KEY"),
        ({"SIMULATOR": "maybe"}, "auto, on or off"),
    ],
)
def test_the_app_refuses_to_start_with_a_phone_it_cannot_guard(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    config = load_config(
        {
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path}/calls.db",
            "SPOOL_DIR": str(tmp_path / "spool"),
            "NLU_URL": f"http://127.0.0.1:{free_port()}",
            "ASR_WARM_RECOGNIZERS": 0,
            "SECRET_KEY": SECRET,
            **overrides,
        }
    )
    parts = build_parts(config)
    try:
        with pytest.raises(ConfigurationError, match=message):
            create_app(config, parts)
    finally:
        parts.close()


# 4. The JSON API's refusals (development: no log-in needed).


@pytest.fixture
def phone(live_server: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    server = start(live_server)
    with httpx.Client(base_url=server.url + "/simulator", timeout=10) as client:
        yield client


GOOD_CALL = {"caller": "+447700900123", "agents": "answered", "clock_offset_hours": 0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caller": "12ab"}, "caller"),
        ({"called": "not a number"}, "called"),
        ({"clock_offset_hours": "soon"}, "clock offset"),
        ({"clock_offset_hours": 1e9}, "clock offset"),
        ({"clock_offset_hours": "nan"}, "clock offset"),
        ({"agents": "sleepy"}, "agents"),
    ],
)
def test_placing_a_call_with_a_bad_field_is_400_naming_it(
    phone: httpx.Client, change: dict[str, Any], field: str
) -> None:
    response = phone.post("/calls", json={**GOOD_CALL, **change})
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]


def test_only_json_from_this_origin_changes_anything(phone: httpx.Client) -> None:
    form = phone.post("/calls", data={"caller": "+447700900123"})
    assert form.status_code == 415 and "JSON" in form.json()["error"]
    elsewhere = phone.post("/calls", json=GOOD_CALL, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and "evil.example" in elsewhere.json()["error"]
    not_an_object = phone.post("/calls", json=["+447700900123"])
    assert not_an_object.status_code == 400


def test_unknown_calls_are_refused(phone: httpx.Client) -> None:
    typed = phone.post("/calls/CAnope/typed", json={"text": "hello"})
    assert typed.status_code == 409 and "stream" in typed.json()["error"]
    assert phone.get("/calls/CAnope/events").status_code == 404
    assert phone.post("/calls/CAnope/hangup", json={}).status_code == 404
    assert phone.post("/calls/CAnope/stream-ended", json={}).status_code == 404
    assert phone.post("/calls/CAnope/typed", json={"text": ""}).status_code == 400


def test_status_says_what_the_page_shows(phone: httpx.Client) -> None:
    response = phone.get("/status")
    assert response.status_code == 200
    status = response.json()
    assert {"flow", "refused", "nlu", "speech"} <= status.keys()
    assert status["refused"] == [] and isinstance(status["flow"], str) and status["flow"]
    assert response.headers["Cache-Control"] == "no-store"


# 5. A pass is bound to its call.


def test_a_pass_for_one_call_cannot_start_another(live_server: Callable[..., LiveServer]) -> None:
    # Scripted words stand in for an English model (none can be installed here): the bot greets.
    server = start(live_server, recognizers=ScriptedRecognizerPool([]))
    passes = StreamPasses(SECRET)

    client = socket(server, passes.issue(CALL_A))
    try:
        client.send(stream_messages.connected())
        client.send(stream_messages.start(1, STREAM, ACCOUNT, CALL_B, PARAMETERS))
        with pytest.raises(ConnectionClosed):  # closed by the server, not a timeout's None
            client.receive(timeout=5)
    finally:
        client.shut()
    store = server.services.store
    assert store is not None and store.get_call(CALL_B) is None
    assert server.services.calls.find(CALL_B) is None

    # The same start naming the pass's own call is served: the bot greets on the stream.
    client = socket(server, passes.issue(CALL_B))
    try:
        client.send(stream_messages.connected())
        client.send(stream_messages.start(1, STREAM, ACCOUNT, CALL_B, PARAMETERS))
        greeting = client.receive(timeout=30)
        assert greeting is not None
        assert stream_messages.parse_server_message(greeting, STREAM) is not None
        client.send(stream_messages.stop(2, STREAM, ACCOUNT, CALL_B))
    finally:
        client.shut()
