"""Requests a real server must refuse without harm: huge bodies (413 before reading them) and a
stream message that names another stream (logged and ignored; the call goes on)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from simple_websocket import Client  # type: ignore[import-untyped]  # no type hints upstream
from twilio.request_validator import RequestValidator

from ivr.nlu.service import free_port
from ivr.store import Store
from tests.fixtures.live_server import AUTH_TOKEN, LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from tests.fixtures.socket_client import hang_up
from tests.fixtures.waiting import wait_for
from tests.ivr.web.test_app import CALL, post

ORACLE = RequestValidator(AUTH_TOKEN)
LIMIT = 4096
#: No English Vosk model can be installed here: scripted words stand in for one (these tests
#: need English callers to reach the bot, not what they say).
ENGLISH = ScriptedRecognizerPool([])


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=ENGLISH, MAX_REQUEST_BYTES=LIMIT
    )


def raw_post(server: LiveServer, path: str, declared: int, sent: bytes) -> tuple[str, float]:
    """POST declaring ``declared`` bytes but sending only ``sent``; the status line, seconds."""
    host, port = server.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        conn.sendall(head.encode() + sent)
        answer = conn.recv(4096).decode("latin-1")
    return answer.split("\r\n", 1)[0], time.monotonic() - started


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/sms", "/api/callbacks", "/healthz"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(server: LiveServer, path: str) -> None:
    # 300 MB announced, 1 KB sent: an answer that waited for the body would never come.
    status, seconds = raw_post(server, path, 300_000_000, b"x" * 1024)
    assert status.split()[1] == "413", status
    assert seconds < 5  # it did not wait for 300 MB that never come


def test_a_body_within_the_limit_still_reaches_the_route(server: LiveServer) -> None:
    assert post(server, "/twilio/voice", CALL).status_code == 200
    unsigned = httpx.post(server.url + "/twilio/voice", data=CALL, timeout=10)
    assert unsigned.status_code == 403  # checked by the signature, not refused for size


def test_a_chunked_body_over_the_limit_is_refused(server: LiveServer) -> None:
    def chunks() -> object:
        for _ in range(64):
            yield b"Body=" + b"x" * 1024

    response = httpx.post(
        server.url + "/api/callbacks",
        content=chunks(),  # type: ignore[arg-type]  # httpx takes an iterator of bytes
        headers={"Authorization": "Bearer ivr-development-api-token"},
        timeout=10,
    )
    assert response.status_code == 413


def start_message(stream_sid: str, call_id: str) -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": stream_sid,
            "start": {
                "streamSid": stream_sid,
                "accountSid": "AC" + "b" * 32,
                "callSid": call_id,
                "tracks": ["inbound"],
                "customParameters": {"caller": CALL["From"], "called": CALL["To"]},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }
    )


def stop_message(stream_sid: str, sequence: str) -> str:
    stop = {"accountSid": "AC" + "b" * 32, "callSid": CALL["CallSid"]}
    return json.dumps(
        {"event": "stop", "sequenceNumber": sequence, "streamSid": stream_sid, "stop": stop}
    )


def test_a_stop_for_another_stream_does_not_end_the_call(server: LiveServer) -> None:
    post(server, "/twilio/voice", CALL)
    ours, other = "MZ" + "1" * 32, "MZ" + "2" * 32
    url = server.url.replace("http", "ws") + "/twilio/media"
    signature = ORACLE.compute_signature("wss://ivr.example.test/twilio/media", {})
    client = Client.connect(url, headers={"x-twilio-signature": signature})
    try:
        client.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        client.send(start_message(ours, CALL["CallSid"]))
        greeting = client.receive(timeout=30)  # the bot greets: the call is up
        assert json.loads(greeting)["streamSid"] == ours
        client.send(stop_message(other, "2"))
        client.send(json.dumps({"event": "mark", "sequenceNumber": "3", "streamSid": other,
                                "mark": {"name": "anything"}}))  # fmt: skip
        # The call goes on: the bot keeps talking on our stream, and nothing recorded an end.
        assert json.loads(client.receive(timeout=30))["streamSid"] == ours
        store = server.services.store
        assert store is not None
        record = store.get_call(CALL["CallSid"])
        assert record is not None and not hung_up(store, CALL["CallSid"])
        client.send(stop_message(ours, "4"))
    finally:
        hang_up(client)
    wait_for("the hang-up on our own stream's stop", lambda: hung_up(store, CALL["CallSid"]))


def hung_up(store: Store, call_id: str) -> bool:
    record = store.get_call(call_id)
    return record is not None and "caller_hung_up" in [event.kind for event in record.events]
