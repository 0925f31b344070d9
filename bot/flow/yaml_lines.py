"""YAML with line numbers: every value of a flow file can be traced back to ``file:line``.

PyYAML's constructors throw the marks away and silently let a repeated key win, so we
compose the node graph with a :class:`LineLoader` and turn it into our own small tree of
:class:`Scalar`, :class:`Seq` and :class:`Map`, each carrying its :class:`Location`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import yaml

from bot.flow.errors import FlowProblem
from bot.flow.model import Location


class LineLoader(yaml.SafeLoader):
    """A SafeLoader used only to compose nodes (which keep ``start_mark``), never to build."""


@dataclass(frozen=True)
class Node:
    """A YAML value and where it starts."""

    where: Location


@dataclass(frozen=True)
class Scalar(Node):
    """A scalar: ``value`` as YAML resolved it (str, int, bool, date...), ``text`` as written."""

    value: object
    text: str


@dataclass(frozen=True)
class Seq(Node):
    """A sequence."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Map(Node):
    """A mapping with text keys; ``key_at`` gives the line of each key."""

    items: Mapping[str, Node] = field(default_factory=dict)
    key_at: Mapping[str, Location] = field(default_factory=dict)


def parse_yaml(text: str, file: str) -> tuple[Node | None, list[FlowProblem]]:
    """Parse one YAML document; syntax errors and duplicate keys become problems.

    Args:
        text: the file's contents.
        file: the path to show in locations.

    Returns:
        The tree (None for an empty or unparsable file) and the problems found.
    """
    loader = LineLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = error.problem or error.context or "not valid YAML"
        return None, [FlowProblem(Location(file, line), None, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as error:
        return None, [FlowProblem(Location(file, 1), None, f"YAML syntax error: {error}")]
    finally:
        loader.dispose()
    if root is None:
        return None, []
    problems: list[FlowProblem] = []
    return _convert(root, file, loader, problems), problems


def _convert(node: yaml.Node, file: str, loader: LineLoader, problems: list[FlowProblem]) -> Node:
    where = Location(file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        items: dict[str, Node] = {}
        key_at: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_where = Location(file, key_node.start_mark.line + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(FlowProblem(key_where, None, "a key must be plain text"))
                continue
            # The key as written: `yes:` and `no:` (confirm steps) must stay text, not booleans.
            key = str(key_node.value)
            if key in key_at:
                problems.append(
                    FlowProblem(
                        key_where,
                        None,
                        f"'{key}' is defined twice (first at line {key_at[key].line})",
                    )
                )
                continue
            key_at[key] = key_where
            items[key] = _convert(value_node, file, loader, problems)
        return Map(where, items, key_at)
    if isinstance(node, yaml.SequenceNode):
        return Seq(where, tuple(_convert(item, file, loader, problems) for item in node.value))
    try:
        value: object = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):  # e.g. a date like 2026-13-01: keep the text
        value = str(node.value)
    return Scalar(where, value, str(node.value))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def describe(node: Node) -> str:
    """How a value reads in a message: 'a list', 'a mapping', 'empty', "the number 3"."""
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    assert isinstance(node, Scalar)
    if node.value is None:
        return "empty"
    if isinstance(node.value, bool):
        return f"yes/no ({node.text})"
    if isinstance(node.value, int | float):
        return f"the number {node.text}"
    return f"'{node.text}'"


class Reader:
    """Typed access to a tree that records a problem for every mismatch instead of raising.

    Each getter returns None when the value is missing or of the wrong type, so the caller
    can carry on and find the next problem too.
    """

    def __init__(self) -> None:
        self.problems: list[FlowProblem] = []

    def problem(self, where: Location, message: str, step: str | None = None) -> None:
        """Record a problem."""
        self.problems.append(FlowProblem(where, step, message))

    def keys(
        self, node: Map, allowed: Iterable[str], prefix: str = "", step: str | None = None
    ) -> None:
        """Report every key of ``node`` that is not ``allowed``; ``prefix`` names the owner."""
        allowed = list(allowed)
        for key, where in node.key_at.items():
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                self.problem(where, f"{prefix}unknown key '{key}'{hint}", step)

    def require(
        self,
        node: Map,
        key: str,
        prefix: str = "",
        step: str | None = None,
        at: Location | None = None,
    ) -> Node | None:
        """``node[key]``, or a problem (at ``at`` or the mapping's line) when it is missing."""
        if key not in node.items:
            self.problem(at or node.where, f"{prefix}'{key}' is missing", step)
            return None
        return node.items[key]

    def text(self, node: Node, what: str, step: str | None = None) -> str | None:
        """A non-empty scalar as written (so ``- yes`` stays the text 'yes', not True)."""
        if isinstance(node, Scalar) and node.value is not None and node.text.strip():
            return node.text
        self.problem(node.where, f"{what} should be text, not {describe(node)}", step)
        return None

    def integer(self, node: Node, what: str, step: str | None = None) -> int | None:
        """A whole number (a yes/no is not one, though Python thinks so)."""
        if isinstance(node, Scalar) and type(node.value) is int:
            return node.value
        self.problem(node.where, f"{what} should be a whole number, not {describe(node)}", step)
        return None

    def number(self, node: Node, what: str, step: str | None = None) -> float | None:
        """A number, whole or not."""
        if isinstance(node, Scalar) and type(node.value) in (int, float):
            assert isinstance(node.value, int | float)
            return float(node.value)
        self.problem(node.where, f"{what} should be a number, not {describe(node)}", step)
        return None

    def mapping(self, node: Node, what: str, step: str | None = None) -> Map | None:
        """A mapping."""
        if isinstance(node, Map):
            return node
        self.problem(node.where, f"{what} should be a mapping, not {describe(node)}", step)
        return None

    def sequence(self, node: Node, what: str, step: str | None = None) -> Seq | None:
        """A list."""
        if isinstance(node, Seq):
            return node
        self.problem(node.where, f"{what} should be a list, not {describe(node)}", step)
        return None

    def distinct(
        self, node: Node, what: str, kind: str, empty: str, prefix: str = ""
    ) -> list[tuple[str, Node]]:
        """A list of names, each with its node: ``what`` names the list, ``kind`` an entry.

        An empty list is reported with ``empty``, a name listed twice once more after the first.
        """
        items = self.sequence(node, f"{prefix}{what}")
        if items is not None and not items.items:
            self.problem(node.where, f"{prefix}{empty}")
        found: list[tuple[str, Node]] = []
        for item in items.items if items else ():
            name = self.text(item, f"{prefix}a {kind}")
            if name is not None and any(name == seen for seen, _ in found):
                self.problem(item.where, f"{prefix}{kind} '{name}' is listed twice")
            elif name is not None:
                found.append((name, item))
        return found
