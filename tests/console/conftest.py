"""The console on a real server (the web app, on a port) with three accounts, and logging in
through the real log-in form in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from ivr.console.passwords import hash_password
from ivr.nlu.service import free_port
from ivr.store import AccountStore
from tests.fixtures.live_server import LiveServer

PASSWORD = "a long enough password"
#: The demo line's people (flows/people.yaml): alice and bob are agents there.
ACCOUNTS = {"alice": "agent", "bob": "agent", "sam": "supervisor"}


@dataclass
class Console:
    """A running server with accounts; ``url`` is the console's address."""

    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url + "/console"

    def accounts(self) -> AccountStore:
        store = self.server.services.store
        assert store is not None
        return AccountStore(store)


def add_accounts(server: LiveServer) -> None:
    store = server.services.store
    assert store is not None
    accounts = AccountStore(store)
    for name, role in ACCOUNTS.items():
        if accounts.get(name) is None:
            accounts.add(name, role, hash_password(PASSWORD), datetime.now(UTC))


@pytest.fixture
def console(live_server: Callable[..., LiveServer]) -> Console:
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}")
    add_accounts(server)
    return Console(server)


def log_in(page: Page, console: Console, name: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto(console.url + "/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Live calls")).to_be_visible()


def session_client(console: Console, name: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client logged in through the form (CSRF token and all)."""
    client = httpx.Client(base_url=console.server.url, timeout=10)
    form = client.get("/console/login")
    token = csrf_token(form.text)
    done = client.post(
        "/console/login", data={"csrf_token": token, "name": name, "password": password}
    )
    assert done.status_code == 302, done.text
    return client


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert found is not None, "no CSRF token on the page"
    return found.group(1)
