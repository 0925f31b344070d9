"""Load a flow folder (or one file) into a validated :class:`Flow`, with every problem found.

Files are parsed once and merged by section: named sections (prompts, intents, slots, steps,
and the people: queues, agents) merge across files and are built by :mod:`bot.flow.sections`
and :mod:`bot.flow.people`; single-valued sections (name, languages, start, system prompts,
global intents, escalation, hours, callbacks) live in one file and are built here. The result
is handed to :func:`validate`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.flow.errors import FlowError, FlowProblem, display_path
from bot.flow.hours import read_business_hours
from bot.flow.language_choice import read_language_choice
from bot.flow.model import (
    SYSTEM_PROMPTS,
    AfterSilence,
    BusinessHours,
    CallbackPolicy,
    EscalationPolicy,
    Flow,
    GlobalAction,
    GlobalIntent,
    LanguageChoice,
    Location,
    Prompt,
)
from bot.flow.people import build_people
from bot.flow.sections import NamedSections, SectionBuilder
from bot.flow.validate import Sources, validate
from bot.flow.yaml_lines import Map, Node, Reader, did_you_mean, parse_yaml

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
    "language_choice",
)
NAMED = {
    "prompts": "prompt",
    "intents": "intent",
    "slots": "slot",
    "steps": "step",
    "queues": "queue",  # people: by convention in flows/people.yaml
    "agents": "agent",
}
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
    named: NamedSections = field(default_factory=dict)


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


# --- single sections ----------------------------------------------------------------------


def _system_prompts(b: SectionBuilder, node: Node) -> dict[str, Prompt]:
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


def _global_intents(b: SectionBuilder, node: Node) -> dict[str, GlobalIntent]:
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


def _global_intent(
    b: SectionBuilder, intent: str, spec: Map, where: Location
) -> GlobalIntent | None:
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


def _escalation(b: SectionBuilder, node: Node) -> EscalationPolicy:
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
    # Each key was read with its own type above; mypy sees one union for the whole dict.
    return EscalationPolicy(where=mapping.where, **values)  # type: ignore[arg-type]  # see above


ESCALATION_KEYS = (
    "confidence_threshold",
    "margin",
    "clarifying_questions",
    "misunderstandings_before_person",
    "silences_before_person",
    "after_silences",
    "person_queue",
)


def _callbacks(b: SectionBuilder, node: Node) -> CallbackPolicy:
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


def _languages(reader: Reader, node: Node) -> tuple[str, ...]:
    empty = "'languages' is empty; list at least one, like [en]"
    return tuple(name for name, _ in reader.distinct(node, "'languages'", "language", empty))


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
    single = {section: node for section, (node, _) in merged.single.items()}

    def text(section: str) -> str:
        node = single.get(section)
        return (reader.text(node, f"'{section}'") or "") if node else ""

    languages = _languages(reader, single["languages"]) if "languages" in single else ()
    b = SectionBuilder(merged.named, reader, sources, languages)
    b.build_prompts()
    hours = single.get("business_hours")
    business_hours = read_business_hours(hours, reader) if hours else BusinessHours()
    callbacks = _callbacks(b, single["callbacks"]) if "callbacks" in single else CallbackPolicy()
    queues, agents = build_people(b, business_hours, callbacks)
    choice = single.get("language_choice")
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
        business_hours=business_hours,
        callbacks=callbacks,
        files=shown,
        queues=queues,
        agents=agents,
        language_choice=read_language_choice(reader, choice, languages)
        if choice
        else LanguageChoice(),
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
