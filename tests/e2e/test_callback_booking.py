"""The issue's whole story, on real parts: a caller who says "I want a person" outside hours books a
callback for "tomorrow after three" by voice, hears it read back, and the worker places it at
the right time, agent first, through the Twilio REST emulator and the official client.

Real: the server on a port, the call emulator streaming espeak-ng English in real time, voice
activity and end of turn, the demo line's Rasa model, the engine, pyttsx3, SQLite, the worker,
the REST emulator placing the callback against the same server. Stand-in: the words an English
Vosk model would hear (none can be installed here; see tests/fixtures/scripted_asr.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio_emulator import (
    AgentBehaviour,
    CallResult,
    Hangup,
    Speak,
    TwilioEmulator,
    WaitForBot,
)
from twilio_emulator.caller import Step
from twilio_emulator.rest import TwilioRestEmulator

from ivr.callbacks.policy import RULES
from ivr.callbacks.worker import CallbackWorker, WorkerSettings
from ivr.nlu.service import NLUServerHandle
from ivr.people.staffing import Staffing
from ivr.store import CallbackRecord, CallbackStatus, CallbackStore, StoreUnavailable
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from tests.e2e.prompts import prompts_heard
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from tests.fixtures.waiting import wait_for

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

#: Tuesday 21:00 in London (GMT in November): the line closed at 20:00.
TUESDAY_NIGHT = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
#: What "tomorrow after three" must come to: Wednesday 15:00 in London.
PROMISED = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
CALLER = "+447700900123"
OUR_NUMBER = "+442079460000"


class Clock:
    """The server's and the worker's time, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def english_line(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    clock: Callable[[], datetime],
    words: ScriptedRecognizerPool,
) -> LiveServer:
    """The demo line on a port, hearing ``words`` for the caller's English speech."""
    server = live_server(
        clock=clock,
        recognizers=words,
        NLU_URL=nlu_server.url,
        NLU_TOKEN=nlu_server.token,
        NLU_TIMEOUT=5.0,
    )
    assert server.services.prompts_ready.wait(90)
    return server


def say_in_turn(
    server: LiveServer, lines: list[str], agent: AgentBehaviour | None = None
) -> CallResult:
    """Phone the line and say each of ``lines`` once the bot has finished speaking."""
    script: list[Step] = [WaitForBot(30)]
    for line in lines:
        script += [Speak(line), WaitForBot(60)]
    caller = TwilioEmulator(server.url, server.public_url, server.auth_token)
    result = caller.call(
        [*script, Hangup()], caller=CALLER, called=OUR_NUMBER, agent=agent, max_seconds=150
    )
    assert result.ok, result.errors
    return result


def test_a_caller_books_a_callback_by_voice_and_the_worker_places_it_agent_first(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle
) -> None:
    clock = Clock(TUESDAY_NIGHT)
    words = ScriptedRecognizerPool(["i want a person", "tomorrow after three", "yes"])
    server = english_line(live_server, nlu_server, clock, words)

    # --- the call: a person is wanted, nobody is there, a time is booked by voice ---------
    result = say_in_turn(server, ["I want a person", "tomorrow after three", "yes"])
    assert words.heard == ["i want a person", "tomorrow after three", "yes"]
    store = server.services.store
    assert store is not None
    call = store.get_call(result.call_sid)
    assert call is not None
    said = [action for turn in call.turns for action in turn.actions]
    assert (
        "I'll call you tomorrow at 3 pm on the number you're calling from. Is that right?" in said
    )
    assert call.outcome == "callback"

    callbacks = CallbackStore(store, RULES)
    (booked,) = callbacks.pending_for_number(CALLER)
    assert (booked.due_at, booked.promised_at, booked.queue) == (PROMISED, PROMISED, "general")
    assert (booked.mode, booked.call_id) == ("agent_first", result.call_sid)

    # --- the worker places it at that time, agent first, through the REST emulator ---------
    with TwilioRestEmulator(
        auth_token=server.auth_token,
        server_url=server.url,
        public_url=server.public_url,
        say_words_per_second=0,
    ) as twilio:
        worker = CallbackWorker(
            callbacks,
            TwilioRinger(
                TwilioDialer(twilio.account_sid, twilio.auth_token, twilio.url), server.public_url
            ),
            server.services.flow,
            Staffing(server.services.flow, server.services.directory),
            WorkerSettings(worker_id="worker-1"),
            clock=clock,
        )
        clock.now = PROMISED - timedelta(minutes=1)
        assert worker.tick() == []  # not yet
        assert twilio.requests_to("Calls.json", "POST") == []

        clock.now = PROMISED + timedelta(seconds=5)
        assert worker.tick() == ["placed"]
        (request,) = twilio.requests_to("Calls.json", "POST")
        # General at 15:00 on a Wednesday: Bob (SIP) is on shift, Alice went home at 14:00.
        assert request.get("To") == "sip:bob@pbx.acme.example"
        assert request.get("From") == OUR_NUMBER
        assert request.get("Url") == (
            f"{server.public_url}/twilio/callback/answer?callback={booked.id}"
        )
        placed = callbacks.get(booked.id)
        assert placed is not None and placed.dial_sid is not None
        outbound = twilio.wait_for_call(placed.dial_sid, timeout=60)

    assert outbound.ok, outbound.errors
    agent_heard = " ".join(h.text for h in outbound.heard)
    assert f"Callback to {' '.join(CALLER)}, about your call" in agent_heard
    (customer_leg,) = outbound.dials
    assert customer_leg.number == CALLER and customer_leg.bridged
    assert "Acme Telecom calling you back about your call" in " ".join(customer_leg.whisper)
    done = callbacks.get(booked.id)
    assert done is not None and done.status == CallbackStatus.DONE
    assert done.on_time is True
    events = [t.event for t in done.transitions]
    assert events[:3] == ["scheduled", "dial_requested", "dial_placed"]


def test_a_database_failing_as_the_booking_is_made_loses_no_promise(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The caller hears "That's booked" while the database refuses the write: the booking
    waits in the spool and is stored, with the id it was given, once the database answers."""
    words = ScriptedRecognizerPool(["i want a person", "tomorrow after three", "yes"])
    server = english_line(live_server, nlu_server, lambda: TUESDAY_NIGHT, words)
    refused: list[str] = []
    schedule = CallbackStore.schedule

    def down_once(self: CallbackStore, **booking: Any) -> CallbackRecord:
        if not refused:
            refused.append(booking["callback_id"])
            raise StoreUnavailable("schedule", "sqlite:///calls.db", "disk I/O error")
        return schedule(self, **booking)

    monkeypatch.setattr(CallbackStore, "schedule", down_once)
    result = say_in_turn(server, ["I want a person", "tomorrow after three", "yes"])

    assert prompts_heard(result)[-1] == "system:callback_booked"
    store = server.services.store
    assert store is not None and len(refused) == 1
    pending = wait_for(
        "the spooled booking to be stored",
        lambda: CallbackStore(store, RULES).pending_for_number(CALLER),
    )
    (booked,) = pending
    assert booked.id == refused[0]  # the very booking the caller was promised
    assert (booked.due_at, booked.queue, booked.call_id) == (PROMISED, "general", result.call_sid)
    assert server.services.desk.spool is not None and server.services.desk.spool.pending() == []


def test_when_nobody_answers_the_caller_books_the_callback_in_a_second_conversation(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle
) -> None:
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # general is open: alice, then bob
    words = ScriptedRecognizerPool(["i want a person", "in an hour", "yes"])
    server = english_line(live_server, nlu_server, lambda: monday_10, words)
    nobody = AgentBehaviour(answer="no-answer", ring_seconds=0.5)
    result = say_in_turn(server, ["I want a person", "in an hour", "yes"], agent=nobody)
    assert [d.number for d in result.dials] == ["+441632960001", "sip:bob@pbx.acme.example"]
    assert all(d.outcome == "no-answer" for d in result.dials)
    assert len(result.streams) == 2  # the second one books the callback
    assert result.streams[1].custom_parameters["offer_prompt"] == "no_agent"
    store = server.services.store
    assert store is not None
    call = store.get_call(result.call_sid)
    assert call is not None
    said = [action for turn in call.turns for action in turn.actions]
    read_back = "I'll call you today at 11 am on the number you're calling from. Is that right?"
    assert read_back in said
    assert [t.index for t in call.turns] == list(range(len(call.turns)))  # one numbering
    assert (call.outcome, call.transferred_at, call.answered_at) == ("callback", monday_10, None)
    (booked,) = CallbackStore(store, RULES).pending_for_number(CALLER)
    assert booked.due_at == monday_10 + timedelta(hours=1)
    assert booked.reason == "dial_no_answer"


def test_calling_again_the_bot_asks_about_the_booked_callback_and_cancels_it(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle
) -> None:
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    words = ScriptedRecognizerPool(["please cancel it"])
    server = english_line(live_server, nlu_server, lambda: monday_10, words)
    store = server.services.store
    assert store is not None
    callbacks = CallbackStore(store, RULES)
    booked = callbacks.schedule(
        queue="billing", number=CALLER, due_at=PROMISED, now=monday_10, language="en"
    )
    result = say_in_turn(server, ["please cancel it"])
    marks = prompts_heard(result)
    assert marks == [  # asked first, then on with the call as usual
        "system:callback_pending", "system:callback_cancelled", "greeting", "how_can_i_help",
    ]  # fmt: skip
    cancelled = callbacks.get(booked.id)
    assert cancelled is not None and cancelled.status == CallbackStatus.CANCELLED
    assert cancelled.transitions[-1].detail["by"] == f"call:{result.call_sid}"
