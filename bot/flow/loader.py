"""Load a flow folder (or one file) into the typed :class:`Flow`, with every problem found.

Files are parsed once, merged by section (named sections merge, single sections live in one
file), built into the frozen model objects, then handed to :func:`validate`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.flow.errors import FlowError, FlowProblem, display_path
from bot.flow.hours import read_business_hours
from bot.flow.model import (
    SYSTEM_PROMPTS,
    AfterSilence,
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
    Prompt,
    SayStep,
    Slot,
    SlotType,
    Step,
    TransferStep,
)
from bot.flow.validate import Edge, Sources, validate
from bot.flow.yaml_lines import Map, Node, Reader, Scalar, did_you_mean, parse_yaml

SINGLE = (
    "name",
    "languages",
    "default_language",
    "start",
    "system_prompts",
    "global_intents",
    "escalation",
    "business_hours",
    "callbacks",
)
NAMED = {"prompts": "prompt", "intents": "intent", "slots": "slot", "steps": "step"}
TOP_KEYS = ("version", *SINGLE, *NAMED)
REQUIRED = ("name", "languages", "start", "system_prompts")
SUFFIXES = (".yaml", ".yml")


def flow_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files that make up the flow at ``path``: a file, or the YAML directly in a folder."""
    root = Path(path)
    if root.is_dir():
        # Only files directly inside: flows/tests/ holds conversation tests, not the flow.
        return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in SUFFIXES)
    return [root]


@dataclass
class _Merged:
    """Sections of every file: single ones by section, named ones by section and name."""

    single: dict[str, tuple[Node, Location]] = field(default_factory=dict)
    named: dict[str, dict[str, tuple[Node, Location]]] = field(default_factory=dict)


def _read_file(path: Path, merged: _Merged, reader: Reader) -> bool:
    """Merge one file's sections; False when the file could not be read or parsed at all."""
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        reader.problem(Location(file, 1), f"cannot read the file: {reason}")
        return False
    root, problems = parse_yaml(text, file)
    reader.problems.extend(problems)
    if root is None and problems:
        return False
    if root is None:
        root = Map(Location(file, 1))
    if not isinstance(root, Map):
        reader.problem(root.where, "a flow file should be a mapping of sections like 'steps:'")
        return False
    if "version" not in root.items:
        reader.problem(
            Location(file, 1), "'version' is missing; every flow file starts with 'version: 1'"
        )
    else:
        version = reader.integer(root.items["version"], "'version'")
        if version is not None and version != 1:
            reader.problem(root.items["version"].where, f"'version' must be 1, not {version}")
    reader.keys(root, TOP_KEYS)
    for section, value in root.items.items():
        where = root.key_at[section]
        if section in SINGLE:
            if section in merged.single:
                first = merged.single[section][1]
                reader.problem(
                    where, f"'{section}' is already set at {first}; it may appear in only one file"
                )
            else:
                merged.single[section] = (value, where)
        elif section in NAMED:
            items = reader.mapping(value, f"'{section}'")
            for name, node in items.items.items() if items else ():
                name_where = items.key_at[name] if items else where
                seen = merged.named.setdefault(section, {})
                if name in seen:
                    kind = NAMED[section]
                    reader.problem(
                        name_where, f"{kind} '{name}' is defined twice (first at {seen[name][1]})"
                    )
                else:
                    seen[name] = (node, name_where)
    return True


class _Builder:
    """Turns merged sections into model objects, recording lines and half-built names."""

    def __init__(self, merged: _Merged, reader: Reader, sources: Sources) -> None:
        self.merged, self.reader, self.src = merged, reader, sources
        self.prompts: dict[str, Prompt] = {}

    def named(self, section: str) -> dict[str, tuple[Node, Location]]:
        return self.merged.named.get(section, {})

    def record(self, path: tuple[str, ...], node: Map) -> None:
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
            text = self.reader.text(value, f"{what}: '{language}'", step)
            if text is not None:
                texts[language] = text
        return texts

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
        for name, (node, where) in self.named("prompts").items():
            texts = self.texts(node, f"prompt '{name}'", prompt_id=name)
            if texts is None:
                self.src.broken.add(("prompts", name))
            else:
                self.prompts[name] = Prompt(name, texts, where)

    def build_slots(self) -> dict[str, Slot]:
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
        what = f"intent '{intent}': 'examples'"
        mapping = self.reader.mapping(node, what)
        if mapping is None:
            return None
        examples: dict[str, tuple[str, ...]] = {}
        for language, value in mapping.items.items():
            self.src.lines[("intents", intent, "examples", language)] = mapping.key_at[language]
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
        return self.reader.text(values[key], f"'{key}'", step_id) if key in values else None

    def step_prompt(self, values: dict[str, Node], key: str, step_id: str) -> Prompt | None:
        if key not in values:
            return None
        return self.prompt(values[key], f"step:{step_id}:{key}", f"'{key}'", step_id)

    def routes(self, values: dict[str, Node], step_id: str) -> dict[str, str] | None:
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


def _say(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, next_ = b.step_prompt(v, "say", step_id), b.target(v, "next", step_id)
    return SayStep(step_id, where, prompt, next_) if prompt and next_ else None


def _ask(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, routes = b.step_prompt(v, "ask", step_id), b.routes(v, step_id)
    reprompt = b.step_prompt(v, "reprompt", step_id)
    return (
        AskStep(step_id, where, prompt, routes, reprompt) if prompt and routes is not None else None
    )


def _collect(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    slot, next_ = b.target(v, "collect", step_id), b.target(v, "next", step_id)
    prompt, reprompt = b.step_prompt(v, "prompt", step_id), b.step_prompt(v, "reprompt", step_id)
    if slot and prompt and next_:
        return CollectStep(step_id, where, slot, prompt, next_, reprompt)
    return None


def _confirm(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    prompt, reprompt = b.step_prompt(v, "confirm", step_id), b.step_prompt(v, "reprompt", step_id)
    yes, no = b.target(v, "yes", step_id), b.target(v, "no", step_id)
    return ConfirmStep(step_id, where, prompt, yes, no, reprompt) if prompt and yes and no else None


def _transfer(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    queue, number = b.destination(v, step_id)
    reason, prompt = b.target(v, "reason", step_id), b.step_prompt(v, "say", step_id)
    if (queue or number) and reason:
        return TransferStep(step_id, where, queue, number, reason, prompt)
    return None


def _callback(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
    queue, reason = b.target(v, "callback", step_id), b.target(v, "reason", step_id)
    prompt = b.step_prompt(v, "say", step_id)
    return CallbackStep(step_id, where, queue, reason, prompt) if queue and reason else None


def _end(b: _Builder, step_id: str, where: Location, v: dict[str, Node]) -> Step | None:
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


# --- single sections ----------------------------------------------------------------------


def _system_prompts(b: _Builder, node: Node) -> dict[str, Prompt]:
    mapping = b.reader.mapping(node, "'system_prompts'")
    if mapping is None:
        return {}
    b.reader.keys(mapping, SYSTEM_PROMPTS, "system_prompts: ")
    prompts = {}
    for name, value in mapping.items.items():
        if name in SYSTEM_PROMPTS:
            prompt = b.prompt(value, f"system:{name}", f"system prompt '{name}'")
            if prompt is None:
                b.src.broken.add(("system_prompts", name))
            else:
                prompts[name] = prompt
    return prompts


def _global_intents(b: _Builder, node: Node) -> dict[str, GlobalIntent]:
    mapping = b.reader.mapping(node, "'global_intents'")
    if mapping is None:
        return {}
    result: dict[str, GlobalIntent] = {}
    for intent, value in mapping.items.items():
        spec = b.reader.mapping(value, f"global intent '{intent}'")
        built = _global_intent(b, intent, spec, mapping.key_at[intent]) if spec else None
        if built is not None:
            result[intent] = built
    return result


def _global_intent(b: _Builder, intent: str, spec: Map, where: Location) -> GlobalIntent | None:
    """``{action: person|repeat|help, say: PROMPT}`` or ``{goto: STEP}``."""
    prefix = f"global intent '{intent}': "
    b.record(("global_intents", intent), spec)
    b.reader.keys(spec, ("action", "say", "goto"), prefix)
    names = [a.value for a in GlobalAction]
    action = GlobalAction.GOTO if "goto" in spec.items else None
    if "action" in spec.items:
        name = b.reader.text(spec.items["action"], f"{prefix}'action'")
        if name is None:
            return None
        if name not in names:
            hint = did_you_mean(name, names)
            message = f"{prefix}unknown action '{name}'{hint} (use {', '.join(names)})"
            b.reader.problem(spec.items["action"].where, message)
            return None
        action = GlobalAction(name)
    if action is None:
        b.reader.problem(where, f"{prefix}'action' is missing (use {', '.join(names)})")
        return None
    target = prompt = None
    if "goto" in spec.items:
        target = b.reader.text(spec.items["goto"], f"{prefix}'goto'")
    if "say" in spec.items:
        prompt = b.prompt(spec.items["say"], f"global:{intent}:say", f"{prefix}'say'")
    needs = {GlobalAction.GOTO: ("goto", target), GlobalAction.HELP: ("say", prompt)}
    if action in needs:
        key, value = needs[action]
        if key not in spec.items:
            b.reader.problem(where, f"{prefix}'{key}' is missing; the {action} action needs it")
        if value is None:
            return None
    return GlobalIntent(intent, action, target, prompt, where)


def _escalation(b: _Builder, node: Node) -> EscalationPolicy:
    mapping = b.reader.mapping(node, "'escalation'")
    if mapping is None:
        return EscalationPolicy(where=node.where)
    b.record(("escalation",), mapping)
    b.reader.keys(mapping, ESCALATION_KEYS, "escalation: ")
    values: dict[str, object] = {}
    for key, value in mapping.items.items():
        what = f"escalation: '{key}'"
        read: object = None
        if key in ("confidence_threshold", "margin"):
            read = b.reader.number(value, what)
        elif key in (
            "clarifying_questions",
            "misunderstandings_before_person",
            "silences_before_person",
        ):
            read = b.reader.integer(value, what)
        elif key == "person_queue":
            read = b.reader.text(value, what)
        elif key == "after_silences":
            text = b.reader.text(value, what)
            if text is not None and text not in {a.value for a in AfterSilence}:
                b.reader.problem(value.where, f"{what} must be 'person' or 'end', not '{text}'")
            elif text is not None:
                read = AfterSilence(text)
        if read is not None:
            values[key] = read
    return EscalationPolicy(where=mapping.where, **values)  # type: ignore[arg-type]


ESCALATION_KEYS = (
    "confidence_threshold",
    "margin",
    "clarifying_questions",
    "misunderstandings_before_person",
    "silences_before_person",
    "after_silences",
    "person_queue",
)


def _callbacks(b: _Builder, node: Node) -> CallbackPolicy:
    mapping = b.reader.mapping(node, "'callbacks'")
    if mapping is None:
        return CallbackPolicy(where=node.where)
    b.record(("callbacks",), mapping)
    b.reader.keys(mapping, ("max_expected_wait_seconds",), "callbacks: ")
    wait = mapping.items.get("max_expected_wait_seconds")
    seconds = b.reader.integer(wait, "callbacks: 'max_expected_wait_seconds'") if wait else None
    if seconds is None:
        return CallbackPolicy(where=mapping.where)
    return CallbackPolicy(seconds, mapping.where)


def _languages(b: _Builder, node: Node) -> tuple[str, ...]:
    items = b.reader.sequence(node, "'languages'")
    languages: list[str] = []
    for item in items.items if items else ():
        language = b.reader.text(item, "a language")
        if language in languages:
            b.reader.problem(item.where, f"language '{language}' is listed twice")
        elif language is not None:
            languages.append(language)
    if items is not None and not items.items:
        b.reader.problem(node.where, "'languages' is empty; list at least one, like [en]")
    return tuple(languages)


# --- the whole flow -----------------------------------------------------------------------


def _build(files: list[Path], reader: Reader, sources: Sources) -> Flow | None:
    merged = _Merged()
    unreadable = [path for path in files if not _read_file(path, merged, reader)]
    if unreadable:
        # Its sections are unknown: reporting them as missing would only be noise.
        return None
    shown = tuple(display_path(p) for p in files)
    sources.default = Location(shown[0], 1) if shown else sources.default
    for section, (_, where) in merged.single.items():
        sources.lines[(section,)] = where
    for section in REQUIRED:
        if section not in merged.single:
            reader.problem(sources.default, f"'{section}' is missing; one file must set it")
    b = _Builder(merged, reader, sources)
    single = {section: node for section, (node, _) in merged.single.items()}

    def text(section: str) -> str:
        node = single.get(section)
        return (reader.text(node, f"'{section}'") or "") if node else ""

    languages = _languages(b, single["languages"]) if "languages" in single else ()
    b.build_prompts()
    hours = single.get("business_hours")
    return Flow(
        version=1,
        name=text("name"),
        languages=languages,
        default_language=text("default_language") or (languages[0] if languages else ""),
        start=text("start"),
        slots=b.build_slots(),
        intents=b.build_intents(),
        prompts=dict(b.prompts),
        steps=b.build_steps(),
        system_prompts=_system_prompts(b, single["system_prompts"])
        if "system_prompts" in single
        else {},
        global_intents=_global_intents(b, single["global_intents"])
        if "global_intents" in single
        else {},
        escalation=_escalation(b, single["escalation"])
        if "escalation" in single
        else EscalationPolicy(),
        business_hours=read_business_hours(hours, reader) if hours else BusinessHours(),
        callbacks=_callbacks(b, single["callbacks"]) if "callbacks" in single else CallbackPolicy(),
        files=shown,
    )


def check_flow(path: str | os.PathLike[str]) -> tuple[Flow | None, list[FlowProblem]]:
    """Load and validate the flow at ``path`` (a folder or one file).

    Returns:
        ``(flow, [])`` when it is good, else ``(None, problems)`` with every problem found,
        sorted by file and line.
    """
    reader, sources = Reader(), Sources()
    files = flow_files(path)
    if not Path(path).exists():
        reader.problem(Location(display_path(path), 0), "no such file or folder")
        return None, reader.problems
    if not files:
        reader.problem(Location(display_path(path), 0), "no flow files (*.yaml) in this folder")
        return None, reader.problems
    flow = _build(files, reader, sources)
    problems = reader.problems + (validate(flow, sources) if flow else [])
    if problems or flow is None:
        return None, sorted(problems, key=lambda p: p.location)
    return flow, []


def load_flow(path: str | os.PathLike[str]) -> Flow:
    """The flow at ``path`` (a folder or one file).

    Raises:
        FlowError: listing every problem, when the flow cannot be used.
    """
    flow, problems = check_flow(path)
    if flow is None:
        raise FlowError(problems)
    return flow
