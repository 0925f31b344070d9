"""Small flows for NLU tests, built by hand so they train in seconds.

``small_flow()`` is "model A"; ``small_flow(with_engineer=True)`` adds an intent that only
"model B" knows, for the hot-swap test.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.flow.model import (
    AskStep,
    BusinessHours,
    CallbackPolicy,
    EndStep,
    EscalationPolicy,
    Flow,
    Intent,
    Location,
    Prompt,
    Slot,
    SlotType,
)

HERE = Location("tests/nlu_flows/__init__.py", 1)

EXAMPLES: Mapping[str, tuple[str, ...]] = {
    "billing_question": (
        "why is my bill so high",
        "I have a question about my bill",
        "there is a charge I don't recognise",
        "my invoice looks wrong",
        "why was I charged twice",
        "can you explain my bill",
        "question about [account 12345678](account_number) billing",
        "my bill for account [44120987](account_number) is too high",
    ),
    "report_outage": (
        "my internet is down",
        "the broadband is not working",
        "I have no connection",
        "there is an outage in my area",
        "my phone line is dead",
        "the wifi stopped working",
        "internet down on account [55510293](account_number)",
        "no signal since this morning",
    ),
    "talk_to_human": (
        "I want to speak to a person",
        "let me talk to a human",
        "get me an agent",
        "can I speak to someone",
        "operator please",
        "put me through to a real person",
    ),
    "goodbye": (
        "bye",
        "goodbye",
        "that's all thanks",
        "nothing else, bye",
        "see you",
        "I'm done, thank you",
    ),
}

ENGINEER_EXAMPLES = (
    "send an engineer to my house",
    "I need a technician visit",
    "book an engineer appointment",
    "can a technician come round",
    "arrange an engineer visit for tomorrow",
    "I want someone to come and fix the router at home",
)


def small_flow(
    *,
    with_engineer: bool = False,
    greeting: str = "Hello, how can I help?",
    threshold: float = 0.6,
) -> Flow:
    """A four-intent flow (five with ``with_engineer``); ``greeting`` is a prompt-only knob."""
    examples = dict(EXAMPLES)
    if with_engineer:
        examples["book_engineer"] = ENGINEER_EXAMPLES
    intents = {
        name: Intent(name=name, label={"en": name.replace("_", " ")}, examples={"en": lines})
        for name, lines in examples.items()
    }
    greet = Prompt("greeting", {"en": greeting}, HERE)
    bye = Prompt("bye", {"en": "Goodbye."}, HERE)
    system = {
        name: Prompt(name, {"en": f"{name} text"}, HERE)
        for name in (
            "clarify",
            "not_understood",
            "no_input",
            "connecting",
            "technical_problem",
            "outside_hours",
            "no_agent",
            "goodbye",
        )
    }
    steps = {
        "menu": AskStep(
            id="menu", where=HERE, prompt=greet, routes={name: "end" for name in intents}
        ),
        "end": EndStep(id="end", where=HERE, prompt=bye),
    }
    return Flow(
        version=1,
        name="nlu-test",
        languages=("en",),
        default_language="en",
        start="menu",
        steps=steps,
        intents=intents,
        slots={"account_number": Slot("account_number", SlotType.DIGITS, 8, 8, HERE)},
        prompts={"greeting": greet, "bye": bye},
        system_prompts=system,
        global_intents={},
        escalation=EscalationPolicy(confidence_threshold=threshold),
        business_hours=BusinessHours(),
        callbacks=CallbackPolicy(),
    )
