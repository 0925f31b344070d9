"""Warm start: the first call to a freshly started web process, the moment ``/healthz`` is ready.

    .venv/bin/python bench/warm_start.py [--tries 3] [--spin 0] [--write docs/benchmarks.md]

Each try starts the Procfile's gunicorn with an empty prompt cache, phones it as soon as it
reports ready (polled every 20 ms, as an eager load balancer), then phones it again: the
greeting's delay after the stream starts, and the first reply against the second call's.
``--spin N`` keeps N other processes spinning on the CPU meanwhile, as on a slower or shared
machine (where a first reply came 150-200 ms after the warm ones, docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from callers import CallerView, place, script
from capacity import question_audio
from common import command_line, machine, percentile, progress, publish
from phone import phone_server

SECTION = "## Warm start (phone)"
TURNS = 4
GREETING_LIMIT_MS = 150.0


def one_try(workdir: Path, question: bytes) -> tuple[CallerView, CallerView]:
    """A cold web process: its first call at ready, then a second call."""
    cold = {"IVR_CACHE_DIR": str(workdir / "cache")}  # nothing synthesised before this start
    with phone_server(workdir, poll_seconds=0.02, settings=cold) as server:
        steps = script(question, TURNS, [0.0] * TURNS)
        first = place(server.url, steps, 0.0)
        second = place(server.url, steps, 0.0)
    return first, second


@contextmanager
def spinning(processes: int) -> Iterator[None]:
    """``processes`` other programs spin on the CPU meanwhile: a shared machine, busy elsewhere."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--spin", type=int, default=0, help="processes spinning meanwhile")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    question = question_audio()
    rows = []
    for number in range(1, args.tries + 1):
        with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder, spinning(args.spin):
            progress(f"try {number}/{args.tries}: a cold web process ...")
            first, second = one_try(Path(folder), question)
        warm_p95 = percentile(second.replies_ms, 95) if second.replies_ms else float("nan")
        greeting = first.greeting_ms if first.greeting_ms is not None else float("nan")
        reply = first.replies_ms[0] if first.replies_ms else float("nan")
        fine = greeting <= GREETING_LIMIT_MS and reply <= warm_p95
        rows.append(
            f"| {number} | {greeting:.0f} ms | {reply:.0f} ms | {warm_p95:.0f} ms | "
            f"{'yes' if fine else '**no**'} |"
        )
        progress(rows[-1])
    section = (
        f"{SECTION}\n\n{machine()}.\nCommand: `{command_line('bench-phone')}`\n\n"
        "The first call placed the moment a freshly started web process (empty prompt cache)"
        " reports `/healthz` ready, against a second call to the same process. Goal: greeting"
        f" within {GREETING_LIMIT_MS:.0f} ms of the stream starting, first reply within the"
        " warm call's p95.\n\n"
        "| try | greeting after stream start | first reply | warm call's reply p95 | met |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
