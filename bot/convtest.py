"""Conversation tests: YAML files next to the flows that say "caller says X, expect Y".

A test is a list of turns; each turn is caller speech, keypad digits or silence, with
expectations about what the bot understood and did. ``ivr test`` and pytest both run them
against the real engine and the real NLU. See ``docs/flows.md`` ("Conversation tests").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.dialogue import Dialogue, Reply
from bot.engine import Engine
from bot.engine.actions import (
    CancelCallback,
    Hangup,
    Listen,
    Say,
    ScheduleCallback,
    Transfer,
    describe,
)
from bot.flow.errors import display_path
from bot.flow.model import Location
from bot.language import choose_language
from bot.nlu.result import NLU

#: The word a test uses for each kind of action.
ACTION_KINDS: Mapping[type, str] = {
    Say: "say",
    Listen: "listen",
    Transfer: "transfer",
    ScheduleCallback: "callback",
    CancelCallback: "cancel_callback",
    Hangup: "hangup",
}
EXPECT_KEYS = {"intent", "step", "bot_says", "action", "queue", "reason", "slots", "status"}
TURN_KEYS = {"caller", "keypad", "silence", "nlu", "expect"}
TEST_KEYS = {"name", "from", "to", "now", "nlu", "language", "turns"}


class ConversationTestError(Exception):
    """A conversation test file is malformed; the message starts with ``file:line``."""


@dataclass(frozen=True)
class TestTurn:
    """One caller turn (``caller``, ``keypad`` or ``silence``; none = the greeting)."""

    where: Location
    caller: str | None = None
    keypad: str | None = None
    silence: bool = False
    nlu_down: bool = False
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationTest:
    """A named conversation with expectations."""

    name: str
    where: Location
    turns: tuple[TestTurn, ...]
    caller_number: str | None = None
    called_number: str | None = None
    now: datetime | None = None
    language: str | None = None
    nlu_down: bool = False


@dataclass(frozen=True)
class TestOutcome:
    """The result of running one test: empty ``failures`` means it passed."""

    test: ConversationTest
    failures: tuple[str, ...]
    transcript: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures


# --- loading -----------------------------------------------------------------------------


def test_files(path: str | Path) -> list[Path]:
    """The test files at ``path``: a file, or every *.yaml/*.yml in a folder."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))


def load_tests(path: str | Path) -> list[ConversationTest]:
    """Parse every test at ``path``; raise :class:`ConversationTestError` on bad input."""
    return [test for file in test_files(path) for test in _load_file(file)]


def _load_file(file: Path) -> Iterator[ConversationTest]:
    shown = display_path(file)
    # One parse gives both the nodes (for line numbers) and the plain data built from them.
    loader = yaml.SafeLoader(file.read_text(encoding="utf-8"))
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ConversationTestError(f"{shown}:{line}: not valid YAML: {error}") from error
    finally:
        loader.dispose()

    def at(node: yaml.Node) -> Location:
        return Location(shown, node.start_mark.line + 1)

    if (
        root is None
        or not isinstance(data, dict)
        or data.get("version") != 1
        or "tests" not in data
    ):
        raise ConversationTestError(f"{shown}:1: a test file needs 'version: 1' and 'tests:'")
    tests_node = _child(root, "tests")
    if not isinstance(data["tests"], list) or not isinstance(tests_node, yaml.SequenceNode):
        raise ConversationTestError(f"{at(tests_node)}: 'tests' must be a list")
    for raw, node in zip(data["tests"], tests_node.value, strict=True):
        yield _parse_test(raw, node, at)


def _parse_test(raw: Any, node: yaml.Node, at: Callable[[yaml.Node], Location]) -> ConversationTest:
    where = at(node)
    if not isinstance(raw, dict) or "name" not in raw or "turns" not in raw:
        raise ConversationTestError(f"{where}: a test needs 'name' and 'turns'")
    _no_unknown(raw, TEST_KEYS, where, "test")
    turns_node = _child(node, "turns")
    if not isinstance(raw["turns"], list) or not isinstance(turns_node, yaml.SequenceNode):
        raise ConversationTestError(f"{where}: 'turns' must be a list")
    turns = tuple(
        _parse_turn(t, at(n), i)
        for i, (t, n) in enumerate(zip(raw["turns"], turns_node.value, strict=True))
    )
    now = raw.get("now")
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    if now is not None and (not isinstance(now, datetime) or now.tzinfo is None):
        raise ConversationTestError(f"{where}: 'now' must be an ISO time with an offset")
    return ConversationTest(
        name=str(raw["name"]),
        where=where,
        turns=turns,
        caller_number=_number(raw, "from", where),
        called_number=_number(raw, "to", where),
        now=now,
        language=raw.get("language"),
        nlu_down=raw.get("nlu") == "down",
    )


def _number(raw: dict[str, Any], key: str, where: Location) -> str | None:
    """A phone number of the test; unquoted, YAML would read ``+420…`` as a number."""
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConversationTestError(
            f"{where}: '{key}' must be a quoted phone number, like \"+447700900123\""
        )
    return value


def _parse_turn(raw: Any, where: Location, index: int) -> TestTurn:
    if not isinstance(raw, dict):
        raise ConversationTestError(f"{where}: a turn must be a mapping")
    _no_unknown(raw, TURN_KEYS, where, "turn")
    inputs = [k for k in ("caller", "keypad", "silence") if k in raw]
    if len(inputs) > 1:
        raise ConversationTestError(f"{where}: a turn has one of caller/keypad/silence")
    if not inputs and index > 0:
        raise ConversationTestError(f"{where}: only the first turn may be the greeting")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise ConversationTestError(f"{where}: 'expect' must be a mapping")
    _no_unknown(expect, EXPECT_KEYS, where, "expect")
    kinds = ACTION_KINDS.values()
    if "action" in expect and expect["action"] not in kinds:
        raise ConversationTestError(
            f"{where}: action must be one of {', '.join(kinds)}, not {expect['action']!r}"
        )
    return TestTurn(
        where=where,
        caller=None if raw.get("caller") is None else str(raw["caller"]),
        keypad=None if raw.get("keypad") is None else str(raw["keypad"]),
        silence=bool(raw.get("silence", False)),
        nlu_down=raw.get("nlu") == "down",
        expect=expect,
    )


def _no_unknown(raw: Mapping[str, Any], allowed: set[str], where: Location, what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConversationTestError(
            f"{where}: unknown {what} key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _child(node: yaml.Node, key: str) -> yaml.Node:
    assert isinstance(node, yaml.MappingNode)
    for key_node, value_node in node.value:
        if key_node.value == key:
            found: yaml.Node = value_node
            return found
    raise KeyError(key)


# --- running -----------------------------------------------------------------------------


def default_now(engine: Engine) -> datetime:
    """A Monday 10:00 in the flow's time zone: inside ordinary business hours."""
    zone = ZoneInfo(engine.flow.business_hours.timezone)
    return datetime(2026, 11, 23, 10, 0, tzinfo=zone)


def run_test(test: ConversationTest, engine: Engine, nlu: NLU, nlu_down: NLU) -> TestOutcome:
    """Play ``test`` through a fresh :class:`Dialogue`; ``nlu_down`` serves 'nlu: down' turns."""
    now = test.now or default_now(engine)
    dialogue = Dialogue(engine, nlu_down if test.nlu_down else nlu, call_id=f"test:{test.name}")
    failures: list[str] = []
    transcript: list[str] = []
    # As on the phone: the number called and the caller's country choose, unless the test says.
    chosen = choose_language(engine.flow, called=test.called_number, caller=test.caller_number)
    language = test.language or chosen.language
    reply = dialogue.start(now, test.caller_number, test.called_number, language)
    _record(transcript, None, reply)
    turns = list(test.turns)
    if turns and not (turns[0].caller or turns[0].keypad or turns[0].silence):
        failures += _check(turns.pop(0), dialogue, reply)
    for turn in turns:
        if turn.nlu_down:
            dialogue.nlu = nlu_down
        if turn.caller is not None:
            reply = dialogue.hear(turn.caller, now)
            said = f"caller: {turn.caller}"
        elif turn.keypad is not None:
            reply = dialogue.press(turn.keypad, now)
            said = f"keypad: {turn.keypad}"
        else:
            reply = dialogue.silence(now)
            said = "(silence)"
        _record(transcript, said, reply)
        failures += _check(turn, dialogue, reply)
    return TestOutcome(test, tuple(failures), tuple(transcript))


def _record(transcript: list[str], said: str | None, reply: Reply) -> None:
    if said:
        understood = f"  [{reply.nlu.intent} {reply.nlu.confidence:.2f}]" if reply.nlu else ""
        transcript.append(said + understood)
    transcript.extend(
        f"  bot: {describe(action)}" for action in reply.actions if not isinstance(action, Listen)
    )


def _check(turn: TestTurn, dialogue: Dialogue, reply: Reply) -> list[str]:
    expect, session, problems = turn.expect, dialogue.session, []
    spoken = " ".join(a.text for a in reply.actions if isinstance(a, Say))
    handover = next((a for a in reply.actions if isinstance(a, Transfer | ScheduleCallback)), None)
    actual: dict[str, Any] = {
        "intent": reply.nlu.intent if reply.nlu else None,
        "step": session.step_id,
        "action": sorted({ACTION_KINDS[type(a)] for a in reply.actions}),
        "queue": getattr(handover, "queue", None),
        "reason": getattr(handover, "reason", None),
        "status": str(session.status),
    }
    for key, wanted in expect.items():
        if key == "bot_says":
            if str(wanted).lower() not in spoken.lower():
                problems.append(f"bot_says: expected {wanted!r} in {spoken!r}")
        elif key == "slots":
            for name, value in dict(wanted).items():
                got = session.slots.get(name)
                if str(got) != str(value):
                    problems.append(f"slots.{name}: expected {value!r}, got {got!r}")
        elif key == "action":
            if wanted not in actual["action"]:
                problems.append(f"action: expected {wanted!r} among {actual['action']}")
        elif str(actual[key]) != str(wanted):
            problems.append(f"{key}: expected {wanted!r}, got {actual[key]!r}")
    return [f"{turn.where}: {problem}" for problem in problems]
