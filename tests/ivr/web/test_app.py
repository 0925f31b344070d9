"""The web app on a real port: signatures (twilio-python's validator as the oracle), the
stream handshake, TwiML for every turn of events, health, and production start-up checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from xml.etree import ElementTree

import httpx
import pytest
from simple_websocket import Client  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator

from ivr.call.handover import Handover
from ivr.config import ROOT, ConfigurationError, check_config, load_config
from ivr.nlu.service import free_port
from ivr.web.health import is_ready
from tests.fixtures.live_server import AUTH_TOKEN, PUBLIC_URL, LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool

CALL = {
    "CallSid": "CA" + "a" * 32,
    "AccountSid": "AC" + "b" * 32,
    "From": "+447700900123",
    "To": "+442079460000",
    "CallStatus": "ringing",
    "Direction": "inbound",
    "ApiVersion": "2010-04-01",
}
ORACLE = RequestValidator(AUTH_TOKEN)


def post(
    server: LiveServer, path: str, params: dict[str, str], *, sign: bool = True
) -> httpx.Response:
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = ORACLE.compute_signature(PUBLIC_URL + path, params)
    return httpx.post(server.url + path, data=params, headers=headers, timeout=10)


def verbs(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return [element.tag for element in ElementTree.fromstring(response.text)]


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    # No English model can be installed here: scripted words stand in for it (none are heard
    # in these tests; what matters is that English callers can be heard at all).
    english = ScriptedRecognizerPool([])
    return live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=english)


def test_a_signed_call_gets_a_bidirectional_stream_with_an_action(server: LiveServer) -> None:
    response = post(server, "/twilio/voice", CALL)
    assert verbs(response) == ["Connect"]
    connect = ElementTree.fromstring(response.text)[0]
    assert connect.get("action") == f"{PUBLIC_URL}/twilio/connect-action"
    stream = connect[0]
    assert stream.tag == "Stream" and stream.get("url") == "wss://ivr.example.test/twilio/media"
    parameters = {p.get("name"): p.get("value") for p in stream}
    assert parameters == {"caller": CALL["From"], "called": CALL["To"], "language": "en"}
    record = server.services.store.get_call(CALL["CallSid"])  # type: ignore[union-attr]
    assert record is not None and record.caller == CALL["From"]


@pytest.mark.parametrize(
    "path", ["/twilio/voice", "/twilio/status", "/twilio/connect-action", "/twilio/dial-action",
             "/twilio/whisper?call=CA1", "/twilio/sms", "/twilio/callback/answer?callback=x",
             "/twilio/callback/greet?callback=x", "/twilio/callback/whisper?callback=x",
             "/twilio/callback/dial-action?callback=x", "/twilio/callback/status?callback=x"],
)  # fmt: skip
def test_every_twilio_route_refuses_unsigned_and_wrongly_signed_requests(
    server: LiveServer, path: str
) -> None:
    assert post(server, path, CALL, sign=False).status_code == 403
    forged = {**CALL, "From": "+15005550006"}
    headers = {"X-Twilio-Signature": ORACLE.compute_signature(PUBLIC_URL + path, CALL)}
    assert httpx.post(server.url + path, data=forged, headers=headers).status_code == 403
    http_signed = ORACLE.compute_signature(PUBLIC_URL.replace("https", "http") + path, CALL)
    response = httpx.post(server.url + path, data=CALL, headers={"X-Twilio-Signature": http_signed})
    assert response.status_code == 403
    assert post(server, path, CALL).status_code in (200, 204)


UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def test_the_stream_handshake_is_signed_over_the_wss_url(server: LiveServer) -> None:
    media = server.url + "/twilio/media"
    https_signed = ORACLE.compute_signature(f"{PUBLIC_URL}/twilio/media", {})
    for headers in ({}, {"X-Twilio-Signature": https_signed}):
        refused = httpx.get(media, headers={**UPGRADE, **headers})
        assert refused.status_code == 403
    good = ORACLE.compute_signature("wss://ivr.example.test/twilio/media", {})
    client = Client.connect(media.replace("http", "ws"), headers={"x-twilio-signature": good})
    client.close()


def test_health_is_not_ready_while_the_nlu_does_not_answer(server: LiveServer) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["ready"], body["flows"], body["nlu"], body["database"]) == (
        False, "ok", "not ready", "ok",
    )  # fmt: skip
    assert body["languages_heard"] == ["en"]
    assert body["languages_not_heard"] == ["cs", "lv", "pl"]


@pytest.mark.rasa
def test_health_is_ready_when_the_nlu_answers(
    live_server: Callable[..., LiveServer], nlu_server: object
) -> None:
    server = live_server(NLU_URL=nlu_server.url, NLU_TOKEN=nlu_server.token)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120  # ready means warm: the prompts are synthesised first
    while (response := httpx.get(server.url + "/healthz")).status_code != 200:
        warming = {response.json()[part] for part in ("prompts", "first_turn", "memory")}
        assert "warming" in warming and time.monotonic() < deadline
        time.sleep(0.1)
    body = response.json()
    assert body["ready"] is True and body["prompts"] == "ready" and body["nlu"] == "ok"
    assert body["memory"] == "ready"


@pytest.mark.parametrize(
    ("prompts", "speech", "memory", "ready"),
    [
        ("ready", "ready", "ready", True),
        ("ready", "missing", "ready", True),  # no speech model: the keypad and a person are ready
        ("warming", "ready", "ready", False),
        ("ready", "warming", "ready", False),
        ("ready", "ready", "warming", False),  # the first full collection would stall the calls
    ],
)
def test_ready_means_warm(prompts: str, speech: str, memory: str, ready: bool) -> None:
    checks = {"flows": "ok", "nlu": "ok", "prompts": prompts, "speech": speech, "memory": memory}
    assert is_ready({**checks, "first_turn": "ready"}) is ready
    assert not is_ready({**checks, "first_turn": "warming"})
    assert not is_ready({**checks, "first_turn": "ready", "nlu": "not ready"})


def test_no_speech_model_means_an_apology_and_a_person_without_a_stream(
    live_server: Callable[..., LiveServer], tmp_path: object
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", VOSK_MODEL=f"{tmp_path}/no-such-model"
    )
    response = post(server, "/twilio/voice", CALL)
    assert verbs(response) == ["Say", "Dial"]
    assert "technical problem" in response.text
    dial = ElementTree.fromstring(response.text)[1]
    assert dial.get("action") == f"{PUBLIC_URL}/twilio/dial-action?queue=general&tried=alice"
    assert dial[0].text == "+441632960001"  # alice, on shift for general (flows/people.yaml)
    assert dial[0].get("url") == f"{PUBLIC_URL}/twilio/whisper?call={CALL['CallSid']}&agent=alice"


def test_database_down_at_call_start_means_an_apology_and_a_person(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}",
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/test",
    )
    response = post(server, "/twilio/voice", CALL)
    assert verbs(response) == ["Say", "Dial"]
    health = httpx.get(server.url + "/healthz").json()
    assert health["database"].startswith("down")


def test_after_the_stream_a_transfer_rings_the_queue_with_a_whisper(server: LiveServer) -> None:
    handover = Handover(
        "transfer", "asked_for_person", "billing",
        context={"summary": "Caller wants billing; account_number=44128890."},
        language="en", caller="+447700900123",
    )  # fmt: skip
    server.services.board.put(CALL["CallSid"], handover)
    response = post(server, "/twilio/connect-action", CALL)
    assert verbs(response) == ["Dial"]
    dial = ElementTree.fromstring(response.text)[0]
    assert dial[0].text == "+441632960001"
    whisper = post(server, f"/twilio/whisper?call={CALL['CallSid']}", {**CALL, "CallSid": "CA2"})
    assert verbs(whisper) == ["Say"]
    assert "+ 4 4 7 7 0 0 9 0 0 1 2 3" in whisper.text and "account_number=44128890" in whisper.text


@pytest.mark.parametrize(("status", "expected"), [("completed", ["Hangup"]),
                                                  ("no-answer", ["Connect"]),
                                                  ("busy", ["Connect"])])  # fmt: skip
def test_a_transfer_nobody_answers_becomes_a_callback_booking(
    server: LiveServer, status: str, expected: list[str]
) -> None:
    post(server, "/twilio/voice", CALL)
    response = post(server, "/twilio/dial-action?queue=billing", {**CALL, "DialCallStatus": status})
    assert verbs(response) == expected
    record = server.services.store.get_call(CALL["CallSid"])  # type: ignore[union-attr]
    assert record is not None
    kinds = [e.kind for e in record.events]
    assert ("callback_offered" in kinds) == (status != "completed")
    if status != "completed":  # the bot books the time with the caller in a new stream
        parameters = {
            p.get("name"): p.get("value") for p in ElementTree.fromstring(response.text)[0][0]
        }
        assert parameters["offer_prompt"] == "no_agent" and parameters["offer_queue"] == "billing"


def test_when_our_voice_failed_out_of_hours_twilio_apologises_and_the_earliest_time_is_booked(
    live_server: Callable[..., LiveServer],
) -> None:
    closed = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # Monday 21:00 in London
    english = ScriptedRecognizerPool([])  # the bot took the call, then its voice failed
    server = live_server(
        clock=lambda: closed, NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=english
    )
    post(server, "/twilio/voice", CALL)
    server.services.board.put(
        CALL["CallSid"], Handover("transfer", "tts_failed", "billing", apologise=True)
    )
    response = post(server, "/twilio/connect-action", CALL)
    assert verbs(response) == ["Say", "Say", "Hangup"]
    assert "technical problem" in response.text
    waiting = server.services.desk.callbacks().pending_for_number(CALL["From"])
    assert [c.due_at for c in waiting] == [datetime(2026, 11, 24, 8, 0, tzinfo=UTC)]


def test_a_stream_that_ended_without_a_decision_still_reaches_a_person(server: LiveServer) -> None:
    response = post(server, "/twilio/connect-action", CALL)
    assert verbs(response) == ["Say", "Dial"]


def test_the_status_callback_ends_the_call_record(server: LiveServer) -> None:
    post(server, "/twilio/voice", CALL)
    response = post(server, "/twilio/status", {**CALL, "CallStatus": "completed",
                                               "CallDuration": "42"})  # fmt: skip
    assert response.status_code == 204
    record = server.services.store.get_call(CALL["CallSid"])  # type: ignore[union-attr]
    assert record is not None and record.status == "completed" and record.ended_at is not None


def test_production_refuses_to_start_without_the_public_url_and_token() -> None:
    config = load_config({"MODE": "production", "PUBLIC_URL": "", "TWILIO_AUTH_TOKEN": ""})
    with pytest.raises(ConfigurationError, match="IVR_PUBLIC_URL and TWILIO_AUTH_TOKEN"):
        check_config(config)
    with pytest.raises(ConfigurationError, match="must be https"):
        check_config({**config, "PUBLIC_URL": "http://x.example", "TWILIO_AUTH_TOKEN": "t"})
    good = {**config, "PUBLIC_URL": "https://x.example/", "TWILIO_AUTH_TOKEN": "t"}
    assert check_config(good) == ("https://x.example", "t")


def test_ivr_serve_in_production_without_a_token_exits_with_the_reason() -> None:
    env = {**os.environ, "IVR_MODE": "production", "IVR_PUBLIC_URL": "https://x.example"}
    env.pop("TWILIO_AUTH_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "ivr", "serve", "--port", str(free_port())],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "production mode needs TWILIO_AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
