"""People: the ``queues`` and ``agents`` sections (by convention ``flows/people.yaml``).

Both are named sections, merged across files like ``steps``. Here each entry's shape is
checked and built into :class:`Queue` and :class:`Agent`; which queues steps, agents and the
escalation policy may name is cross-checked in :mod:`bot.flow.validate`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time

from bot.flow.hours import read_business_hours
from bot.flow.model import (
    Agent,
    BusinessHours,
    CallbackMode,
    CallbackPolicy,
    Location,
    OpeningInterval,
    Queue,
    QueueCallbacks,
)
from bot.flow.sections import SectionBuilder
from bot.flow.yaml_lines import Map, Node, Reader, Scalar, describe, did_you_mean

QUEUE_KEYS = (
    "label",
    "hours",
    "max_expected_wait_seconds",
    "same_agent_days",
    "callbacks",
    "service_level_seconds",
    "short_abandon_seconds",
)
CALLBACK_KEYS = (
    "mode",
    "max_attempts",
    "retry_after_minutes",
    "quiet_hours",
    "sms_confirmation",
    "caller_id",
)
ADDRESS_KEYS = ("phone", "sip", "client")
AGENT_KEYS = ("name", *ADDRESS_KEYS, "queues", "shift", "languages")

#: E.164: a '+', a country code that does not start with 0, 8 to 15 digits in all.
PHONE = re.compile(r"^\+[1-9]\d{7,14}$")
SIP = re.compile(r"^sip:[^@\s:;]+@[A-Za-z0-9.-]+(:\d{1,5})?(;\S*)?$")
#: Twilio Client identities: letters, digits and underscores.
CLIENT = re.compile(r"^client:\w+$", re.ASCII)
_FORMATS = {
    "phone": (PHONE, "a number like +441632960001 (a '+', then 8 to 15 digits, no spaces)"),
    "sip": (SIP, "an address like sip:alice@pbx.example.com"),
    "client": (CLIENT, "a Twilio Client id like client:alice (letters, digits and _)"),
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def _clock(text: str) -> int:
    """``"08:30"`` -> minutes since midnight; ``"24:00"`` is allowed as an end."""
    match = _CLOCK.match(text.strip())
    if match and (int(match[1]), int(match[2])) <= (24, 0) and int(match[2]) < 60:
        return int(match[1]) * 60 + int(match[2])
    raise ValueError(f"'{text.strip()}' is not a time like '21:00'")


def _at(minutes: int) -> time:
    return time.max if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


def parse_quiet_hours(spec: str) -> tuple[OpeningInterval, ...]:
    """``"21:00-08:00"`` -> 21:00-24:00 and 00:00-08:00, in the order written.

    A window may wrap midnight; it is stored split in two so that every window is a plain
    ``start <= now < end`` check, like opening hours.

    Raises:
        ValueError: with a message for the admin.
    """
    windows: list[OpeningInterval] = []
    for part in spec.split(","):
        bounds = part.split("-")
        if len(bounds) != 2:
            raise ValueError(f"'{part.strip()}' is not quiet hours like '21:00-08:00'")
        start, end = _clock(bounds[0]), _clock(bounds[1])
        if start == 24 * 60:
            raise ValueError(f"'{bounds[0].strip()}' cannot start quiet hours; use '00:00'")
        if start == end:
            raise ValueError(f"'{part.strip()}' starts and ends at the same time")
        if start < end:
            windows.append(OpeningInterval(_at(start), _at(end)))
        else:
            windows.append(OpeningInterval(_at(start), time.max))
            if end:
                windows.append(OpeningInterval(time(0, 0), _at(end)))
    return tuple(windows)


class _PeopleBuilder:
    """Builds queues and agents with the flow's hours and callback policy as defaults."""

    def __init__(self, b: SectionBuilder, hours: BusinessHours, policy: CallbackPolicy) -> None:
        self.b, self.reader, self.hours, self.policy = b, b.reader, hours, policy

    def count(self, mapping: Map, key: str, prefix: str, default: int, *, minimum: int = 1) -> int:
        """The whole number at ``key`` (at least ``minimum``), else ``default``."""
        node = mapping.items.get(key)
        value = self.reader.integer(node, f"{prefix}'{key}'") if node else None
        if value is None or node is None:
            return default
        if value < minimum:
            bound = "more than 0" if minimum == 1 else f"at least {minimum}"
            self.reader.problem(node.where, f"{prefix}'{key}' must be {bound}, not {value}")
        return value

    def hours_at(self, node: Node, what: str) -> BusinessHours:
        """Hours like ``business_hours``; the flow's time zone when none is given."""
        own = Reader()
        hours = read_business_hours(node, own)
        for problem in own.problems:
            # The shared reader names the section 'business_hours'; name this one instead.
            message = what + problem.message.removeprefix("business_hours")
            self.reader.problem(problem.location, message, problem.step)
        if isinstance(node, Map) and "timezone" not in node.items:
            hours = replace(hours, timezone=self.hours.timezone)
        return hours

    # --- queues ------------------------------------------------------------------------

    def queue(self, name: str, node: Node, where: Location) -> Queue | None:
        """One queue, or None (reported) when it is not even a mapping."""
        prefix = f"queue '{name}': "
        mapping = self.reader.mapping(node, f"queue '{name}'")
        if mapping is None:
            return None
        self.b.record(("queues", name), mapping)
        self.reader.keys(mapping, QUEUE_KEYS, prefix)
        label: dict[str, str] = {}
        label_node = self.reader.require(mapping, "label", prefix, at=where)
        if label_node is not None:
            what = f"{prefix}'label'"
            label = self.b.texts(label_node, what, prompt_id=f"queue:{name}:label") or {}
            for language in self.b.languages:
                if isinstance(label_node, Map) and language not in label_node.items:
                    message = f"{what} has no text for language '{language}'"
                    self.reader.problem(label_node.where, message)
        hours = self.hours
        if "hours" in mapping.items:
            hours = self.hours_at(mapping.items["hours"], f"{prefix}'hours'")
        wait = self.count(
            mapping, "max_expected_wait_seconds", prefix, self.policy.max_expected_wait_seconds
        )
        days = self.count(mapping, "same_agent_days", prefix, 7, minimum=0)
        callbacks = QueueCallbacks()
        if "callbacks" in mapping.items:
            callbacks = self.callbacks(mapping.items["callbacks"], f"{prefix}callbacks: ")
        service, short = self.service_targets(mapping, prefix)
        return Queue(name, label, hours, wait, days, callbacks, where, service, short)

    def service_targets(self, mapping: Map, prefix: str) -> tuple[int, int]:
        """``service_level_seconds`` and ``short_abandon_seconds`` (the second below the first)."""
        service = self.count(mapping, "service_level_seconds", prefix, 25)
        short = self.count(mapping, "short_abandon_seconds", prefix, 5, minimum=0)
        given = mapping.items.get("short_abandon_seconds") or mapping.items.get(
            "service_level_seconds"
        )
        if 0 < service <= short and given is not None:  # a 0 service level is reported above
            self.reader.problem(
                given.where,
                f"{prefix}'short_abandon_seconds' ({short}) must be less than "
                f"'service_level_seconds' ({service})",
            )
        return service, short

    def callbacks(self, node: Node, prefix: str) -> QueueCallbacks:
        """A queue's ``callbacks`` mapping."""
        mapping = self.reader.mapping(node, prefix.removesuffix(": "))
        if mapping is None:
            return QueueCallbacks(where=node.where)
        self.reader.keys(mapping, CALLBACK_KEYS, prefix)
        default = QueueCallbacks()
        items = mapping.items
        mode = default.mode
        if "mode" in items and (text := self.reader.text(items["mode"], f"{prefix}'mode'")):
            modes = [m.value for m in CallbackMode]
            if text in modes:
                mode = CallbackMode(text)
            else:
                hint = did_you_mean(text, modes)
                self.reader.problem(
                    items["mode"].where,
                    f"{prefix}unknown mode '{text}'{hint} (use {', '.join(modes)})",
                )
        attempts = self.count(mapping, "max_attempts", prefix, default.max_attempts)
        retries = default.retry_after_minutes
        if "retry_after_minutes" in items:
            retries = self.retries(items["retry_after_minutes"], f"{prefix}'retry_after_minutes'")
        quiet = default.quiet_hours
        if "quiet_hours" in items:
            quiet = self.quiet_hours(items["quiet_hours"], f"{prefix}'quiet_hours'")
        sms = default.sms_confirmation
        if "sms_confirmation" in items:
            sms = self.yes_no(items["sms_confirmation"], f"{prefix}'sms_confirmation'")
        caller_id = default.caller_id
        if "caller_id" in items:
            caller_id = self.address("phone", items["caller_id"], f"{prefix}'caller_id'") or ""
        return QueueCallbacks(mode, attempts, retries, quiet, sms, caller_id, mapping.where)

    def retries(self, node: Node, what: str) -> tuple[int, ...]:
        """``[5, 15, 60]``: minutes before each retry, the last one repeating."""
        items = self.reader.sequence(node, what)
        if items is None:
            return QueueCallbacks().retry_after_minutes
        if not items.items:
            self.reader.problem(node.where, f"{what} is empty; list minutes like [5, 15, 60]")
        minutes = []
        for item in items.items:
            value = self.reader.integer(item, f"{what}: an item")
            if value is not None and value < 1:
                self.reader.problem(item.where, f"{what}: each must be more than 0, not {value}")
            elif value is not None:
                minutes.append(value)
        return tuple(minutes)

    def quiet_hours(self, node: Node, what: str) -> tuple[OpeningInterval, ...]:
        """``"21:00-08:00"``: local times in which nobody is rung."""
        text = self.reader.text(node, what)
        if text is None:
            return ()
        try:
            return parse_quiet_hours(text)
        except ValueError as error:
            self.reader.problem(node.where, f"{what}: {error}")
            return ()

    def yes_no(self, node: Node, what: str) -> bool:
        """``true`` or ``false``."""
        if isinstance(node, Scalar) and isinstance(node.value, bool):
            return node.value
        self.reader.problem(node.where, f"{what} should be true or false, not {describe(node)}")
        return False

    # --- agents ------------------------------------------------------------------------

    def address(self, kind: str, node: Node, what: str) -> str | None:
        """A phone number, ``sip:user@host`` or ``client:name``; the scheme may be left out."""
        text = self.reader.text(node, what)
        if text is None:
            return None
        text = text.strip()
        if kind != "phone" and not text.startswith(f"{kind}:"):
            text = f"{kind}:{text}"
        pattern, example = _FORMATS[kind]
        if not pattern.match(text):
            self.reader.problem(node.where, f"{what} must be {example}, not '{text}'")
            return None
        return text

    def agent(self, agent_id: str, node: Node, where: Location) -> tuple[Agent, Node] | None:
        """One agent and the node of its address, or None (reported)."""
        prefix = f"agent '{agent_id}': "
        mapping = self.reader.mapping(node, f"agent '{agent_id}'")
        if mapping is None:
            return None
        self.b.record(("agents", agent_id), mapping)
        self.reader.keys(mapping, AGENT_KEYS, prefix)
        name = agent_id
        if "name" in mapping.items:
            name = self.reader.text(mapping.items["name"], f"{prefix}'name'") or agent_id
        kinds = [key for key in ADDRESS_KEYS if key in mapping.items]
        if len(kinds) != 1:
            found = " and ".join(f"'{k}'" for k in kinds) if kinds else "none"
            self.reader.problem(
                where, f"{prefix}give exactly one of 'phone', 'sip' or 'client' (found {found})"
            )
        address = (
            self.address(kinds[0], mapping.items[kinds[0]], f"{prefix}'{kinds[0]}'")
            if len(kinds) == 1
            else None
        )
        queues = self.agent_queues(agent_id, mapping, prefix, where)
        shift = BusinessHours(self.hours.timezone)
        if "shift" in mapping.items:
            shift = self.hours_at(mapping.items["shift"], f"{prefix}'shift'")
        languages = self.agent_languages(mapping, prefix)
        if address is None:
            return None
        agent = Agent(agent_id, name, address, queues, shift, where, languages)
        return agent, mapping.items[kinds[0]]

    def agent_languages(self, mapping: Map, prefix: str) -> tuple[str, ...]:
        """``languages: [cs, en]``, each one of the flow's; ``()`` if none (the flow's default)."""
        node = mapping.items.get("languages")
        if node is None:
            return ()
        empty = "'languages' is empty; list those they speak, like [en]"
        listed = self.reader.distinct(node, "'languages'", "language", empty, prefix)
        for language, item in listed:
            self.b.listed(language, item.where, f"{prefix}'languages'")
        return tuple(language for language, _ in listed)

    def agent_queues(
        self, agent_id: str, mapping: Map, prefix: str, where: Location
    ) -> tuple[str, ...]:
        """The queues an agent answers, each line recorded for the validator."""
        node = self.reader.require(mapping, "queues", prefix, at=where)
        if node is None:
            return ()
        empty = "'queues' is empty; list the queues they answer, like [general]"
        listed = self.reader.distinct(node, "'queues'", "queue", empty, prefix)
        for queue, item in listed:
            self.b.src.lines[("agents", agent_id, "queues", queue)] = item.where
        return tuple(queue for queue, _ in listed)


def build_people(
    b: SectionBuilder, hours: BusinessHours, policy: CallbackPolicy
) -> tuple[dict[str, Queue], dict[str, Agent]]:
    """The ``queues`` and ``agents`` sections, in file order, problems reported to ``b``.

    ``hours`` and ``policy`` are the flow's: a queue without its own hours or wait limit
    uses them, and hours without a time zone use the flow's zone.
    """
    people = _PeopleBuilder(b, hours, policy)
    queues: dict[str, Queue] = {}
    for name, (node, where) in b.named("queues").items():
        queue = people.queue(name, node, where)
        if queue is None:
            b.src.broken.add(("queues", name))
        else:
            queues[name] = queue
    agents: dict[str, Agent] = {}
    owners: dict[str, Agent] = {}
    for agent_id, (node, where) in b.named("agents").items():
        built = people.agent(agent_id, node, where)
        if built is None:
            b.src.broken.add(("agents", agent_id))
            continue
        agent, address_node = built
        other = owners.setdefault(agent.address, agent)
        if other is not agent:
            same_file = other.where.file == address_node.where.file
            first = f"line {other.where.line}" if same_file else str(other.where)
            b.reader.problem(
                address_node.where,
                f"agent '{agent_id}': '{agent.address}' is also the address of agent "
                f"'{other.id}' ({first})",
            )
        agents[agent_id] = agent
    return queues, agents
