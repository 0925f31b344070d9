"""A small typed flow for engine tests, built straight from ``bot.flow.model`` objects.

It does not use the YAML loader on purpose: the engine is tested against the model alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine import (
    Action,
    CallStarted,
    DigitsPressed,
    Engine,
    Event,
    Say,
    SilenceTimedOut,
    SpeechRecognized,
    describe,
)
from bot.flow.model import (
    AskStep,
    BusinessHours,
    CallbackPolicy,
    CallbackStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    EscalationPolicy,
    Flow,
    GlobalAction,
    GlobalIntent,
    Intent,
    Location,
    OpeningInterval,
    Prompt,
    SayStep,
    Slot,
    SlotType,
    Step,
    TransferStep,
)
from bot.nlu.result import Entity, IntentScore, NLUResult

HERE = Location("tests/engine_flow.py", 1)
LONDON = ZoneInfo("Europe/London")
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)  # a Tuesday morning
CLOSED = datetime(2026, 3, 15, 10, 0, tzinfo=LONDON)  # a Sunday


def p(pid: str, en: str, cs: str | None = None) -> Prompt:
    return Prompt(pid, {"en": en, "cs": cs or f"[cs] {en}"}, HERE)


SYSTEM = {
    "clarify": p("clarify", "Did you mean {options}?", "Myslíte {options}?"),
    "not_understood": p("not_understood", "Sorry, I didn't get that."),
    "no_input": p("no_input", "Are you still there?"),
    "connecting": p("connecting", "Connecting you now."),
    "technical_problem": p("technical_problem", "We have a technical problem."),
    "outside_hours": p("outside_hours", "We're closed; we'll call you back."),
    "no_agent": p("no_agent", "Nobody answered; we'll call you back."),
    "goodbye": p("goodbye", "Goodbye for now."),
}

INTENT_LABELS = {
    "billing_question": ("a question about your bill", "dotaz k vyúčtování"),
    "report_outage": ("reporting an outage", "nahlášení poruchy"),
    "change_plan": ("changing your plan", "změna tarifu"),
    "talk_to_human": ("talking to a person", "mluvit s člověkem"),
    "repeat": ("hearing that again", "zopakovat"),
    "help": ("help", "nápověda"),
    "goodbye": ("saying goodbye", "rozloučení"),
    "loop": ("a loop", "smyčka"),
    "affirm": ("yes", "ano"),
    "deny": ("no", "ne"),
    "chit_chat": ("a chat", "pokec"),
}


def _steps() -> dict[str, Step]:
    steps: list[Step] = [
        SayStep("welcome", HERE, p("greeting", "Welcome to Northwind."), "main_menu"),
        AskStep(
            "main_menu",
            HERE,
            p("how_can_i_help", "How can I help?", "Jak vám mohu pomoci?"),
            {
                "billing_question": "billing_info",
                "report_outage": "outage_account",
                "change_plan": "plan_callback",
            },
            p("how_can_i_help_again", "Please tell me briefly why you're calling."),
        ),
        SayStep("billing_info", HERE, p("bill", "Your bill is ready."), "anything_else"),
        ConfirmStep(
            "anything_else",
            HERE,
            p("anything", "Anything else?"),
            "main_menu",
            "goodbye",
            p("anything_again", "Is there anything else? Yes or no."),
        ),
        CollectStep(
            "outage_account",
            HERE,
            "account_number",
            p("ask_account", "What's your account number?"),
            "outage_when",
            p("ask_account_again", "Please say or type your eight digit account number."),
        ),
        CollectStep(
            "outage_when", HERE, "callback_time", p("ask_when", "When shall we call?"), "notes"
        ),
        CollectStep(
            "notes", HERE, "outage_address", p("ask_address", "What's the address?"), "sms"
        ),
        CollectStep("sms", HERE, "wants_sms", p("ask_sms", "Want an SMS?"), "outage_agent"),
        TransferStep(
            "outage_agent",
            HERE,
            "faults",
            None,
            "outage",
            p("connecting_faults", "Connecting you about account {account_number}."),
        ),
        CallbackStep("plan_callback", HERE, "sales", "plan_change", p("cb", "We'll call you.")),
        TransferStep("vip_line", HERE, None, "+441234567890", "vip"),
        EndStep("goodbye", HERE, p("bye", "Thanks for calling, goodbye.")),
        SayStep("loop_a", HERE, p("loop_a", "A."), "loop_b"),
        SayStep("loop_b", HERE, p("loop_b", "B."), "loop_a"),
    ]
    return {s.id: s for s in steps}


def make_flow(**escalation: Any) -> Flow:
    """The test flow; keyword arguments override the escalation policy."""
    intents = {
        name: Intent(name, {"en": en, "cs": cs}, {"en": (name,)}, HERE)
        for name, (en, cs) in INTENT_LABELS.items()
    }
    slots = {
        "account_number": Slot("account_number", SlotType.DIGITS, 8, 8, HERE),
        "callback_time": Slot("callback_time", SlotType.DATETIME, where=HERE),
        "outage_address": Slot("outage_address", SlotType.TEXT, where=HERE),
        "wants_sms": Slot("wants_sms", SlotType.YES_NO, where=HERE),
    }
    weekday = (OpeningInterval(time(8), time(20)),)
    return Flow(
        version=1,
        name="test line",
        languages=("en", "cs"),
        default_language="en",
        start="welcome",
        steps=_steps(),
        intents=intents,
        slots=slots,
        prompts={},
        system_prompts=SYSTEM,
        global_intents={
            "talk_to_human": GlobalIntent("talk_to_human", GlobalAction.PERSON),
            "repeat": GlobalIntent("repeat", GlobalAction.REPEAT),
            "help": GlobalIntent(
                "help", GlobalAction.HELP, prompt=p("help_text", "You can ask about bills.")
            ),
            "goodbye": GlobalIntent("goodbye", GlobalAction.GOTO, target="goodbye"),
            "loop": GlobalIntent("loop", GlobalAction.GOTO, target="loop_a"),
        },
        escalation=replace(EscalationPolicy(person_queue="general"), **escalation),
        business_hours=BusinessHours("Europe/London", {d: weekday for d in range(5)}),
        callbacks=CallbackPolicy(),
    )


def nlu(
    text: str,
    *ranking: tuple[str, float],
    entities: tuple[Entity, ...] = (),
    fallback: bool = False,
) -> NLUResult:
    """An NLU result with ``ranking`` given best first, as Rasa returns it."""
    scores = tuple(IntentScore(name, conf) for name, conf in ranking)
    real = [s for s in scores if s.name != "nlu_fallback"]
    top = real[0] if real else None
    return NLUResult(
        text=text,
        intent=top.name if top else None,
        confidence=top.confidence if top else 0.0,
        ranking=scores,
        entities=entities,
        fallback=fallback,
    )


class Call:
    """One call driven through the engine, remembering the last session and actions."""

    def __init__(
        self,
        flow: Flow | None = None,
        now: datetime = OPEN,
        language: str | None = None,
        *,
        caller: str | None = "+447700900123",
        called: str | None = "+441000000000",
        **started: Any,
    ) -> None:
        self.engine = Engine(flow or make_flow())
        self.now = now
        event = CallStarted(caller, called, language, **started)
        self.session, self.actions = self.engine.start("CA1", event, now)

    def send(self, event: Event) -> list[Action]:
        self.session, self.actions = self.engine.step(self.session, event, self.now)
        return self.actions

    def hear(self, text: str, *ranking: tuple[str, float], **kwargs: Any) -> list[Action]:
        """The caller says ``text``, which NLU ranks as ``ranking``."""
        return self.send(SpeechRecognized(text, nlu(text, *ranking, **kwargs)))

    def hear_without_nlu(self, text: str) -> list[Action]:
        return self.send(SpeechRecognized(text, None, nlu_error="timeout"))

    def press(self, digits: str) -> list[Action]:
        return self.send(DigitsPressed(digits))

    def silence(self) -> list[Action]:
        return self.send(SilenceTimedOut())

    @property
    def said(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, Say)]

    @property
    def markers(self) -> list[str]:
        return [describe(a) for a in self.actions if not isinstance(a, Say)]

    @property
    def last(self) -> Action:
        return self.actions[-1]

    @property
    def decision(self) -> str:
        return self.session.turns[-1].decision
