"""Capacity: how many simultaneous calls one web process keeps in real time on this machine.

    .venv/bin/python bench/capacity.py [--levels 2,4,6,8,10,12] [--write docs/benchmarks.md]

At each level N, N emulated callers phone at once and talk for the whole call (each turn asks
about opening hours; the bot answers and listens). The web process records, per call, how long
caller frames waited before the pipeline took them; a call that ever waited more than 100 ms
has fallen behind real time. Capacity is the largest N where no call did. Memory per call is
the web process's resident memory at the peak of the level, minus its idle size, over N.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from common import command_line, machine, percentile, progress, publish, table
from phone import KO_PHRASES, PhoneServer, phone_server

from ivr.emulator import CallResult, Hangup, Speak, WaitForBot

SECTION = "## Capacity (phone)"
TURNS = 4
LAG_LIMIT_MS = 100.0


def script() -> list[object]:
    """A caller who keeps talking: the greeting, then ``TURNS`` questions."""
    steps: list[object] = [WaitForBot(30)]
    for _ in range(TURNS):
        steps += [Speak(KO_PHRASES["hours"], "ko"), WaitForBot(30)]
    return [*steps, Hangup()]


def run_level(server: PhoneServer, calls: int, idle_mib: float) -> dict[str, float]:
    """Place ``calls`` calls at once; return lag, latency, memory and CPU for the level."""
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
        "per_call_mib": (peak - idle_mib) / calls,
        "cpu_cores": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="2,4,6,8,10,12")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    rows: list[dict[str, float]] = []
    # Steady state: every call gets a recogniser that has already decoded speech (a new one
    # decodes its first utterances at about real time while Vosk expands its graph).
    warm = {"IVR_ASR_WARM_RECOGNIZERS": str(max(levels))}
    with (
        tempfile.TemporaryDirectory(prefix="ivr-bench-") as workdir,
        phone_server(Path(workdir), **warm) as server,
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
    fine = [row for row in rows if not row["over"]]
    capacity = int(max((row["calls"] for row in fine), default=0))
    lines = "\n".join(
        f"| {r['calls']:.0f} | {r['worst_lag']:.0f} ms | {r['over']:.0f} | "
        f"{r['reply_p50']:.0f} / {r['reply_p95']:.0f} ms | {r['peak_mib']:.0f} MiB | "
        f"{r['per_call_mib']:.1f} MiB | {r['cpu_cores']:.2f} |"
        for r in rows
    )
    summary = [
        ("simultaneous calls kept in real time", f"{capacity} (on {machine().split(',')[0][9:]})"),
        ("calls per core", f"{capacity / 2:.1f}"),
        (
            "memory per call",
            f"{fine[-1]['per_call_mib']:.1f} MiB" if fine else "n/a",
        ),
    ]
    section = (
        f"{SECTION}\n\n{machine()}.\nCommand: `{command_line('bench-phone')}`\n\n"
        f"{table(summary)}\n\n"
        "| calls | worst frame wait | calls > 100 ms | reply p50 / p95 | peak RSS | per call "
        "| web CPU (cores) |\n|---|---|---|---|---|---|---|\n"
        f"{lines}\n\n"
        f"The server starts with {max(levels)} recognisers warmed "
        "(`IVR_ASR_WARM_RECOGNIZERS`): a new Vosk\n"
        "recogniser decodes its first utterances at about real time (measured: 4 calls, 2 of\n"
        "them on new recognisers, fell 1.1 s behind), a warmed one at a fraction of it.\n"
        "Each caller streams real-time audio (espeak-ng Korean) through the Twilio emulator to\n"
        "the gunicorn web process (one process, threads) with the real Vosk Korean model and\n"
        "real Rasa; the emulator runs on the same two cores, so the machine also carries the\n"
        "callers' side. Frame wait is measured by the server for every 20 ms frame. 'Web CPU'\n"
        "is the web process's own use; where it stays far below 2 cores, the limit is the\n"
        "machine shared with the emulator and Rasa (scheduling and the GIL), not our work.\n"
        "Memory: 'per call' is the peak over the idle process, which already holds the\n"
        "warmed recognisers (each keeps Vosk's expanded graph, about 50 MiB).\n"
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
