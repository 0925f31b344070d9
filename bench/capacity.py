"""Capacity: how many simultaneous calls one web process keeps in real time on this machine.

    .venv/bin/python bench/capacity.py [--levels 2,4,6,8,10,12] [--cold-calls 4]
                                       [--write docs/benchmarks.md]

At each level N, N emulated callers phone at once and talk for the whole call (each turn asks
about opening hours; the bot answers and listens). The web process records, per call, how long
caller frames waited before the pipeline took them; a call that ever waited more than 100 ms
has fallen behind real time. Capacity is the largest N where no call did. Memory per call is
the web process's resident memory at the peak of the level, minus its idle size, over N.

``--cold-calls K`` (0: skip) then phones K calls at once into a second web process that warmed
no recognisers, so every call starts on a new one: how far that falls behind, and what a warmed
recogniser costs in memory (the two idle sizes apart, over the number warmed). Every sentence
the report writes comes from these measurements, the options and this machine.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import command_line, machine, percentile, progress, publish, table

if TYPE_CHECKING:
    from phone import PhoneServer
    from twilio_emulator.caller import Step

SECTION = "## Capacity (phone)"
TURNS = 4
LAG_LIMIT_MS = 100.0

Level = dict[str, float]


@dataclass(frozen=True)
class ColdProbe:
    """``calls`` calls at once on a web process with no recogniser warmed."""

    calls: int
    worst_lag_ms: float
    idle_mib: float  # that process's idle size (no recogniser warmed)


def script() -> list[Step]:
    """A caller who keeps talking: the greeting, then ``TURNS`` questions."""
    from phone import KO_PHRASES
    from twilio_emulator import Hangup, Speak, WaitForBot

    steps: list[Step] = [WaitForBot(30)]
    for _ in range(TURNS):
        steps += [Speak(KO_PHRASES["hours"], "ko"), WaitForBot(30)]
    return [*steps, Hangup()]


def run_level(server: PhoneServer, calls: int, idle_mib: float) -> Level:
    """Place ``calls`` calls at once; return lag, latency, memory and CPU for the level."""
    from twilio_emulator import CallResult

    results: list[CallResult] = []
    lock = threading.Lock()
    emulator = server.emulator()

    def one(delay: float) -> None:
        time.sleep(delay)
        result = emulator.call(script(), max_seconds=180)
        with lock:
            results.append(result)

    peak = idle_mib
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    threads = [threading.Thread(target=one, args=(i * 0.2,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, server.rss_mib())
        time.sleep(0.25)
    cpu = (server.cpu_seconds() - cpu_before) / (time.monotonic() - started)
    time.sleep(1)  # the last calls' records
    store = server.store()
    worst: list[float] = []
    for result in results:
        record = store.get_call(result.call_sid)
        lags = [e.data for e in (record.events if record else ()) if e.kind == "audio_lag"]
        worst.append(max((float(lag["max_ms"]) for lag in lags), default=float("nan")))
    store.close()
    replies = [
        float(u.reply_latency_ms)
        for r in results
        for u in r.utterances
        if u.reply_latency_ms is not None
    ]
    return {
        "calls": calls,
        "worst_lag": max(worst),
        "over": sum(lag > LAG_LIMIT_MS for lag in worst),
        "reply_p50": percentile(replies, 50) if replies else float("nan"),
        "reply_p95": percentile(replies, 95) if replies else float("nan"),
        "replies": len(replies),
        "peak_mib": peak,
        "idle_mib": idle_mib,
        "per_call_mib": (peak - idle_mib) / calls,
        "cpu_cores": cpu,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def report(
    rows: Sequence[Level],
    *,
    warmed: int,
    cores: int,
    machine_line: str,
    command: str,
    cold: ColdProbe | None = None,
) -> str:
    """The section for docs/benchmarks.md, built only from the measured ``rows`` and ``cold``.

    Args:
        rows: One :func:`run_level` result per level run, in order.
        warmed: Recognisers the measured web process warmed at start (``--levels``' largest).
        cores: This machine's cores (``os.cpu_count()``).
        machine_line: :func:`common.machine`'s line.
        command: How the bench was run.
        cold: The cold-recogniser probe, when it ran.
    """
    fine = [row for row in rows if not row["over"]]
    capacity = int(max((row["calls"] for row in fine), default=0))
    summary = [
        ("simultaneous calls kept in real time", f"{capacity} (on {_plural(cores, 'core')})"),
        ("calls per core", f"{capacity / cores:.1f}"),
        ("memory per call", f"{fine[-1]['per_call_mib']:.1f} MiB" if fine else "n/a"),
    ]
    limit = f"{LAG_LIMIT_MS:.0f}"
    lines = "\n".join(
        f"| {r['calls']:.0f} | {r['worst_lag']:.0f} ms | {r['over']:.0f} | "
        f"{r['reply_p50']:.0f} / {r['reply_p95']:.0f} ms | {r['peak_mib']:.0f} MiB | "
        f"{r['per_call_mib']:.1f} MiB | {r['cpu_cores']:.2f} |"
        for r in rows
    )
    notes: list[str] = []
    if not rows:
        notes.append("No level ran.")
    elif not fine:
        notes.append(f"Every level run had a call wait more than {limit} ms for a frame.")
    elif len(fine) < len(rows):
        first_behind = next(row for row in rows if row["over"])
        notes.append(
            f"At {first_behind['calls']:.0f} calls, {_plural(int(first_behind['over']), 'call')}"
            f" waited more than {limit} ms for a frame (worst {first_behind['worst_lag']:.0f} ms)."
        )
    else:
        notes.append(
            f"Every level run kept every call in real time: capacity is at least {capacity};"
            " run higher levels to find the limit."
        )
    warm = (
        f"The server started with {_plural(warmed, 'recogniser')} warmed"
        " (`IVR_ASR_WARM_RECOGNIZERS`)."
    )
    if cold is not None:
        calls = _plural(cold.calls, "call")
        each = " at once, each" if cold.calls > 1 else ""
        warm += (
            f" With none warmed, {calls}{each} on a new recogniser fell up to"
            f" {cold.worst_lag_ms / 1000:.1f} s behind"
        )
        same = next((row for row in rows if row["calls"] == cold.calls), None)
        if same is not None:
            warm += f"; {calls} on warmed ones waited at most {same['worst_lag']:.0f} ms"
        warm += "."
    notes.append(warm)
    notes.append(
        "Each caller streams real-time audio (espeak-ng Korean) through the Twilio emulator to"
        " the gunicorn web process (one process, threads) with the real Vosk Korean model and"
        f" real Rasa; the emulator runs on the same {_plural(cores, 'core')}, so the machine"
        " also carries the callers' side. Frame wait is measured by the server for every 20 ms"
        " frame."
    )
    if rows:
        busiest = max(row["cpu_cores"] for row in rows)
        cpu = (
            f"'Web CPU' is the web process's own use: at most {busiest:.2f} of the"
            f" {_plural(cores, 'core')}"
        )
        if busiest < cores / 2:
            cpu += ", so its own work never used up the machine (it shares it with the callers"
            cpu += " and Rasa)"
        notes.append(cpu + ".")
    memory = "Memory: 'per call' is the peak over the idle process"
    if warmed:
        memory += f", which already holds the {_plural(warmed, 'warmed recogniser')}"
    if cold is not None and rows:
        memory += (
            f" (idle: {rows[0]['idle_mib']:.0f} MiB; the process with none warmed:"
            f" {cold.idle_mib:.0f} MiB)"
        )
    notes.append(memory + ".")
    return (
        f"{SECTION}\n\n{machine_line}.\nCommand: `{command}`\n\n"
        f"{table(summary)}\n\n"
        f"| calls | worst frame wait | calls > {limit} ms | reply p50 / p95 | peak RSS | per call "
        "| web CPU (cores) |\n|---|---|---|---|---|---|---|\n"
        f"{lines}\n\n{wrap(' '.join(notes))}\n"
    )


def wrap(paragraph: str) -> str:
    """``paragraph`` in lines of at most 92 characters, as the document is written."""
    return textwrap.fill(paragraph, width=92, break_long_words=False, break_on_hyphens=False)


def main() -> None:
    from phone import phone_server

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="2,4,6,8,10,12")
    parser.add_argument(
        "--cold-calls",
        type=int,
        default=4,
        help="calls on a server with no recogniser warmed (0: skip)",
    )
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    rows: list[Level] = []
    cold: ColdProbe | None = None
    # Steady state: every call gets a recogniser that has already decoded speech (a new one
    # decodes its first utterances slower while Vosk expands its graph: the cold probe).
    warmed = max(levels)
    with (
        tempfile.TemporaryDirectory(prefix="ivr-bench-") as workdir,
        phone_server(Path(workdir), IVR_ASR_WARM_RECOGNIZERS=str(warmed)) as server,
    ):
        idle = server.rss_mib()
        progress(f"idle web process: {idle:.0f} MiB")
        for calls in levels:
            progress(f"{calls} simultaneous calls ...")
            level = run_level(server, calls, idle)
            rows.append(level)
            progress(
                f"{calls} calls: worst frame wait {level['worst_lag']:.0f} ms, "
                f"{level['over']:.0f} over {LAG_LIMIT_MS:.0f} ms, "
                f"reply p95 {level['reply_p95']:.0f} ms, {level['per_call_mib']:.1f} MiB/call"
            )
            if level["over"] and calls != levels[-1]:
                progress("a call fell behind real time: stopping the ramp")
                break
        if args.cold_calls > 0:
            # A second web process beside the idle first one; it reuses the running Rasa.
            (Path(workdir) / "cold").mkdir()
            calls = _plural(args.cold_calls, "call")
            progress(f"{calls} on a web process with no recogniser warmed ...")
            with phone_server(Path(workdir) / "cold", IVR_ASR_WARM_RECOGNIZERS="0") as fresh:
                cold_idle = fresh.rss_mib()
                progress(f"idle web process with none warmed: {cold_idle:.0f} MiB")
                level = run_level(fresh, args.cold_calls, cold_idle)
            cold = ColdProbe(args.cold_calls, level["worst_lag"], cold_idle)
            if math.isnan(cold.worst_lag_ms):
                progress("the cold probe recorded no frame waits")
                cold = None
    section = report(
        rows,
        warmed=warmed,
        cores=os.cpu_count() or 1,
        machine_line=machine(),
        command=command_line("bench-phone"),
        cold=cold,
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
