"""An agent's pages in Chromium: presence that routing obeys, the call page and its notes, the
callback queue (claim, complete, and two agents racing for one), refusals a browser can see."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree

from playwright.sync_api import Browser, Page, expect

from ivr.call.handover import Handover
from ivr.callbacks.policy import RULES
from ivr.store import AgentStates, CallbackStatus, CallbackStore, Presence, Store, TurnRecord
from tests.console.conftest import Console, log_in
from tests.fixtures.browser import new_context, save_screenshots
from tests.fixtures.live_server import OPEN
from tests.ivr.web.test_app import CALL, post

CALLER = "+447700900123"
ALICE, BOB = "+441632960001", "sip:bob@pbx.acme.example"


def store_of(console: Console) -> Store:
    store = console.server.services.store
    assert store is not None
    return store


def a_call(
    store: Store, call_id: str, started: datetime, words: list[tuple[str, str, float]]
) -> None:
    """A finished call from CALLER with what was said, the intent and the confidence."""
    store.call_started(call_id, caller=CALLER, called="+442079460000", started_at=started)
    for index, (text, intent, confidence) in enumerate(words):
        store.add_turn(
            call_id,
            TurnRecord(index, started + timedelta(seconds=5 * index), "main_menu", "speech", text,
                       0.9, intent, confidence, f"route:{intent}", ("say something",)),
        )  # fmt: skip
    store.set_outcome(call_id, outcome="transfer", queue="billing", reason="asked_for_person")


def test_setting_away_makes_routing_skip_the_agent(page: Page, console: Console) -> None:
    log_in(page, console, "alice")
    page.get_by_role("button", name="Away").click()
    expect(page.get_by_role("status").first).to_contain_text("Away: callers go to your colleagues")
    expect(page.get_by_role("button", name="Away")).to_have_attribute("aria-pressed", "true")
    assert AgentStates(store_of(console)).presence()["alice"] is Presence.AWAY

    # A transfer to general now (Monday 10:00: Alice, then Bob, are on shift) rings Bob.
    console.server.services.board.put(
        CALL["CallSid"], Handover("transfer", "asked_for_person", "general")
    )
    dial = ElementTree.fromstring(post(console.server, "/twilio/connect-action", CALL).text).find(
        "Dial"
    )
    assert dial is not None
    assert [(number.text or "").strip() for number in dial] == [BOB]

    page.get_by_role("button", name="Available").click()
    expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
    post(console.server, "/twilio/status", {**CALL, "CallStatus": "completed"})  # Bob is free
    again = {**CALL, "CallSid": "CA" + "e" * 32}
    console.server.services.board.put(
        again["CallSid"], Handover("transfer", "asked_for_person", "general")
    )
    dial = ElementTree.fromstring(post(console.server, "/twilio/connect-action", again).text).find(
        "Dial"
    )
    assert dial is not None and [(number.text or "").strip() for number in dial] == [ALICE]


def test_a_note_written_on_one_call_shows_on_the_callers_next(page: Page, console: Console) -> None:
    store = store_of(console)
    a_call(
        store,
        "CA-first",
        OPEN - timedelta(days=2),
        [("my bill is wrong", "billing_question", 0.91)],
    )
    a_call(store, "CA-next", OPEN, [("it's about the bill again", "billing_question", 0.87)])
    log_in(page, console, "alice")
    page.goto(console.url + "/calls/CA-first")
    expect(page.get_by_role("heading", name=f"Call from {CALLER}")).to_be_visible()
    expect(page.locator("#transcript")).to_contain_text("“my bill is wrong”")
    expect(page.locator("#transcript")).to_contain_text("billing_question")
    page.get_by_label("Add a note").fill("Was overcharged in March; refund promised.")
    page.get_by_role("button", name="Keep the note").click()
    expect(page.locator("#notes")).to_contain_text("Was overcharged in March; refund promised.")

    page.goto(console.url + "/calls/CA-next")
    expect(page.locator("#notes")).to_contain_text("Was overcharged in March; refund promised.")
    expect(page.locator("#notes")).to_contain_text("alice")
    earlier = page.locator("details", has_text="transfer")
    earlier.locator("summary").click()
    expect(earlier).to_contain_text("“my bill is wrong”")  # the earlier call's transcript


def book(console: Console, minutes_from_now: int = 0) -> str:
    callbacks = CallbackStore(store_of(console), RULES)
    due = OPEN + timedelta(minutes=minutes_from_now)
    return callbacks.schedule(
        queue="billing", number=CALLER, due_at=due, now=OPEN - timedelta(hours=1),
        reason="caller_request",
    ).id  # fmt: skip


def test_an_agent_claims_and_completes_a_callback(page: Page, console: Console) -> None:
    booked = book(console)
    log_in(page, console, "alice")
    page.get_by_role("link", name="Callbacks").click()
    row = page.locator(f"tr[data-callback='{booked}']")
    expect(row).to_contain_text(CALLER)
    expect(row).to_contain_text("due")
    row.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("status").first).to_contain_text("Callback claimed")
    expect(row).to_contain_text("claimed by alice")
    row.get_by_placeholder("What happened").fill("Explained the March bill")
    row.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("status").first).to_contain_text("Callback completed")
    expect(page.locator(f"tr[data-callback='{booked}']")).to_have_count(0)
    done = CallbackStore(store_of(console), RULES).get(booked)
    assert done is not None and done.status is CallbackStatus.DONE
    assert done.transitions[-1].detail["outcome"] == "Explained the March bill"


def test_two_agents_claiming_one_callback_one_wins(browser: Browser, console: Console) -> None:
    booked = book(console)
    pages = []
    for name in ("alice", "bob"):
        agent_page = new_context(browser).new_page()
        log_in(agent_page, console, name)
        agent_page.goto(console.url + "/callbacks")
        pages.append(agent_page)
    alice, bob = pages
    alice.locator(f"tr[data-callback='{booked}']").get_by_role("button", name="Claim").click()
    expect(alice.get_by_role("status").first).to_contain_text("Callback claimed")
    bob.locator(f"tr[data-callback='{booked}']").get_by_role("button", name="Claim").click()
    expect(bob.get_by_role("alert")).to_contain_text("Could not claim it: alice has claimed it.")
    expect(bob.locator(f"tr[data-callback='{booked}']")).to_contain_text("claimed by alice")
    found = CallbackStore(store_of(console), RULES).get(booked)
    assert found is not None and found.claimed_by == "alice"
    for agent_page in pages:
        save_screenshots(agent_page.context, f"two-agents-claiming-{agent_page.url.count('/')}")
        agent_page.context.close()


def test_a_browser_sees_the_refusals(page: Page, console: Console) -> None:
    page.goto(console.url + "/callbacks")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # no session: log in
    log_in(page, console, "alice")
    page.goto(console.url + "/dashboard")
    expect(page.get_by_role("heading", name="Not for you")).to_be_visible()
    page.goto(console.url + "/")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_role("button", name="Away").click()
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    assert "alice" not in AgentStates(store_of(console)).presence() or (
        AgentStates(store_of(console)).presence()["alice"] is not Presence.AWAY
    )
