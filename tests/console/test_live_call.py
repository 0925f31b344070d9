"""A live call seen from the console while the call emulator talks to the real server.

Real: the server on a port, the call emulator streaming espeak-ng English in real time, voice
activity and end of turn, the demo line's Rasa model, the engine, the <Dial> to Alice with its
whisper, SQLite, the server-sent events and Chromium. Stand-in: the words an English Vosk model
would hear (none can be installed here; see tests/fixtures/scripted_asr.py).

The supervisor watches the call appear on the board and its transcript grow without a reload;
Alice, whose phone rings with the call, gets the alert, opens the call page from it and sees
what the caller said and what the bot understood, the same words the whisper told her.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from twilio_emulator import AgentBehaviour, CallResult, Press, Speak, TwilioEmulator, WaitForBot
from twilio_emulator.caller import Step

from ivr.nlu.service import NLUServerHandle
from tests.console.conftest import Console, add_accounts, log_in
from tests.e2e.test_callback_booking import CALLER, OUR_NUMBER, english_line
from tests.fixtures.browser import SCREENSHOTS, new_context, save_screenshots
from tests.fixtures.live_server import OPEN, LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

SAID = "i have a question about my bill"
ALICE = "+441632960001"
#: Alice's phone rings this long before she answers: time for her browser to show it.
RING_SECONDS = 12.0


def phone_in(server: LiveServer, results: list[CallResult]) -> threading.Thread:
    """The caller, in the background: asks about the bill, types the account number."""
    caller = TwilioEmulator(server.url, server.public_url, server.auth_token)
    script: list[Step] = [WaitForBot(30), Speak("I have a question about my bill"), WaitForBot(60),
              Press("12345678"), WaitForBot(60)]  # fmt: skip
    agent = AgentBehaviour("answered", ring_seconds=RING_SECONDS, talk_seconds=2)

    def run() -> None:
        results.append(
            caller.call(script, caller=CALLER, called=OUR_NUMBER, agent=agent, max_seconds=150)
        )

    thread = threading.Thread(target=run, name="caller", daemon=True)
    thread.start()
    return thread


def rows(page: Page) -> int:
    return page.locator("#transcript tbody tr:not(.empty)").count()


def test_supervisor_watches_the_call_and_the_rung_agent_opens_it(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle, browser: Browser
) -> None:
    server = english_line(live_server, nlu_server, lambda: OPEN, ScriptedRecognizerPool([SAID]))
    add_accounts(server)
    console = Console(server)
    supervisor, alice = new_context(browser), new_context(browser)
    try:
        boss, agent = supervisor.new_page(), alice.new_page()
        log_in(boss, console, "sam")
        log_in(agent, console, "alice")
        results: list[CallResult] = []
        caller = phone_in(server, results)

        # The call appears on the supervisor's board by itself; the page is never reloaded.
        boss.evaluate("window.notReloaded = true")
        row = boss.locator("#live-calls tbody tr[data-call]")
        expect(row).to_have_count(1, timeout=15_000)
        expect(row).to_contain_text(CALLER)
        row.get_by_role("link").click()
        expect(boss.get_by_role("heading", name=f"Call from {CALLER}")).to_be_visible()
        boss.evaluate("window.notReloaded = true")

        # Its transcript grows as the caller speaks, then types.
        transcript = boss.locator("#transcript")
        expect(transcript).to_contain_text(f"“{SAID}”", timeout=40_000)
        expect(transcript).to_contain_text("billing_question")
        expect(transcript).to_contain_text("pressed 12345678", timeout=40_000)
        assert rows(boss) >= 2
        assert boss.evaluate("window.notReloaded") is True
        expect(boss.locator("#call-stage")).to_have_text("ringing an agent", timeout=20_000)

        # Alice's phone rings: the alert tells her what the whisper says, Enter opens the call.
        ringing = agent.locator("#ringing")
        expect(ringing).to_be_visible(timeout=20_000)
        whisper = agent.locator("#ringing-whisper").inner_text()
        assert "billing" in whisper.lower()
        expect(agent.locator("#live-calls")).to_contain_text("ringing an agent")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(SCREENSHOTS / "live-call-ringing.png"), full_page=True)
        agent.keyboard.press("Enter")
        expect(agent.get_by_role("heading", name=f"Call from {CALLER}")).to_be_visible()
        expect(agent.locator(".whisper")).to_have_text(whisper)
        expect(agent.locator("#transcript")).to_contain_text(f"“{SAID}”")
        expect(agent.locator("#transcript")).to_contain_text("billing_question")
        expect(agent.locator(".facts")).to_contain_text("billing")
        expect(agent.locator("#ringing")).to_be_hidden()  # the page it points to is open
        agent.screenshot(path=str(SCREENSHOTS / "live-call-page.png"), full_page=True)

        caller.join(90)
        (result,) = results
        assert result.ok, result.errors
        (dial,) = result.dials
        assert (dial.number, dial.bridged) == (ALICE, True)
        assert " ".join(dial.whisper).split() == whisper.split()  # what she heard, she read
        expect(boss.locator("#call-stage")).to_have_text("ended", timeout=20_000)
    finally:
        save_screenshots(supervisor, "live-call-supervisor")
        save_screenshots(alice, "live-call-agent")
        supervisor.close()
        alice.close()
