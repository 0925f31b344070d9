"""What a careless or hostile request gets from the console, on the real server: a callback
claimed by one agent is not another's to cancel or move, unknown things are 404, bad numbers
and dates are 400, log-in guesses sent in parallel still meet the limit, the address behind a
proxy is the one counted, a log-in lasts its hours however busy, and a reconnecting call page
carries on where it was."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from ivr.callbacks.policy import RULES
from ivr.nlu.service import free_port
from ivr.store import CallbackStatus, CallbackStore, TurnRecord
from tests.console.conftest import PASSWORD, Console, add_accounts, csrf_token, session_client
from tests.console.test_agent_pages import book, store_of
from tests.fixtures.live_server import OPEN, LiveServer


def post(client: httpx.Client, path: str, **form: str) -> httpx.Response:
    """A console form posted with the page's CSRF token."""
    token = csrf_token(client.get("/console/callbacks").text)
    return client.post(path, data={"csrf_token": token, **form})


def test_an_agent_cannot_cancel_or_move_a_callback_another_agent_claimed(console: Console) -> None:
    booked = book(console)
    alice, bob, sam = (session_client(console, name) for name in ("alice", "bob", "sam"))
    assert post(alice, f"/console/callbacks/{booked}/claim").status_code == 303
    assert "Cancel" not in bob.get("/console/callbacks").text  # no buttons for what is refused

    for action, form in (("cancel", {}), ("move", {"when": "tomorrow at 10am"})):
        refused = post(bob, f"/console/callbacks/{booked}/{action}", **form)
        assert refused.status_code == 303
        assert "alice has claimed it" in bob.get("/console/callbacks").text
    still = CallbackStore(store_of(console), RULES).get(booked)
    assert still is not None
    assert (still.claimed_by, still.due_at) == ("alice", OPEN)

    assert post(sam, f"/console/callbacks/{booked}/cancel").status_code == 303  # a supervisor may
    cancelled = CallbackStore(store_of(console), RULES).get(booked)
    assert cancelled is not None and cancelled.status == CallbackStatus.CANCELLED


@pytest.mark.parametrize("action", ["claim", "complete", "unclaim", "cancel", "move"])
def test_an_unknown_callback_is_404(console: Console, action: str) -> None:
    client = session_client(console, "alice")
    answer = post(client, f"/console/callbacks/no-such-callback/{action}", when="tomorrow 10am")
    assert answer.status_code == 404 and "no-such-callback" in answer.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=custom&from=2024-01-01&to=9999-12-31", "at most 366 days"),
        ("range=custom&from=9999-12-31&to=9999-12-31", "dates"),
        ("range=custom&from=yesterday&to=2026-03-01", "dates"),
        ("range=custom&from=2026-02-30&to=2026-03-01", "dates"),
        ("range=custom&from=2026-03-02&to=2026-03-01", "before the first"),
        ("range=fortnight", "range must be one of"),
        ("range=7d&queue=nope", "unknown queue"),
    ],
)
def test_bad_dashboard_ranges_are_400_with_the_reason(
    console: Console, query: str, message: str
) -> None:
    client = session_client(console, "sam")
    for path in ("/console/dashboard", "/console/dashboard.csv"):
        answer = client.get(f"{path}?{query}&table=summary")
        assert answer.status_code == 400, (path, answer.status_code)
        assert message in answer.text


def test_a_call_page_stream_refuses_bad_numbers_and_unknown_calls(console: Console) -> None:
    client = session_client(console, "alice")
    assert client.get("/console/events/calls/CA-nope").status_code == 404
    store = store_of(console)
    store.call_started("CA-live", caller="+447700900123", called="+442079460000", started_at=OPEN)
    assert client.get("/console/events/calls/CA-live?after=abc").status_code == 400
    answer = client.get("/console/events/calls/CA-live", headers={"Last-Event-ID": "x"})
    assert answer.status_code == 400


def test_a_reconnecting_call_page_carries_on_from_its_last_turn(console: Console) -> None:
    store = store_of(console)
    store.call_started("CA-live", caller="+447700900123", called="+442079460000", started_at=OPEN)
    for index, words in enumerate(["first words", "second words", "third words"]):
        store.add_turn("CA-live", TurnRecord(index, OPEN, "main_menu", "speech", words))
    client = session_client(console, "alice")
    with client.stream(
        "GET", "/console/events/calls/CA-live?after=-1", headers={"Last-Event-ID": "1"}
    ) as events:
        first = next(events.iter_text())  # the stream's first batch: what the page lacks
    assert "id: 2\nevent: turn" in first and "third words" in first
    assert "first words" not in first and "second words" not in first


def test_log_in_guesses_sent_at_once_still_meet_the_limit(console: Console) -> None:
    forms = []
    for _ in range(12):
        client = httpx.Client(base_url=console.server.url, timeout=30)
        forms.append((client, csrf_token(client.get("/console/login").text)))
    answers: list[int] = []
    start = threading.Barrier(len(forms))

    def guess(client: httpx.Client, token: str) -> None:
        start.wait()
        data = {"csrf_token": token, "name": "alice", "password": "wrong guess!"}
        answers.append(client.post("/console/login", data=data).status_code)

    threads = [threading.Thread(target=guess, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 12
    assert answers.count(401) <= 5 and answers.count(401) + answers.count(429) == 12


def failures_from(server: LiveServer, address: str, count: int) -> list[int]:
    answers = []
    for number in range(count):
        client = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address})
        data = {"csrf_token": csrf_token(client.get("/console/login").text)}
        data |= {"name": f"nobody{number}", "password": "wrong guess!"}
        answers.append(client.post("/console/login", data=data).status_code)
    return answers


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_proxy_the_callers_address_is_the_one_counted(
    live_server: Callable[..., LiveServer], hops: int
) -> None:
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", PROXY_HOPS=hops)
    add_accounts(server)
    assert failures_from(server, "203.0.113.1", 21)[-1] == 429
    client = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": "203.0.113.2"})
    data = {"csrf_token": csrf_token(client.get("/console/login").text)}
    answer = client.post("/console/login", data=data | {"name": "sam", "password": PASSWORD})
    # Behind one proxy, another caller logs in; counted by the proxy's address, all are locked.
    assert answer.status_code == (302 if hops else 429)


def test_a_log_in_lasts_its_hours_however_busy_the_agent(console: Console) -> None:
    client = session_client(console, "alice")
    client.get("/console/callbacks")  # its first form puts the CSRF token in the session
    for _ in range(3):
        answer = client.get("/console/callbacks")
        assert answer.status_code == 200
        assert "ivr_console" not in answer.headers.get("set-cookie", "")  # not extended
