"""Editing the flow while the line runs, seen from the browser phone and the console.

A prompt edit is what the next call hears; an edit that does not pass the check is refused
with its ``file:line`` on a banner (the phone's page and the console), and the last good flow
keeps answering until the edit is fixed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page

from ivr.nlu.service import free_port
from tests.browser_phone.conftest import counter, open_phone, place_call, wait_for
from tests.console.conftest import Console, add_accounts, session_client
from tests.fixtures.browser import SCREENSHOTS
from tests.fixtures.ko_line import KO_LINE
from tests.fixtures.live_server import LiveServer

GREETING = "안녕하세요, 무엇을 도와드릴까요?"
EDITED = "반갑습니다, 새 인사말입니다. 무엇을 도와드릴까요?"


def first_words(page: Page) -> str:
    """A whole call from the browser phone (typing, no microphone): the bot's first line."""
    place_call(page)
    first = page.locator("#transcript .entry.bot .text").first
    first.wait_for()
    wait_for(page, lambda: counter(page, "audio-chunks") > 0)  # it was spoken, not only shown
    said = first.inner_text()
    page.click("#hangup")
    wait_for(page, lambda: page.locator("body").get_attribute("data-ended") is not None)
    return said


def test_a_prompt_edit_is_heard_on_the_next_call_and_a_broken_edit_is_refused_on_a_banner(
    live_server: Callable[..., LiveServer], page: Page, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(KO_LINE, flows)
    main = flows / "main.yaml"
    server = live_server(FLOWS=str(flows), NLU_URL=f"http://127.0.0.1:{free_port()}")
    assert server.services.prompts_ready.wait(60)
    phone = open_phone(page.context, server, text_only=True)
    assert first_words(phone) == GREETING

    main.write_text(main.read_text().replace(GREETING, EDITED))
    wait_for(phone, lambda: server.services.flow.prompts["greeting"].text["ko"] == EDITED)
    assert first_words(phone) == EDITED

    # A route to a step that does not exist: refused, with where it is.
    good = main.read_text()
    main.write_text(good.replace("billing_question: billing_agent", "billing_question: nowhere", 1))
    banner = phone.locator("#flow-refused")
    wait_for(phone, banner.is_visible, seconds=15)
    assert "main.yaml:" in banner.inner_text() and "nowhere" in banner.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "browser-phone-flow-refused.png"))
    assert first_words(phone) == EDITED  # the last good flow still answers

    add_accounts(server)
    console = session_client(Console(server), "sam")
    home = console.get("/console/").text
    assert 'id="flow-refused"' in home and "main.yaml:" in home
    assert httpx.get(f"{server.url}/simulator/status").json()["refused"]

    main.write_text(good)  # fixed: the banner goes
    wait_for(phone, lambda: not banner.is_visible(), seconds=15)
    assert 'id="flow-refused"' not in console.get("/console/").text


def test_without_a_speech_model_the_page_says_so_and_a_typed_call_still_works(
    live_server: Callable[..., LiveServer], page: Page, tmp_path: Path
) -> None:
    server = live_server(
        FLOWS=str(KO_LINE),
        NLU_URL=f"http://127.0.0.1:{free_port()}",
        VOSK_MODEL=str(tmp_path / "no-model-here"),
    )
    assert not server.services.recognizers
    phone = open_phone(page.context, server, text_only=False)
    notice = phone.locator("#no-speech")
    assert "No speech model is installed for ko" in notice.inner_text()
    assert "ivr models download ko" in notice.inner_text()
    text_only = phone.locator("#text-only")
    assert text_only.is_checked() and text_only.is_disabled()

    place_call(phone)
    wait_for(phone, lambda: counter(phone, "marks-played") >= 1)  # greeted, not turned away
    phone.fill("#typed", "상담원 연결")
    phone.keyboard.press("Enter")
    wait_for(phone, lambda: phone.locator("#transcript .entry.turn-typed").count() == 1)
    assert phone.locator("#transcript .entry.turn-typed .text").inner_text() == "상담원 연결"


def test_the_caller_number_and_the_clock_offset_reach_the_call(
    live_server: Callable[..., LiveServer], page: Page
) -> None:
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}")  # the demo line, London
    assert server.services.prompts_ready.wait(90)
    phone = open_phone(page.context, server, text_only=True)
    phone.fill("#caller", "+420 601 234 567")
    phone.fill("#clock-offset", "12")  # Monday 10:00 becomes 22:00: the line is closed
    call_id = place_call(phone)
    assert "the line's clock: 2026-11-23 22:00" in phone.locator("#call-id").inner_text()
    wait_for(phone, lambda: counter(phone, "marks-played") >= 1)
    phone.click("#keypad button[data-key='0']")
    # A +420 caller is answered in Czech (the caller's country chooses the language).
    closed = server.services.flow.system_prompts["outside_hours"].text["cs"]
    bot_lines = phone.locator("#transcript .entry.bot .text")
    wait_for(phone, lambda: closed in bot_lines.all_inner_texts())
    phone.click("#hangup")
    wait_for(phone, lambda: phone.locator("body").get_attribute("data-ended") is not None)
    store = server.services.store
    call = store.get_call(call_id) if store is not None else None
    assert call is not None and call.caller == "+420601234567"
    assert call.started_at.hour == 22  # stored at the call's own time
