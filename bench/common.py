"""What every benchmark shares: percentiles, the machine, and its section of the document.

Each benchmark replaces only its own ``## ...`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from pathlib import Path

from ivr.config import ROOT


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One line: cores, CPU, date."""
    return (
        f"machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}; "
        f"{datetime.date.today().isoformat()}"
    )


def command_line(make_target: str | None = None) -> str:
    """How this benchmark was run, for the document."""
    command = ".venv/bin/python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    return f"make {make_target}  # = {command}" if make_target else command


def table(rows: list[tuple[str, str]], header: tuple[str, str] = ("measure", "value")) -> str:
    """A two-column Markdown table."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    return "\n".join([*lines, *(f"| {k} | {v} |" for k, v in rows)])


def _section_pattern(title: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)


def read_section(path: Path, title: str) -> str | None:
    """The ``title`` section of ``path`` (up to the next ``## ``), or None."""
    text = path.read_text() if path.exists() else ""
    match = _section_pattern(title).search(text)
    return match.group(0) if match else None


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the ``title`` section of ``path`` (or append it), keep the rest."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = _section_pattern(title)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def publish(section: str, title: str, write_to: str | None) -> None:
    """Print ``section``; with ``write_to``, also put it under ``title`` in that Markdown file."""
    print(section)
    if write_to:
        write_section(Path(write_to), title, section)
        progress(f"wrote {write_to}")
