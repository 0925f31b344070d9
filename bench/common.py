"""What every benchmark shares: percentiles, the machine, and its section of the document.

Each benchmark replaces only its own ``## ...`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from twilio_emulator import TwilioEmulator

from ivr.config import ROOT

#: What the benches' emulator signs with, and the servers they start check.
PUBLIC_URL = "https://ivr.example.test"
AUTH_TOKEN = "bench-auth-token"


def emulator_for(url: str) -> TwilioEmulator:
    """A Twilio stand-in that calls the server at ``url`` (``<Say>`` takes no time)."""
    return TwilioEmulator(url, PUBLIC_URL, AUTH_TOKEN, say_words_per_second=0)


@dataclass
class ServerProcess:
    """A server the benches phone: where it listens and the process (tree) that serves it."""

    url: str
    process: subprocess.Popen[bytes]

    def emulator(self) -> TwilioEmulator:
        """A Twilio stand-in that calls this server."""
        return emulator_for(self.url)

    def pids(self) -> list[int]:
        """The process and its children (gunicorn's workers run the calls)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [pid, *(int(child) for child in children)]

    def rss_mib(self) -> float:
        """Resident memory of the process and its children."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the process and its children have used."""
        ticks = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


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
