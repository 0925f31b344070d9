"""What Twilio does after the bot's stream, as the browser phone follows it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from ivr.nlu.service import free_port
from tests.browser_phone.conftest import (
    counter,
    open_phone,
    place_call,
    shown,
    wait_for,
    wait_until_shown,
)
from tests.fixtures.ko_line import KO_LINE
from tests.fixtures.live_server import LiveServer


def test_a_transfer_nobody_answers_opens_a_second_stream_to_book_a_callback(
    live_server: Callable[..., LiveServer], page: Page
) -> None:
    server = live_server(FLOWS=str(KO_LINE), NLU_URL=f"http://127.0.0.1:{free_port()}")
    assert server.services.prompts_ready.wait(60)
    phone = open_phone(page.context, server, text_only=True)
    phone.select_option("#agents", "no-answer")
    place_call(phone)
    wait_for(phone, lambda: counter(phone, "marks-played") >= 1)
    phone.click("#keypad button[data-key='0']")

    wait_until_shown(phone, "#transcript .entry.network.dialled", "no-answer")
    assert "/twilio/dial-action" in shown(phone, "#transcript .entry.webhook")
    bot_lines = phone.locator("#transcript .entry.bot")
    before = bot_lines.count()
    wait_for(phone, lambda: counter(phone, "streams") == 2, seconds=30)  # Twilio's second stream
    wait_for(phone, lambda: bot_lines.count() > before)  # the bot offers a callback on it
    phone.click("#hangup")
    wait_for(phone, lambda: phone.locator("body").get_attribute("data-ended") == "completed")
