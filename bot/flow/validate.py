"""Cross-checks on a built :class:`Flow`: every problem at once, each at its ``file:line``.

The loader checks shape (keys, types); this module checks meaning: targets, intents, reach,
languages, placeholders and ranges. It works on any :class:`Flow`; given the loader's
:class:`Sources` it can point at the exact line of each key instead of the step's line.
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.flow.errors import FlowProblem
from bot.flow.model import (
    NOWHERE,
    SYSTEM_PROMPTS,
    AskStep,
    CallbackStep,
    CollectStep,
    ConfirmStep,
    Flow,
    GlobalAction,
    Intent,
    Location,
    Prompt,
    SayStep,
    SlotType,
    Step,
    TransferStep,
    annotated_entities,
)
from bot.flow.yaml_lines import did_you_mean

#: Rasa's entity mark-up in an example: ``[12345678](account_number)``.
MIN_EXAMPLES = 5


class Edge(NamedTuple):
    """A way out of a step: ``field`` (next, yes, no, routes) leads to ``target``."""

    field: str
    target: str
    intent: str | None = None  # for routes


@dataclass
class Sources:
    """What the loader knows beyond the typed flow: lines of keys and half-built things.

    ``broken`` holds (section, name) pairs that were declared but could not be built (their
    problems are already reported); references to them are not reported again.
    ``broken_edges`` keeps the ways out of broken steps so their successors still count as
    reachable.
    """

    lines: dict[tuple[str, ...], Location] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(default_factory=set)
    broken_edges: dict[str, list[Edge]] = field(default_factory=dict)
    default: Location = NOWHERE

    def at(self, *path: str, fallback: Location | None = None) -> Location:
        """The line of ``path`` (like ``("steps", "welcome", "next")``), else ``fallback``."""
        return self.lines.get(path, fallback or self.default)


def step_edges(step: Step) -> list[Edge]:
    """The ways out of a typed step."""
    if isinstance(step, SayStep | CollectStep):
        return [Edge("next", step.next)]
    if isinstance(step, AskStep):
        return [Edge("routes", target, intent) for intent, target in step.routes.items()]
    if isinstance(step, ConfirmStep):
        return [Edge("yes", step.yes), Edge("no", step.no)]
    return []


def validate(flow: Flow, sources: Sources | None = None) -> list[FlowProblem]:
    """Every meaning problem of ``flow``, sorted by file and line."""
    checker = _Checker(flow, sources or Sources())
    checker.run()
    return sorted(checker.problems, key=lambda p: p.location)


class _Checker:
    def __init__(self, flow: Flow, sources: Sources) -> None:
        self.flow, self.src = flow, sources
        self.problems: list[FlowProblem] = []
        self.step_ids = set(flow.steps) | self._broken("steps")
        self.intents = set(flow.intents) | self._broken("intents")

    def _broken(self, section: str) -> set[str]:
        return {name for kind, name in self.src.broken if kind == section}

    def add(self, where: Location, message: str, step: str | None = None) -> None:
        self.problems.append(FlowProblem(where, step, message))

    def run(self) -> None:
        self.languages()
        self.targets()
        self.reach()
        self.prompts()
        self.intent_examples()
        self.slots()
        self.policies()
        self.people()

    def languages(self) -> None:
        flow = self.flow
        if flow.languages and flow.default_language not in flow.languages:
            self.add(
                self.src.at("default_language"),
                f"default_language '{flow.default_language}' is not one of the languages "
                f"({', '.join(flow.languages)})",
            )

    def _unknown_step(self, target: str) -> str:
        return f"unknown step '{target}'{did_you_mean(target, self.step_ids)}"

    def edges(self) -> Iterator[tuple[str, Location, Edge]]:
        """Every edge with its step id and the step's line, built or broken."""
        for step in self.flow.steps.values():
            for edge in step_edges(step):
                yield step.id, step.where, edge
        for step_id, edges in self.src.broken_edges.items():
            for edge in edges:
                yield step_id, self.src.at("steps", step_id), edge

    def targets(self) -> None:
        if self.flow.start and self.flow.start not in self.step_ids:
            self.add(
                self.src.at("start"), f"'start' points to {self._unknown_step(self.flow.start)}"
            )
        for step_id, step_where, edge in self.edges():
            if edge.intent is not None:
                where = self.src.at("steps", step_id, "routes", edge.intent, fallback=step_where)
                if edge.intent not in self.intents:
                    hint = did_you_mean(edge.intent, self.intents)
                    self.add(where, f"routes: unknown intent '{edge.intent}'{hint}", step_id)
                if edge.target not in self.step_ids:
                    message = f"route '{edge.intent}' points to {self._unknown_step(edge.target)}"
                    self.add(where, message, step_id)
            elif edge.target not in self.step_ids:
                where = self.src.at("steps", step_id, edge.field, fallback=step_where)
                self.add(
                    where, f"'{edge.field}' points to {self._unknown_step(edge.target)}", step_id
                )
        for name, glob in self.flow.global_intents.items():
            if name not in self.intents:
                hint = did_you_mean(name, self.intents)
                self.add(glob.where, f"global_intents: unknown intent '{name}'{hint}")
            if glob.action is GlobalAction.GOTO and glob.target not in self.step_ids:
                where = self.src.at("global_intents", name, "goto", fallback=glob.where)
                target = self._unknown_step(glob.target or "")
                self.add(where, f"global intent '{name}': 'goto' points to {target}")

    def reach(self) -> None:
        """Steps nobody can get to: breadth-first from start and from global ``goto``s."""
        targets = [edge.target for _, _, edge in self.edges()] + [
            g.target for g in self.flow.global_intents.values() if g.target is not None
        ]
        dangling = any(target not in self.step_ids for target in targets)
        if self.flow.start not in self.step_ids or self._broken("steps") or dangling:
            # Already reported: an unknown start or target, or a broken step whose ways out
            # may be missing, would make every step after it look unreachable too.
            return
        graph: dict[str, list[str]] = {}
        for step_id, _, edge in self.edges():
            graph.setdefault(step_id, []).append(edge.target)
        roots = [self.flow.start] + [
            g.target for g in self.flow.global_intents.values() if g.target is not None
        ]
        seen = set(roots)
        queue = deque(roots)
        while queue:
            for target in graph.get(queue.popleft(), []):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        for step in self.flow.steps.values():
            if step.id not in seen:
                self.add(
                    step.where,
                    "is never reached: no step or global intent leads to it from 'start'",
                    step.id,
                )

    def _placeholders(self, prompt: Prompt, allowed: set[str]) -> Iterator[tuple[str, str]]:
        for language, text in prompt.text.items():
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            except ValueError:
                yield language, f"the '{language}' text has an unmatched '{{' or '}}'"
                continue
            for name in sorted(names - allowed):
                yield (
                    language,
                    (
                        f"the '{language}' text uses {{{name}}}, but there is no slot "
                        f"'{name}'{did_you_mean(name, allowed)}"
                    ),
                )

    def _prompt(self, prompt: Prompt, label: str, step: str | None, extra: frozenset[str]) -> None:
        for language in self.flow.languages:
            if language not in prompt.text:
                self.add(prompt.where, f"{label} has no text for language '{language}'", step)
        for language, message in self._placeholders(prompt, set(self.flow.slots) | extra):
            where = self.src.at("prompt", prompt.id, language, fallback=prompt.where)
            self.add(where, f"{label}: {message}", step)

    def prompts(self) -> None:
        """Texts for every language, and placeholders that name real slots."""
        extras: dict[str, frozenset[str]] = {}
        for system_id, prompt in self.flow.system_prompts.items():
            extras[prompt.id] = extras.get(prompt.id, frozenset()) | SYSTEM_PROMPTS.get(
                system_id, frozenset()
            )
        for prompt in self.flow.all_prompts():
            extra = extras.get(prompt.id, frozenset())
            if prompt.id.startswith("step:"):
                _, step_id, key = prompt.id.split(":", 2)
                self._prompt(prompt, f"'{key}'", step_id, extra)
            elif prompt.id.startswith("system:"):
                self._prompt(prompt, f"system prompt '{prompt.id[7:]}'", None, extra)
            elif prompt.id.startswith("global:"):
                self._prompt(
                    prompt, f"global intent '{prompt.id.split(':')[1]}': 'say'", None, extra
                )
            else:
                self._prompt(prompt, f"prompt '{prompt.id}'", None, extra)
        for system_id in SYSTEM_PROMPTS:
            if (
                system_id not in self.flow.system_prompts
                and ("system_prompts", system_id) not in self.src.broken
            ):
                self.add(
                    self.src.at("system_prompts"),
                    f"system prompt '{system_id}' is missing; the engine needs it",
                )

    def intent_examples(self) -> None:
        for intent in self.flow.intents.values():
            label = self.src.at("intents", intent.name, "label", fallback=intent.where)
            for language in self.flow.languages:
                prefix = f"intent '{intent.name}': "
                if language not in intent.label:
                    self.add(label, f"{prefix}'label' has no text for language '{language}'")
                examples = intent.examples.get(language, ())
                where = self.src.at(
                    "intents", intent.name, "examples", language, fallback=intent.where
                )
                if not examples:
                    self.add(
                        where, f"{prefix}language '{language}' is declared but has no examples"
                    )
                elif len(examples) < MIN_EXAMPLES:
                    self.add(
                        where,
                        f"{prefix}{len(examples)} examples in '{language}'; "
                        f"at least {MIN_EXAMPLES} are needed",
                    )
            for language, examples in intent.examples.items():
                for index, example in enumerate(examples):
                    self._entities(intent, language, index, example)

    def _entities(self, intent: Intent, language: str, index: int, example: str) -> None:
        for name in annotated_entities(example):
            if name not in self.flow.slots:
                path = ("intents", intent.name, "examples", language, str(index))
                where = self.src.at(*path, fallback=intent.where)
                hint = did_you_mean(name, self.flow.slots)
                message = f"intent '{intent.name}': example marks unknown slot '{name}'{hint}"
                self.add(where, message)

    def slots(self) -> None:
        for slot in self.flow.slots.values():
            prefix = f"slot '{slot.name}': "
            for key in ("min_length", "max_length"):
                value = getattr(slot, key)
                where = self.src.at("slots", slot.name, key, fallback=slot.where)
                if value is None:
                    continue
                if slot.type is not SlotType.DIGITS:
                    self.add(
                        where, f"{prefix}'{key}' only applies to digits slots, not {slot.type}"
                    )
                elif value < 1:
                    self.add(where, f"{prefix}'{key}' must be at least 1, not {value}")
            low, high = slot.min_length, slot.max_length
            if low is not None and high is not None and low > high:
                self.add(
                    self.src.at("slots", slot.name, "min_length", fallback=slot.where),
                    f"{prefix}min_length {low} is more than max_length {high}",
                )
        slots = set(self.flow.slots) | self._broken("slots")
        for step in self.flow.steps.values():
            if isinstance(step, CollectStep) and step.slot not in slots:
                where = self.src.at("steps", step.id, "collect", fallback=step.where)
                hint = did_you_mean(step.slot, slots)
                self.add(where, f"collects unknown slot '{step.slot}'{hint}", step.id)

    def policies(self) -> None:
        esc = self.flow.escalation
        rules: list[tuple[str, float, bool, str]] = [
            (
                "confidence_threshold",
                esc.confidence_threshold,
                0 < esc.confidence_threshold < 1,
                "between 0 and 1 (not equal)",
            ),
            ("margin", esc.margin, 0 <= esc.margin < 1, "at least 0 and below 1"),
            (
                "clarifying_questions",
                esc.clarifying_questions,
                0 <= esc.clarifying_questions <= 3,
                "0 to 3",
            ),
            (
                "misunderstandings_before_person",
                esc.misunderstandings_before_person,
                1 <= esc.misunderstandings_before_person <= 5,
                "1 to 5",
            ),
            (
                "silences_before_person",
                esc.silences_before_person,
                1 <= esc.silences_before_person <= 5,
                "1 to 5",
            ),
        ]
        for key, value, ok, allowed in rules:
            if not ok:
                where = self.src.at("escalation", key, fallback=esc.where)
                self.add(where, f"escalation: '{key}' must be {allowed}, not {value:g}")
        wait = self.flow.callbacks.max_expected_wait_seconds
        if wait <= 0:
            where = self.src.at(
                "callbacks", "max_expected_wait_seconds", fallback=self.flow.callbacks.where
            )
            self.add(
                where, f"callbacks: 'max_expected_wait_seconds' must be more than 0, not {wait}"
            )

    def people(self) -> None:
        """Queues named by agents must be declared; by steps and escalation too, once any is."""
        declared = set(self.flow.queues) | self._broken("queues")

        def check(queue: str, where: Location, prefix: str = "", step: str | None = None) -> None:
            if queue not in declared:
                hint = did_you_mean(queue, declared)
                self.add(where, f"{prefix}queue '{queue}' is not declared{hint}", step)

        for agent in self.flow.agents.values():
            for queue in agent.queues:
                where = self.src.at("agents", agent.id, "queues", queue, fallback=agent.where)
                check(queue, where, f"agent '{agent.id}': ")
        if not declared:
            return  # no queues section: steps may name any queue, as before people.yaml
        for step in self.flow.steps.values():
            if isinstance(step, TransferStep | CallbackStep) and step.queue is not None:
                key = "transfer" if isinstance(step, TransferStep) else "callback"
                where = self.src.at("steps", step.id, key, fallback=step.where)
                check(step.queue, where, "", step.id)
        esc = self.flow.escalation
        # No escalation section: the default queue 'general' is reported at the flow's start.
        fallback = esc.where if esc.where != NOWHERE else None
        where = self.src.at("escalation", "person_queue", fallback=fallback)
        check(esc.person_queue, where, "escalation: 'person_queue': ")
