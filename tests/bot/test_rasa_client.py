from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.nlu.rasa import RasaNLU, result_from_rasa
from bot.nlu.result import FALLBACK_INTENT, NLUUnavailable

Respond = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def fake_server() -> Iterator[Callable[[Respond], str]]:
    """Start a real local HTTP server answering with ``respond``; yields its URL maker."""
    servers: list[ThreadingHTTPServer] = []
    threads: list[threading.Thread] = []

    def start(respond: Respond) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                respond(self)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join()


def reply(status: int, body: bytes, delay: float = 0.0) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up first: exactly what the slow test wants

    return respond


RASA_BODY = {
    "text": "my bill",
    "intent": {"name": "billing_question", "confidence": 0.9},
    "entities": [
        {"entity": "account_number", "value": "12345678", "start": 3, "end": 11,
         "confidence_entity": 0.8}
    ],
    "intent_ranking": [
        {"name": "billing_question", "confidence": 0.9},
        {"name": "report_outage", "confidence": 0.1},
    ],
}  # fmt: skip


def test_parse_translates_a_rasa_answer(fake_server: Callable[[Respond], str]) -> None:
    url = fake_server(reply(200, json.dumps(RASA_BODY).encode()))
    with RasaNLU(url, "secret") as nlu:
        result = nlu.parse("my bill")
    assert result.intent == "billing_question"
    assert result.confidence == 0.9
    assert [s.name for s in result.ranking] == ["billing_question", "report_outage"]
    assert result.entities[0].name == "account_number"
    assert result.entities[0].value == "12345678"
    assert result.fallback is False
    assert result.latency_ms is not None and result.latency_ms > 0


def test_fallback_on_top_sets_the_flag_and_keeps_the_best_real_intent() -> None:
    body = {
        "intent": {"name": FALLBACK_INTENT, "confidence": 0.6},
        "intent_ranking": [
            {"name": FALLBACK_INTENT, "confidence": 0.6},
            {"name": "goodbye", "confidence": 0.4},
            {"name": "report_outage", "confidence": 0.35},
        ],
        "entities": [],
    }
    result = result_from_rasa("hmm", body, 1.0)
    assert result.fallback is True
    assert result.intent == "goodbye"
    assert result.confidence == 0.4
    assert FALLBACK_INTENT not in [s.name for s in result.ranking]
    assert result.margin == pytest.approx(0.05)


def test_a_model_without_intents_gives_no_intent() -> None:
    result = result_from_rasa("x", {"intent": None, "entities": [], "intent_ranking": []}, 1.0)
    assert result.intent is None and result.confidence == 0.0


@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        (reply(500, b'{"status": "failure"}'), "HTTP 500"),
        (reply(401, b'{"status": "failure"}'), "HTTP 401"),
        (reply(200, b"<html>not json"), "not JSON"),
        (reply(200, b"[1, 2]"), "not a JSON object"),
        (reply(200, b'{"intent_ranking": [{"confidence": 1}]}'), "unexpected parse response"),
        (reply(200, json.dumps(RASA_BODY).encode(), delay=1.5), "timed out"),
    ],
    ids=["500", "401", "html", "list", "malformed", "slow"],
)
def test_failures_become_nlu_unavailable(
    fake_server: Callable[[Respond], str], respond: Respond, reason: str
) -> None:
    url = fake_server(respond)
    with RasaNLU(url, "secret", timeout=0.5) as nlu:
        started = time.monotonic()
        with pytest.raises(NLUUnavailable, match=reason):
            nlu.parse("hello")
        assert time.monotonic() - started < 1.4
        assert nlu.is_ready() is False


def test_a_closed_port_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RasaNLU(f"http://127.0.0.1:{port}", timeout=0.5) as nlu:
        with pytest.raises(NLUUnavailable, match="ConnectError"):
            nlu.parse("hello")
        assert nlu.is_ready() is False


# --- the real Rasa server -------------------------------------------------------------------


@pytest.mark.rasa
def test_real_rasa_understands_the_flows(rasa_nlu: RasaNLU) -> None:
    result = rasa_nlu.parse("my broadband is down again")
    assert result.intent == "report_outage"
    assert result.confidence > 0.5
    assert all(s.name != FALLBACK_INTENT for s in result.ranking)
    assert rasa_nlu.is_ready()
    assert rasa_nlu.status()["model_file"].endswith(".tar.gz")


@pytest.mark.rasa
def test_real_rasa_finds_an_account_number(rasa_nlu: RasaNLU) -> None:
    result = rasa_nlu.parse("there is a charge on my account 12345678 I don't recognise")
    assert result.intent == "billing_question"
    assert ("account_number", "12345678") in [(e.name, e.value) for e in result.entities]


@pytest.mark.rasa
def test_real_rasa_rejects_a_wrong_token(rasa_nlu: RasaNLU) -> None:
    with (
        RasaNLU(rasa_nlu.url, "wrong", timeout=5.0) as nlu,
        pytest.raises(NLUUnavailable, match="HTTP 401"),
    ):
        nlu.parse("hello")
