"""Who may open what: sessions, roles, CSRF, throttled log-ins, cookie flags, and the walls
between the console, Twilio's routes and the JSON API, on the real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect
from twilio.request_validator import RequestValidator

from ivr.config import DEVELOPMENT_API_TOKEN
from ivr.console.passwords import hash_password
from ivr.nlu.service import free_port
from ivr.store import AgentStates, Presence
from tests.console.conftest import PASSWORD, Console, csrf_token, log_in, session_client
from tests.fixtures.live_server import AUTH_TOKEN, PUBLIC_URL, LiveServer

PAGES = ["/console/", "/console/callbacks", "/console/dashboard", "/console/wall",
         "/console/calls/CA0", "/console/events/live"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_a_request_with_no_session_is_sent_to_log_in(console: Console, path: str) -> None:
    response = httpx.get(console.server.url + path)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/console/login?next=")


def test_neither_a_twilio_signature_nor_the_api_token_opens_the_console(console: Console) -> None:
    url = console.server.url + "/console/"
    signed = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/console/", {})
    for headers in ({"X-Twilio-Signature": signed},
                    {"Authorization": f"Bearer {DEVELOPMENT_API_TOKEN}"}):  # fmt: skip
        assert httpx.get(url, headers=headers).status_code == 302


def test_a_console_session_opens_neither_twilio_routes_nor_the_api(console: Console) -> None:
    client = session_client(console, "sam")
    assert client.get("/console/").status_code == 200
    assert client.post("/twilio/voice", data={"CallSid": "CA1"}).status_code == 403
    assert client.get("/api/callbacks").status_code == 401


def test_an_agent_is_refused_supervisor_pages(console: Console) -> None:
    agent, supervisor = session_client(console, "alice"), session_client(console, "sam")
    for path in ("/console/dashboard", "/console/wall"):
        refused = agent.get(path)
        assert refused.status_code == 403 and "for supervisors" in refused.text
        assert supervisor.get(path).status_code == 200


def test_a_form_without_the_csrf_token_is_refused(console: Console) -> None:
    client = session_client(console, "alice")
    page = client.get("/console/")
    refused = client.post("/console/presence", data={"presence": "away"})
    assert refused.status_code == 400 and "CSRF" in refused.text
    accepted = client.post(
        "/console/presence", data={"presence": "away", "csrf_token": csrf_token(page.text)}
    )
    assert accepted.status_code == 302
    store = console.server.services.store
    assert store is not None and AgentStates(store).presence()["alice"] is Presence.AWAY


def test_failed_log_ins_are_throttled_per_account_then_per_address(console: Console) -> None:
    def attempt(name: str, password: str) -> int:
        client = httpx.Client(base_url=console.server.url)  # a fresh form each time
        data = {"csrf_token": csrf_token(client.get("/console/login").text)}
        data |= {"name": name, "password": password}
        return client.post("/console/login", data=data).status_code

    assert [attempt("alice", "wrong guess!") for _ in range(5)] == [401] * 5
    assert attempt("alice", PASSWORD) == 429  # locked: even the right password is not tried
    assert attempt("bob", PASSWORD) == 302  # another account is not
    for number in range(15):
        attempt(f"nobody{number}", "wrong guess!")
    assert attempt("sam", PASSWORD) == 429  # twenty failures from this address


def test_session_cookies_are_http_only_and_lax_and_secure_outside_development(
    console: Console, live_server: Callable[..., LiveServer]
) -> None:
    client = session_client(console, "alice")
    cookie = next(c for c in client.cookies.jar if c.name == "ivr_console")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
    raw = client.get("/console/login").headers.get("set-cookie", "")
    production = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", MODE="production", API_TOKEN="t"
    )
    response = httpx.get(production.url + "/console/login")
    header = response.headers["set-cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert raw == "" or "Secure" not in raw


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(console: Console) -> None:
    alice, bob = session_client(console, "alice"), session_client(console, "bob")
    accounts = console.accounts()
    accounts.set_disabled("alice", True, datetime.now(UTC))
    accounts.set_password("bob", hash_password("another long password"), datetime.now(UTC))
    assert alice.get("/console/").status_code == 302
    assert bob.get("/console/").status_code == 302


def test_agents_and_supervisors_log_in_and_out_in_the_browser(page: Page, console: Console) -> None:
    log_in(page, console, "alice")
    expect(page.get_by_role("heading", name="Your presence")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    store = console.server.services.store
    assert store is not None and AgentStates(store).presence()["alice"] is Presence.OFFLINE
    log_in(page, console, "sam")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Your presence")).to_have_count(0)


def test_a_wrong_password_says_so_without_saying_which_part(page: Page, console: Console) -> None:
    page.goto(console.url + "/login")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")  # the form works from the keyboard
    expect(page.get_by_role("alert")).to_have_text(
        "That name and password do not match an account."
    )
