"""The browser phone in Debian's Chromium, with a fake microphone that speaks a WAV file.

Chromium's fake capture device plays ``--use-file-for-fake-audio-capture`` in a loop, as if a
caller said it into the microphone; the page turns it into Media Streams frames like any
microphone. One browser per WAV file (the flag is per process).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from tests.fixtures.browser import CHROMIUM, QUIET, new_context, save_screenshots
from tests.fixtures.ko_line import KO_PHRASES, PHONE_RATE
from tests.fixtures.live_server import LiveServer

FAKE_MICROPHONE = [
    "--use-fake-ui-for-media-stream",  # the microphone is allowed without asking
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def caller_wav(text: str, out: Path, before: float, after: float) -> Path:
    """``text`` said by espeak-ng's Korean voice as a phone would carry it (8 kHz), with
    ``before`` and ``after`` seconds of silence around it: the fake microphone's loop."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    pad = ["pad", str(before), str(after)]
    subprocess.run(
        ["sox", str(raw), "-r", str(PHONE_RATE), "-c", "1", "-b", "16", str(out), *pad],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def talking_browser(
    playwright_driver: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """Chromium whose microphone says "인터넷이 안 돼요" (my internet is down) 0.8 s after the
    call starts, over the greeting, then keeps quiet for 20 s."""
    wav = caller_wav(KO_PHRASES["outage"], tmp_path_factory.mktemp("mic") / "outage.wav", 0.8, 20)
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*QUIET, *FAKE_MICROPHONE, f"--use-file-for-fake-audio-capture={wav}"],
    )
    yield browser
    browser.close()


@pytest.fixture
def phone_context(
    talking_browser: Browser, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A fresh profile in the talking browser; screenshots saved when the test ends."""
    context = new_context(talking_browser)
    yield context
    save_screenshots(context, request.node.name)
    context.close()


def open_phone(context: BrowserContext, server: LiveServer, *, text_only: bool) -> Page:
    """The browser phone of ``server``, ready to call."""
    page = context.new_page()
    page.goto(f"{server.url}/simulator")
    if text_only:
        page.check("#text-only")
    else:  # the fake microphone hears no speakers: echo cancellation would only alter it
        page.check("#headphones")
    return page


def place_call(page: Page) -> str:
    """Press Call; the call's id once the line has answered."""
    page.click("#call")
    expect(page.locator("body")).to_have_attribute("data-streams", "1", timeout=20_000)
    call_id = page.locator("body").get_attribute("data-call-id")
    assert call_id and call_id.startswith("CA")
    return call_id


def counter(page: Page, name: str) -> int:
    """One of the page's counters (``data-audio-chunks``, ``data-clears``, ...)."""
    return int(page.locator("body").get_attribute(f"data-{name}") or 0)


def wait_for(page: Page, condition: Callable[[], bool], seconds: float = 20) -> None:
    """Poll ``condition`` while the page runs."""
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page never got there")


def shown(page: Page, selector: str) -> str:
    """The text of every element ``selector`` matches, one per line."""
    return "\n".join(page.locator(selector).all_inner_texts())


def wait_until_shown(page: Page, selector: str, text: str, seconds: float = 30) -> None:
    """Poll until an element ``selector`` matches shows ``text``.

    Used instead of Playwright's ``expect`` while the call's audio must keep flowing: in
    headless Chromium, a page with no microphone stopped rendering audio (the line's clock)
    for as long as an ``expect`` was polling it, and went on the moment it stopped.
    """
    try:
        wait_for(page, lambda: text in shown(page, selector), seconds)
    except AssertionError:
        message = f"{text!r} never showed in {selector}: {shown(page, selector)!r}"
        raise AssertionError(message) from None
