"""Set-up and test suite: ``make test`` in a fresh clone of this commit, timed.

    .venv/bin/python bench/suite.py [--fresh-cache] [--keep] [--write docs/benchmarks.md]
    make bench-suite [SUITE=--fresh-cache]

Clones the checkout's commit (``git clone``: committed work only) into a temporary folder,
runs ``make test`` there (both environments, then pytest) and measures the wall time; the
counts come from pytest's summary line. ``--fresh-cache`` gives the clone an empty
``IVR_CACHE_DIR``: the new-machine figure (Rasa installed, every model trained). Without it the
clone uses the usual cache, whose app environment is shared by every checkout: while the suite
runs it points at the clone, and this checkout's is re-pointed afterwards
(``tools/bootstrap.py app``), so do not run other tests meanwhile.

The section keeps one row per kind of cache; a new run replaces the row of its kind.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from common import command_line, cpu_model, progress, publish, read_section

from ivr.config import ROOT

SECTION = "## Set-up and test suite"
HEADER = ("cache", "tests", "`make test`", "of which pytest", "commit", "date", "machine")
#: pytest's words in its summary line, in its order; the rest (warnings) is not a test.
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")
RAN = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
#: ``==== 1811 passed, 2 skipped, 1 warning in 2021.45s (0:33:41) ====``
_SUMMARY = re.compile(r"^=+ (?P<body>.+?) in (?P<seconds>[0-9.]+)s(?: \([0-9:]+\))? =+$")
_COUNT = re.compile(r"(?P<n>[0-9]+) (?P<word>[a-z]+)")
INTRO = (
    "`make test` in a clone of the commit, timed by `make bench-suite` (`bench/suite.py`):\n"
    "the wall time includes building or linking both environments; 'of which pytest' is\n"
    "pytest's own time. An **empty** cache (`SUITE=--fresh-cache`) is a new machine: Rasa\n"
    "installed and every model trained."
)


@dataclass(frozen=True)
class Summary:
    """pytest's summary line: how many tests ended how, and pytest's own time."""

    counts: Mapping[str, int]
    seconds: float

    @property
    def tests(self) -> int:
        """Tests that ran (not deselected ones)."""
        return sum(self.counts.get(word, 0) for word in RAN)

    def describe(self) -> str:
        """``1,813: 1,811 passed, 2 skipped`` (pytest's words, with thousands separators)."""
        parts = [f"{self.counts[w]:,} {w}" for w in OUTCOMES if self.counts.get(w)]
        return f"{self.tests:,}: {', '.join(parts)}" if parts else "no tests ran"


def parse_summary(output: str) -> Summary:
    """The last pytest summary line in ``output``.

    Raises:
        ValueError: ``output`` holds no summary line (pytest did not get that far).
    """
    for line in reversed(output.splitlines()):
        match = _SUMMARY.match(line.strip())
        if match is None:
            continue
        counts: dict[str, int] = {}
        for count in _COUNT.finditer(match["body"]):
            word = count["word"]
            word = word[:-1] if word in ("errors", "warnings") else word
            counts[word] = counts.get(word, 0) + int(count["n"])
        return Summary(counts, float(match["seconds"]))
    raise ValueError("no pytest summary line in the output")


@dataclass(frozen=True)
class SuiteRun:
    """One measured ``make test``."""

    cache: str  # "empty" or "warm"
    summary: Summary
    wall_seconds: float
    commit: str
    date: str
    machine: str
    exit_code: int = 0


def duration(seconds: float) -> str:
    """``33 min 42 s``, or ``42 s`` under a minute."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def row_of(run: SuiteRun) -> list[str]:
    """The table row of ``run``, in :data:`HEADER`'s order."""
    tests = run.summary.describe()
    if run.exit_code:
        tests += f" (`make test` exited {run.exit_code})"
    return [
        run.cache,
        tests,
        duration(run.wall_seconds),
        duration(run.summary.seconds),
        f"`{run.commit[:12]}`",
        run.date,
        run.machine,
    ]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def update_section(section: str | None, run: SuiteRun) -> str:
    """``section`` with ``run``'s row in its table, replacing the row of the same cache.

    Everything else in the section (other rows, text, other tables) is kept as it is. With no
    section, or none with this table, a new one is made.
    """
    new = row_of(run)
    header = _line(HEADER)
    lines = (section or "").rstrip("\n").splitlines()
    if header not in lines:
        return "\n".join(
            [SECTION, "", INTRO, "", header, "|" + "---|" * len(HEADER), _line(new), ""]
        )
    start = lines.index(header) + 2  # after the header and its |---| line
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    rows = [_cells(line) for line in lines[start:end]]
    for i, cells in enumerate(rows):
        if cells and cells[0] == run.cache:
            rows[i] = new
            break
    else:
        rows.append(new)
    lines[start:end] = [_line(cells) for cells in rows]
    return "\n".join(lines) + "\n"


def memory_gib() -> float:
    """This machine's memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def machine_cell() -> str:
    """Cores, memory and CPU model."""
    cores = os.cpu_count() or 1
    return f"{cores} {'core' if cores == 1 else 'cores'}, {memory_gib():.0f} GiB, {cpu_model()}"


def git(folder: Path, *args: str) -> str:
    """A git command's output in ``folder``."""
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def run_suite(fresh: bool, keep: bool) -> SuiteRun:
    """Clone, ``make test`` in the clone, and measure it."""
    if git(ROOT, "status", "--porcelain", "--untracked-files=no"):
        progress("the working tree has uncommitted changes: the clone has the commit only")
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-suite-"))
    clone = work / "ivr"
    log_path = Path(tempfile.gettempdir()) / "ivr-bench-suite.log"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    if fresh:
        env["IVR_CACHE_DIR"] = str(work / "cache")
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        commit = git(clone, "rev-parse", "HEAD")
        progress(f"make test in a clone of {commit[:12]} ({'empty' if fresh else 'warm'} cache);")
        progress(f"its output: {log_path}")
        started = time.monotonic()
        with log_path.open("w") as log:
            done = subprocess.run(
                ["make", "test"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wall = time.monotonic() - started
    finally:
        if not fresh:  # the shared app environment points at the clone: point it back
            python = shutil.which("python3.11") or sys.executable
            subprocess.run(
                [python, str(ROOT / "tools" / "bootstrap.py"), "app"],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                check=False,
            )
        if keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary = parse_summary(log_path.read_text(errors="replace"))
    progress(f"{summary.describe()} in {duration(wall)} (exit {done.returncode})")
    return SuiteRun(
        cache="empty" if fresh else "warm",
        summary=summary,
        wall_seconds=wall,
        commit=commit,
        date=datetime.date.today().isoformat(),
        machine=machine_cell(),
        exit_code=done.returncode,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--fresh-cache", action="store_true", help="an empty IVR_CACHE_DIR: a new machine"
    )
    parser.add_argument("--keep", action="store_true", help="keep the clone (and its cache)")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    run = run_suite(args.fresh_cache, args.keep)
    existing = read_section(Path(args.write), SECTION) if args.write else None
    progress(f"command: {command_line('bench-suite')}")
    publish(update_section(existing, run), SECTION, args.write)
    if run.exit_code:
        sys.exit(run.exit_code)


if __name__ == "__main__":
    main()
