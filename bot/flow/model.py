"""The typed flow: what the loader builds from ``flows/*.yaml`` and the engine reads.

Every object carries ``where`` (file and line) so any later error can point at the YAML an
admin wrote. All objects are frozen: a loaded flow is shared by every call that started on it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

#: An entity marked in an intent example, the Rasa way: ``account [12345678](account_number)``.
ENTITY_ANNOTATION = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<entity>[^)]*)\)")


def annotated_entities(example: str) -> list[str]:
    """The entity (slot) names marked in ``example``."""
    return [m.group("entity").strip() for m in ENTITY_ANNOTATION.finditer(example)]


def without_annotations(example: str) -> str:
    """``example`` as a caller would say it: the marked text kept, the markup dropped."""
    return ENTITY_ANNOTATION.sub(lambda m: m.group("text"), example)


#: The one DTMF key that always means "a person", whatever the flow says.
PERSON_DIGIT = "0"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a flow file: ``str(loc)`` gives ``flows/main.yaml:12``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


NOWHERE = Location("<built-in>", 0)


@dataclass(frozen=True)
class Prompt:
    """Something the bot says, in every language of the flow.

    ``text`` maps a language code to a template; ``{slot}`` placeholders are filled from the
    call's slots (and ``{options}`` in the clarifying question).
    """

    id: str
    text: Mapping[str, str]
    where: Location = NOWHERE

    def in_language(self, language: str) -> str:
        """The template for ``language`` (the loader guarantees every declared one exists)."""
        return self.text[language]


@dataclass(frozen=True)
class Intent:
    """Something a caller can want, with the examples Rasa learns it from.

    ``label`` is how the bot names the intent when it asks a clarifying question
    ("did you mean *a question about your bill* or *changing your plan*?").
    Examples may mark entities the Rasa way: ``my account is [12345678](account_number)``.
    """

    name: str
    label: Mapping[str, str]
    examples: Mapping[str, tuple[str, ...]]
    where: Location = NOWHERE


class SlotType(enum.StrEnum):
    """What kind of value a slot holds; decides how speech and keypad input fill it."""

    DIGITS = "digits"  # account numbers, PINs: spoken digits or keypad
    YES_NO = "yes_no"
    DATETIME = "datetime"  # "tomorrow after three", resolved in the flow's time zone
    TEXT = "text"  # free text, taken as said


@dataclass(frozen=True)
class Slot:
    """A value the flow collects from the caller (or an entity fills on the way)."""

    name: str
    type: SlotType
    min_length: int | None = None  # digits only
    max_length: int | None = None  # digits only
    where: Location = NOWHERE


# --- steps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A node of the conversation. Subclasses say what kind."""

    id: str
    where: Location


@dataclass(frozen=True)
class SayStep(Step):
    """Say something, then go on to ``next`` without waiting for the caller."""

    prompt: Prompt
    next: str


@dataclass(frozen=True)
class AskStep(Step):
    """Ask an open question and route by the caller's intent.

    ``routes`` maps an intent name to the next step id. An understood intent that is neither
    routed here nor global counts as a misunderstanding.
    """

    prompt: Prompt
    routes: Mapping[str, str]
    reprompt: Prompt | None = None


@dataclass(frozen=True)
class CollectStep(Step):
    """Ask for one slot, validate it, reprompt when invalid, then go on to ``next``.

    A step whose slot is already filled (an entity in an earlier utterance) is skipped.
    """

    slot: str
    prompt: Prompt
    next: str
    reprompt: Prompt | None = None


@dataclass(frozen=True)
class ConfirmStep(Step):
    """Ask a yes/no question and branch."""

    prompt: Prompt
    yes: str
    no: str
    reprompt: Prompt | None = None


@dataclass(frozen=True)
class TransferStep(Step):
    """Hand the call to a person: a queue (or a phone number), with the reason why."""

    queue: str | None
    number: str | None
    reason: str
    prompt: Prompt | None = None


@dataclass(frozen=True)
class CallbackStep(Step):
    """Offer to call the caller back instead of making them wait."""

    queue: str
    reason: str
    prompt: Prompt | None = None


@dataclass(frozen=True)
class EndStep(Step):
    """Say goodbye and hang up."""

    prompt: Prompt


# --- policies -----------------------------------------------------------------------------


class GlobalAction(enum.StrEnum):
    """What a global intent does, at any step."""

    PERSON = "person"  # transfer to escalation.person_queue, reason asked_for_person
    REPEAT = "repeat"  # say the last prompt again
    HELP = "help"  # say the help prompt, then the current question again
    GOTO = "goto"  # jump to a step (for example the goodbye step)
    CALLBACK = "callback"  # book a callback on escalation.person_queue ("just call me back")


@dataclass(frozen=True)
class GlobalIntent:
    """An intent honoured at every step, before the step's own routes."""

    intent: str
    action: GlobalAction
    target: str | None = None  # step id, for GOTO
    prompt: Prompt | None = None  # for HELP
    where: Location = NOWHERE


class AfterSilence(enum.StrEnum):
    """What happens when the caller stays silent too many times."""

    PERSON = "person"
    END = "end"


@dataclass(frozen=True)
class EscalationPolicy:
    """When the bot stops trying and hands the caller to a person."""

    confidence_threshold: float = 0.6
    margin: float = 0.1  # minimum gap between the top two intents
    clarifying_questions: int = 1  # per question, before a person
    misunderstandings_before_person: int = 2  # per step
    silences_before_person: int = 2  # per step
    after_silences: AfterSilence = AfterSilence.PERSON
    person_queue: str = "general"
    where: Location = NOWHERE


@dataclass(frozen=True)
class OpeningInterval:
    """One opening window of a weekday, in local time (``end`` exclusive)."""

    start: time
    end: time


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours by weekday (0 = Monday) in one time zone, plus closed dates."""

    timezone: str = "UTC"
    weekly: Mapping[int, tuple[OpeningInterval, ...]] = field(default_factory=dict)
    closed_dates: frozenset[date] = frozenset()
    where: Location = NOWHERE

    @property
    def zone(self) -> ZoneInfo:
        """The time zone object."""
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> bool:
        """Whether the line is staffed at ``now`` (an aware datetime). No hours = always."""
        if not self.weekly:
            return True
        local = now.astimezone(self.zone)
        if local.date() in self.closed_dates:
            return False
        moment = local.time().replace(tzinfo=None)
        return any(w.start <= moment < w.end for w in self.weekly.get(local.weekday(), ()))


@dataclass(frozen=True)
class CallbackPolicy:
    """When a callback is offered instead of a queue (used by the people/callbacks work)."""

    max_expected_wait_seconds: int = 120
    where: Location = NOWHERE


# --- people: queues and agents (flows/people.yaml) ----------------------------------------


class CallbackMode(enum.StrEnum):
    """Who a callback rings first."""

    AGENT_FIRST = "agent_first"  # ring the agent, then bridge the customer (the default)
    CUSTOMER_FIRST = "customer_first"  # ring the customer (machine detection), then an agent


@dataclass(frozen=True)
class QueueCallbacks:
    """How callbacks for one queue are placed."""

    mode: CallbackMode = CallbackMode.AGENT_FIRST
    max_attempts: int = 3
    retry_after_minutes: tuple[int, ...] = (5, 15, 60)  # back-off; the last repeats
    quiet_hours: tuple[OpeningInterval, ...] = ()  # local times nobody is rung; may wrap midnight
    sms_confirmation: bool = False
    caller_id: str = ""  # the number callbacks come from; empty = the number the caller rang
    where: Location = NOWHERE


@dataclass(frozen=True)
class Queue:
    """A team callers are handed to: its hours, its wait limit and its callback rules.

    ``label`` names what the queue is about, for "calling you back about *your bill*".
    """

    name: str
    label: Mapping[str, str]
    hours: BusinessHours
    max_expected_wait_seconds: int = 120
    same_agent_days: int = 7  # a returning caller goes to their last agent within this many days
    callbacks: QueueCallbacks = QueueCallbacks()
    where: Location = NOWHERE
    # The dashboard's service level (ivr/metrics, docs/metrics.md): answered within this many
    # seconds of the hand-over; callers who hang up sooner than short_abandon_seconds not counted.
    service_level_seconds: int = 25
    short_abandon_seconds: int = 5


@dataclass(frozen=True)
class Agent:
    """A person who answers queues: where to ring them and when they work.

    ``address`` is a phone number (``+441632960001``), a SIP address (``sip:alice@pbx``) or a
    Twilio Client id (``client:alice``). An empty ``shift`` means whenever their queues are open.
    ``languages`` are those they take calls in, the first the one their whispers are said in;
    empty (none written in the YAML) means the flow's ``default_language``.
    """

    id: str
    name: str
    address: str
    queues: tuple[str, ...]
    shift: BusinessHours = BusinessHours()
    where: Location = NOWHERE
    languages: tuple[str, ...] = ()

    def on_shift(self, now: datetime) -> bool:
        """Whether the agent works at ``now`` (an aware datetime)."""
        return self.shift.is_open(now)


#: The prompts the engine itself needs, and the placeholders each may use.
SYSTEM_PROMPTS: Mapping[str, frozenset[str]] = {
    "clarify": frozenset({"options"}),  # "Sorry, did you mean {options}?"
    "not_understood": frozenset(),  # a reprompt when nothing matched
    "no_input": frozenset(),  # after silence
    "connecting": frozenset(),  # before a transfer to a person
    "technical_problem": frozenset(),  # NLU or another part failed: apology
    "outside_hours": frozenset(),  # a person was wanted but nobody is there: callback
    "no_agent": frozenset(),  # the person's phone was busy or unanswered: callback
    "goodbye": frozenset(),  # the polite end after silences, when after_silences is end
    # Booking a callback (bot/engine/booking.py): {when} is "tomorrow at 3 pm" and the like.
    "callback_when": frozenset(),  # "When would be a good time for us to call you back?"
    "callback_when_again": frozenset(),  # the read-back was wrong: ask for the time again
    "callback_when_unclear": frozenset(),  # no time understood, or one in the past
    "callback_confirm": frozenset({"when", "number"}),  # "I'll call you {when} on {number}..."
    "callback_this_number": frozenset(),  # {number} when it is the caller's own
    "callback_default": frozenset({"when"}),  # after unclear answers: "How about {when}?"
    "callback_number": frozenset(),  # "What number should we call you on?"
    "callback_booked": frozenset({"when"}),  # the callback is booked; the bot's part ends
    "callback_pending": frozenset({"when"}),  # a returning caller: keep, change or cancel?
    "callback_kept": frozenset(),  # the booked callback stays
    "callback_cancelled": frozenset(),  # the booked callback is cancelled
    "callback_wait_offer": frozenset({"minutes"}),  # a long wait: "shall we call you back?"
    # A placed callback (ivr/web/callback_calls.py): {about} is the queue's label ("your bill").
    "callback_opening": frozenset({"about"}),  # the customer hears it before the bridge
    "callback_machine": frozenset({"about"}),  # customer first: an answering machine picked up
}


#: English texts said when a flow lacks a system prompt. The loader requires them all; these keep
#: a call alive on a hand-built or half-reloaded flow (the engine's prompts, and what is said
#: after the stream on a placed callback).
SYSTEM_PROMPT_FALLBACKS: Mapping[str, str] = {
    "clarify": "Sorry, did you mean {options}?",
    "not_understood": "Sorry, I didn't understand that.",
    "no_input": "Sorry, I didn't hear anything.",
    "connecting": "Let me connect you to a colleague.",
    "technical_problem": "Sorry, we're having a technical problem.",
    "outside_hours": "Nobody is available right now, so we'll call you back.",
    "goodbye": "Goodbye.",
    "callback_when": "When would be a good time for us to call you back?",
    "callback_when_again": "When would suit you better?",
    "callback_when_unclear": "Sorry, I didn't catch a time. Please say a day and a time.",
    "callback_confirm": "I'll call you {when} on {number}. Is that right?",
    "callback_this_number": "the number you're calling from",
    "callback_default": "Shall we call you {when}?",
    "callback_number": "What number should we call you on?",
    "callback_booked": "That's booked. We'll call you {when}. Goodbye.",
    "callback_pending": (
        "You have a call back booked {when}. Would you like to keep it, change the time, "
        "or cancel it?"
    ),
    "callback_kept": "We'll keep that call back.",
    "callback_cancelled": "I've cancelled that call back.",
    "callback_wait_offer": (
        "The wait is about {minutes} minutes. Would you like us to call you back instead?"
    ),
    "callback_opening": "Hello, this is a call back about {about}. Please hold for a moment.",
    "callback_machine": "Hello, we're returning your call about {about}. We'll try again later.",
}


#: The signals that can choose a call's language (see :mod:`bot.flow.language_choice`).
CALLED_NUMBER = "called_number"
CALLER_COUNTRY = "caller_country"
RETURNING_CALLER = "returning_caller"
SIGNALS = (CALLED_NUMBER, CALLER_COUNTRY, RETURNING_CALLER)


@dataclass(frozen=True)
class LanguageChoice:
    """The signals that choose a call's language, in the order they are tried."""

    order: tuple[str, ...] = SIGNALS
    numbers: Mapping[str, str] = field(default_factory=dict)
    countries: Mapping[str, str] = field(default_factory=dict)
    switch_by_speech: bool = True
    where: Location = NOWHERE


@dataclass(frozen=True)
class Flow:
    """A whole call flow, as loaded from one folder of YAML files."""

    version: int
    name: str
    languages: tuple[str, ...]
    default_language: str
    start: str
    steps: Mapping[str, Step]
    intents: Mapping[str, Intent]
    slots: Mapping[str, Slot]
    prompts: Mapping[str, Prompt]
    system_prompts: Mapping[str, Prompt]
    global_intents: Mapping[str, GlobalIntent]
    escalation: EscalationPolicy
    business_hours: BusinessHours
    callbacks: CallbackPolicy
    files: tuple[str, ...] = ()
    queues: Mapping[str, Queue] = field(default_factory=dict)  # empty: no people.yaml
    agents: Mapping[str, Agent] = field(default_factory=dict)
    language_choice: LanguageChoice = field(default_factory=LanguageChoice)

    def queue_hours(self, queue: str | None) -> BusinessHours:
        """The hours of ``queue``, else the flow's business hours."""
        declared = self.queues.get(queue or "")
        return declared.hours if declared else self.business_hours

    def in_language(self, texts: Mapping[str, str], language: str | None) -> str | None:
        """``texts`` (a label per language) in ``language``, else in the flow's default."""
        return texts.get(language or "") or texts.get(self.default_language)

    def queue_callbacks(self, queue: str | None) -> QueueCallbacks:
        """How callbacks for ``queue`` are placed (the defaults for an undeclared queue)."""
        declared = self.queues.get(queue or "")
        return declared.callbacks if declared else QueueCallbacks()

    def all_prompts(self) -> list[Prompt]:
        """Every prompt the flow can say: named, inline in steps, system. For TTS caching."""
        seen: dict[str, Prompt] = {}
        for prompt in [*self.prompts.values(), *self.system_prompts.values()]:
            seen.setdefault(prompt.id, prompt)
        for step in self.steps.values():
            for name in ("prompt", "reprompt"):
                attached = getattr(step, name, None)
                if isinstance(attached, Prompt):
                    seen.setdefault(attached.id, attached)
        for global_intent in self.global_intents.values():
            if global_intent.prompt:
                seen.setdefault(global_intent.prompt.id, global_intent.prompt)
        return list(seen.values())
