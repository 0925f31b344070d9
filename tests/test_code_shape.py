"""The house limits, kept: modules of at most about 400 lines and functions short enough to read
at once, in the product's edge (``ivr/``) and the Twilio emulator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE_LINES = 420
FUNCTION_LINES = 65
CHECKED = ("ivr", "emulator/twilio_emulator")


def python_files() -> list[Path]:
    return sorted(path for folder in CHECKED for path in (ROOT / folder).rglob("*.py"))


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    """``(name, lines)`` of every function or method in ``source`` longer than ``limit``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_within_the_house_limits(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MODULE_LINES
    assert long_functions(source, FUNCTION_LINES) == []


def test_the_function_check_would_catch_a_long_one() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(70))
    source = f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n"
    assert long_functions(source, FUNCTION_LINES) == [("long", 71)]
