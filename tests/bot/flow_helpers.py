"""Helpers for tests that edit a copy of the valid fixture flow and read its problems."""

from __future__ import annotations

from pathlib import Path

from bot.flow import check_flow

VALID = Path(__file__).parent / "flow_fixtures" / "valid"


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in ``path`` (fail if it is not exactly one)."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    path.write_text(text.replace(old, new))


def line_of(path: Path, snippet: str) -> int:
    """The line number of the one line of ``path`` holding ``snippet``."""
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if snippet in line]
    assert len(lines) == 1, f"{snippet!r} should be on exactly one line of {path.name}"
    return lines[0]


def at(path: Path, snippet: str) -> str:
    """``file:line`` of the one line holding ``snippet``."""
    return f"{path}:{line_of(path, snippet)}"


def problems(path: Path) -> list[str]:
    """Every problem of the (broken) flow at ``path``, as printed."""
    flow, found = check_flow(path)
    assert flow is None
    return [str(p) for p in found]
