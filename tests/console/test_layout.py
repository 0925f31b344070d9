"""The console's pages at the sizes people use them (1280x800, a tablet upright, a wall screen)
and by keyboard alone, over the seeded calls of the dashboard's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ivr.nlu.service import free_port
from tests.console.conftest import PASSWORD, Console, add_accounts, log_in
from tests.fixtures.browser import new_context, save_screenshots
from tests.fixtures.live_server import LiveServer
from tests.fixtures.seed_calls import NOW, plan
from tests.fixtures.seed_store import write

PAGES = ["/", "/callbacks", "/dashboard?range=30d", "/wall"]
SIZES = {"laptop": (1280, 800), "tablet": (768, 1024), "wall": (1920, 1080)}


@pytest.fixture(scope="module")
def seeded(live_server_module: Callable[..., LiveServer]) -> Iterator[Console]:
    server = live_server_module(clock=lambda: NOW, NLU_URL=f"http://127.0.0.1:{free_port()}")
    assert server.services.store is not None
    write(plan(), server.services.store)
    add_accounts(server)
    yield Console(server)


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


@pytest.mark.parametrize("size", SIZES)
def test_no_page_scrolls_sideways(browser: Browser, seeded: Console, size: str) -> None:
    width, height = SIZES[size]
    context = new_context(browser, width, height)
    try:
        page = context.new_page()
        log_in(page, seeded, "sam")
        misread = page.context.request.get(f"{seeded.url}/dashboard?range=30d").text()
        call_link = misread.split('href="/console/calls/', 1)[1].split('"', 1)[0]
        for path in [*PAGES, f"/calls/{call_link}"]:
            page.goto(seeded.url + path)
            expect(page.locator("h1")).to_be_visible()
            assert overflow(page) <= 0, f"{path} at {width}x{height}"
            assert page.locator("h1").bounding_box()["width"] <= width  # type: ignore[index]  # visible, so boxed
    finally:
        save_screenshots(context, f"layout-{size}")
        context.close()


def test_an_agent_logs_in_and_sets_presence_by_keyboard_alone(page: Page, seeded: Console) -> None:
    page.goto(seeded.url + "/login")
    expect(page.get_by_label("Name")).to_be_focused()  # the form is ready to type into
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Live calls")).to_be_visible()

    away = page.get_by_role("button", name="Away")
    for _ in range(12):  # the skip link and the menu come first
        page.keyboard.press("Tab")
        if away.evaluate("button => button === document.activeElement"):
            break
    expect(away).to_be_focused()
    focus_ring = away.evaluate("button => getComputedStyle(button).outlineStyle")
    assert focus_ring != "none"  # a person on a keyboard sees where they are
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Away")).to_have_attribute("aria-pressed", "true")
