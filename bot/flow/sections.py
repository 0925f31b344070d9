"""Build a flow's named sections (prompts, intents, slots and steps) into model objects."""

from __future__ import annotations

from bot.flow.model import (
    AskStep,
    CallbackStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    Intent,
    Location,
    Prompt,
    SayStep,
    Slot,
    SlotType,
    Step,
    TransferStep,
)
from bot.flow.validate import Edge, Sources
from bot.flow.yaml_lines import Map, Node, Reader, Scalar, did_you_mean

#: Named sections as merged from every file: section, then name, then (value, line of the name).
NamedSections = dict[str, dict[str, tuple[Node, Location]]]


class SectionBuilder:
    """Turns merged sections into model objects, recording lines and half-built names.

    Build the prompts first: every other section may name them. ``languages`` are the flow's
    own; a text in any other language is a problem (empty when they are unknown: no check).
    """

    def __init__(
        self, named: NamedSections, reader: Reader, sources: Sources, languages: tuple[str, ...]
    ) -> None:
        self.sections, self.reader, self.src = named, reader, sources
        self.languages = languages
        self.prompts: dict[str, Prompt] = {}

    def named(self, section: str) -> dict[str, tuple[Node, Location]]:
        """The entries of a named section, like ``"steps"``, with the line of each name."""
        return self.sections.get(section, {})

    def record(self, path: tuple[str, ...], node: Map) -> None:
        """Remember the line of each key of ``node`` under ``path``, for the validator."""
        for key, where in node.key_at.items():
            self.src.lines[(*path, key)] = where

    def texts(
        self, node: Node, what: str, step: str | None = None, prompt_id: str = ""
    ) -> dict[str, str] | None:
        """A per-language mapping of texts, like ``{en: "Hello"}``."""
        mapping = self.reader.mapping(node, what, step)
        if mapping is None:
            return None
        texts: dict[str, str] = {}
        for language, value in mapping.items.items():
            self.src.lines[("prompt", prompt_id, language)] = value.where
            self.listed(language, mapping.key_at[language], what, step)
            text = self.reader.text(value, f"{what}: '{language}'", step)
            if text is not None:
                texts[language] = text
        return texts

    def listed(self, language: str, where: Location, what: str, step: str | None = None) -> None:
        """Report a text in a language the flow does not list, like ``ne:`` for ``en:``."""
        if self.languages and language not in self.languages:
            listed = ", ".join(self.languages)
            hint = did_you_mean(language, self.languages)
            message = f"{what}: language '{language}' is not in languages [{listed}]{hint}"
            self.reader.problem(where, message, step)

    def prompt(
        self, node: Node, inline_id: str, what: str, step: str | None = None
    ) -> Prompt | None:
        """A prompt id, or the texts inline (given the stable id ``inline_id``)."""
        if isinstance(node, Map):
            texts = self.texts(node, what, step, inline_id)
            return Prompt(inline_id, texts, node.where) if texts is not None else None
        name = self.reader.text(node, what, step)
        if name is None:
            return None
        if name in self.prompts:
            return self.prompts[name]
        if ("prompts", name) not in self.src.broken:
            hint = did_you_mean(name, self.prompts)
            self.reader.problem(node.where, f"{what}: unknown prompt '{name}'{hint}", step)
        return None

    def build_prompts(self) -> None:
        """Build the ``prompts`` section; do it first, as other sections name prompts."""
        for name, (node, where) in self.named("prompts").items():
            texts = self.texts(node, f"prompt '{name}'", prompt_id=name)
            if texts is None:
                self.src.broken.add(("prompts", name))
            else:
                self.prompts[name] = Prompt(name, texts, where)

    def build_slots(self) -> dict[str, Slot]:
        """The ``slots`` section, by name."""
        slots: dict[str, Slot] = {}
        for name, (node, where) in self.named("slots").items():
            prefix = f"slot '{name}': "
            mapping = self.reader.mapping(node, f"slot '{name}'")
            kind = self.reader.require(mapping, "type", prefix, at=where) if mapping else None
            type_name = self.reader.text(kind, f"{prefix}'type'") if kind else None
            if mapping is None or kind is None or type_name is None:
                self.src.broken.add(("slots", name))
                continue
            self.record(("slots", name), mapping)
            self.reader.keys(mapping, ("type", "min_length", "max_length"), prefix)
            lengths: dict[str, int | None] = {}
            for key in ("min_length", "max_length"):
                value = mapping.items.get(key)
                lengths[key] = self.reader.integer(value, f"{prefix}'{key}'") if value else None
            try:
                slot_type = SlotType(type_name)
            except ValueError:
                hint = did_you_mean(type_name, [t.value for t in SlotType])
                types = ", ".join(t.value for t in SlotType)
                self.reader.problem(
                    kind.where, f"{prefix}unknown type '{type_name}'{hint} (use {types})"
                )
                self.src.broken.add(("slots", name))
                continue
            slots[name] = Slot(name, slot_type, lengths["min_length"], lengths["max_length"], where)
        return slots

    def build_intents(self) -> dict[str, Intent]:
        """The ``intents`` section, by name."""
        intents: dict[str, Intent] = {}
        for name, (node, where) in self.named("intents").items():
            prefix = f"intent '{name}': "
            mapping = self.reader.mapping(node, f"intent '{name}'")
            if mapping is None:
                self.src.broken.add(("intents", name))
                continue
            self.record(("intents", name), mapping)
            self.reader.keys(mapping, ("label", "examples"), prefix)
            label_node = self.reader.require(mapping, "label", prefix, at=where)
            label = self.texts(label_node, f"{prefix}'label'") if label_node else None
            examples_node = self.reader.require(mapping, "examples", prefix, at=where)
            examples = self.examples(name, examples_node) if examples_node else None
            if label is None or examples is None:
                self.src.broken.add(("intents", name))
                continue
            intents[name] = Intent(name, label, examples, where)
        return intents

    def examples(self, intent: str, node: Node) -> dict[str, tuple[str, ...]] | None:
        """An intent's examples by language, like ``{en: ["my bill", ...]}``."""
        what = f"intent '{intent}': 'examples'"
        mapping = self.reader.mapping(node, what)
        if mapping is None:
            return None
        examples: dict[str, tuple[str, ...]] = {}
        for language, value in mapping.items.items():
            self.src.lines[("intents", intent, "examples", language)] = mapping.key_at[language]
            self.listed(language, mapping.key_at[language], what)
            items = self.reader.sequence(value, f"{what}: '{language}'")
            texts = []
            for index, item in enumerate(items.items if items else ()):
                self.src.lines[("intents", intent, "examples", language, str(index))] = item.where
                text = self.reader.text(item, f"{what}: '{language}': an example")
                if text is not None:
                    texts.append(text)
            examples[language] = tuple(texts)
        return examples

    # --- steps ---------------------------------------------------------------------------

    def build_steps(self) -> dict[str, Step]:
        """The ``steps`` section, by id; broken steps keep their ways out in the sources."""
        steps: dict[str, Step] = {}
        for step_id, (node, where) in self.named("steps").items():
            self.src.lines[("steps", step_id)] = where
            mapping = self.reader.mapping(node, "the step", step_id)
            step = self.step(step_id, mapping, where) if mapping else None
            if step is None:
                self.src.broken.add(("steps", step_id))
                self.src.broken_edges[step_id] = _raw_edges(mapping) if mapping else []
            else:
                steps[step_id] = step
        return steps

    def step(self, step_id: str, node: Map, where: Location) -> Step | None:
        """One step: find its kind, check its keys, then build it with that kind's builder."""
        self.record(("steps", step_id), node)
        for intent, intent_where in _routes(node).key_at.items():
            self.src.lines[("steps", step_id, "routes", intent)] = intent_where
        kinds = [key for key in node.items if key in STEP_KEYS]
        if "say" in kinds and ("transfer" in kinds or "callback" in kinds):
            kinds.remove("say")  # there `say` is what is said before, not the kind
        if not kinds:
            choices = ", ".join(STEP_KEYS)
            self.reader.problem(where, f"has no kind: give it one of {choices}", step_id)
            return None
        if len(kinds) > 1:
            both = " and ".join(f"'{k}'" for k in kinds)
            self.reader.problem(where, f"has two kinds, {both}; a step does one thing", step_id)
            return None
        kind = kinds[0]
        allowed = STEP_KEYS[kind]
        for key, key_where in node.key_at.items():
            if key not in allowed:
                hint = "" if key in ALL_STEP_KEYS else did_you_mean(key, allowed)
                self.reader.problem(key_where, f"{_a(kind)} step has no key '{key}'{hint}", step_id)
        values: dict[str, Node] = {}
        for key in allowed:
            if key in node.items:
                values[key] = node.items[key]
            elif key not in OPTIONAL_STEP_KEYS:
                self.reader.problem(where, f"'{key}' is missing; {_a(kind)} step needs it", step_id)
        return _STEP_BUILDERS[kind](self, step_id, where, values)

    def target(self, values: dict[str, Node], key: str, step_id: str) -> str | None:
        """The text at ``key`` (a step id, slot, queue or reason), if the step has it."""
        return self.reader.text(values[key], f"'{key}'", step_id) if key in values else None

    def step_prompt(self, values: dict[str, Node], key: str, step_id: str) -> Prompt | None:
        """The prompt at ``key``, named or inline, if the step has it."""
        if key not in values:
            return None
        return self.prompt(values[key], f"step:{step_id}:{key}", f"'{key}'", step_id)

    def routes(self, values: dict[str, Node], step_id: str) -> dict[str, str] | None:
        """An ask step's ``routes``: intent to step id."""
        if "routes" not in values:
            return None
        mapping = self.reader.mapping(values["routes"], "'routes'", step_id)
        if mapping is None:
            return None
        routes = {}
        for intent, node in mapping.items.items():
            target = self.reader.text(node, f"route '{intent}'", step_id)
            if target is not None:
                routes[intent] = target
        return routes

    def destination(self, values: dict[str, Node], step_id: str) -> tuple[str | None, str | None]:
        """``transfer: QUEUE``, ``{queue: Q}`` or ``{number: N}`` as (queue, number)."""
        node = values.get("transfer")
        if not isinstance(node, Map):
            return (self.target(values, "transfer", step_id), None)
        self.reader.keys(node, ("queue", "number"), "transfer: ", step_id)
        found = [key for key in ("queue", "number") if key in node.items]
        if len(found) != 1:
            self.reader.problem(
                node.where, "'transfer' needs exactly one of 'queue' or 'number'", step_id
            )
            return (None, None)
        text = self.reader.text(node.items[found[0]], f"transfer: '{found[0]}'", step_id)
        return (text, None) if found[0] == "queue" else (None, text)


def _say(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, next_ = b.step_prompt(v, "say", step_id), b.target(v, "next", step_id)
    return SayStep(step_id, where, prompt, next_) if prompt and next_ else None


def _ask(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, routes = b.step_prompt(v, "ask", step_id), b.routes(v, step_id)
    reprompt = b.step_prompt(v, "reprompt", step_id)
    return (
        AskStep(step_id, where, prompt, routes, reprompt) if prompt and routes is not None else None
    )


def _collect(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    slot, next_ = b.target(v, "collect", step_id), b.target(v, "next", step_id)
    prompt, reprompt = b.step_prompt(v, "prompt", step_id), b.step_prompt(v, "reprompt", step_id)
    if slot and prompt and next_:
        return CollectStep(step_id, where, slot, prompt, next_, reprompt)
    return None


def _confirm(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, reprompt = b.step_prompt(v, "confirm", step_id), b.step_prompt(v, "reprompt", step_id)
    yes, no = b.target(v, "yes", step_id), b.target(v, "no", step_id)
    return ConfirmStep(step_id, where, prompt, yes, no, reprompt) if prompt and yes and no else None


def _transfer(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    queue, number = b.destination(v, step_id)
    reason, prompt = b.target(v, "reason", step_id), b.step_prompt(v, "say", step_id)
    if (queue or number) and reason:
        return TransferStep(step_id, where, queue, number, reason, prompt)
    return None


def _callback(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    queue, reason = b.target(v, "callback", step_id), b.target(v, "reason", step_id)
    prompt = b.step_prompt(v, "say", step_id)
    return CallbackStep(step_id, where, queue, reason, prompt) if queue and reason else None


def _end(b: SectionBuilder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt = b.step_prompt(v, "end", step_id)
    return EndStep(step_id, where, prompt) if prompt else None


#: Each kind of step: its keys (the kind first), and how to build it.
STEP_KEYS: dict[str, tuple[str, ...]] = {
    "say": ("say", "next"),
    "ask": ("ask", "routes", "reprompt"),
    "collect": ("collect", "prompt", "next", "reprompt"),
    "confirm": ("confirm", "yes", "no", "reprompt"),
    "transfer": ("transfer", "reason", "say"),
    "callback": ("callback", "reason", "say"),
    "end": ("end",),
}
_STEP_BUILDERS = {
    "say": _say,
    "ask": _ask,
    "collect": _collect,
    "confirm": _confirm,
    "transfer": _transfer,
    "callback": _callback,
    "end": _end,
}
ALL_STEP_KEYS = frozenset(key for keys in STEP_KEYS.values() for key in keys)
OPTIONAL_STEP_KEYS = frozenset({"reprompt", "say"})  # `say` is the kind of a say step


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _routes(node: Map) -> Map:
    routes = node.items.get("routes")
    return routes if isinstance(routes, Map) else Map(node.where)


def _raw_edges(node: Map) -> list[Edge]:
    """The ways out of a step that could not be built, so its successors still count."""
    edges = [
        Edge(key, value.text)
        for key in ("next", "yes", "no")
        if isinstance(value := node.items.get(key), Scalar)
    ]
    for intent, value in _routes(node).items.items():
        if isinstance(value, Scalar):
            edges.append(Edge("routes", value.text, intent))
    return edges
