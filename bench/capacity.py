"""Capacity: simultaneous calls kept in real time, ours and a Pipecat peer, with the same callers.

    .venv/bin/python bench/capacity.py [--levels 1,8,16,20] [--runs 3] [--peer-levels 1,4,8]
                                       [--arrivals synchronised,poisson] [--no-peer]
                                       [--write docs/benchmarks.md]

At each level N, N emulated callers (each in a process of its own: ``callers.py``) phone the
Korean test line and ask about opening hours ``TURNS`` times. A level holds when, in each of
``--runs`` runs in a row, no 20 ms frame waited more than 100 ms between the server receiving
it and the pipeline taking it (the server's own measure, per frame) and the callers' reply
p95 (last voiced frame -> first reply audio) stayed within 600 ms. The ramp stops at the first
level that does not hold. Arrivals are reported apart: synchronised (every caller at once,
speaking in step) and Poisson (one call a second on average, a random pause before each
question). CPU per call is the web process's CPU over the run divided by its calls, and is
compared with the floor (``floor.py``: Vosk and VAD of the same audio alone, same run).

The peer is Pipecat 1.14 (``pipecat_peer.py``) on the same Twilio Media Streams path, the same
Vosk model, the same cached prompts and the same Rasa; its frame lateness is measured where its
speech-to-text takes the audio. Every sentence the report writes comes from these measurements.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from callers import ARRIVALS, Callers, plan, script
from common import ServerProcess, command_line, machine, percentile, progress, publish
from floor import SAMPLES, Floor, floor_of_call
from phone import KO_PHRASES, PhoneServer, phone_server
from pipecat_peer import PeerServer, peer_server

SECTION = "## Capacity (phone)"
#: The web process's warning for a garbage collection that held every call (ivr.collector).
SLOW_COLLECTION = re.compile(rb"slow garbage collection[^\n]*? ms=([0-9.]+)")
TURNS = 3
LAG_LIMIT_MS = 100.0
REPLY_P95_LIMIT_MS = 600.0


@dataclass
class Run:
    """One run of one level."""

    calls: int
    worst_lag_ms: float  # the server's: receipt -> taken by the pipeline, worst frame
    replies: list[float]
    send_late_ms: float  # the callers' own worst frame (shows the callers kept up)
    cpu_per_call_s: float
    floor_per_call_s: float  # the median of the floor's measurements after the run
    peak_mib: float
    idle_mib: float
    answered: int  # calls with every question answered
    collections_ms: list[float] | None = None  # slow garbage collections in the run (None: unknown)
    floor: Floor | None = None  # every measurement of the floor, when more than the median is known

    @property
    def reply_p95(self) -> float:
        """The callers' reply p95 (infinite when nothing was answered)."""
        return percentile(self.replies, 95) if self.replies else float("inf")

    @property
    def real_time(self) -> bool:
        """Whether every call kept up: no frame too late, every question answered."""
        return self.answered == self.calls and self.worst_lag_ms <= LAG_LIMIT_MS

    @property
    def held(self) -> bool:
        """Whether this run also met the reply goal (p95 within 600 ms)."""
        return self.real_time and self.reply_p95 <= REPLY_P95_LIMIT_MS


@dataclass(frozen=True)
class Gauges:
    """What a server tells the bench besides its CPU and memory."""

    lateness: Callable[[str], float]  # a call's worst frame (server side), by call sid
    collections: Callable[[], list[float] | None] = lambda: None  # slow ones since last asked
    recognisers: Callable[[], str] = lambda: "not known"  # how many heard turns at once


@dataclass
class Ramp:
    """One system under one arrival pattern: every run, and the largest level that held."""

    system: str
    arrival: str
    runs: list[Run] = field(default_factory=list)
    kept: int = 0  # the largest level whose runs all kept real time
    goal: int = 0  # ... and all met the reply goal


def run_level(
    server: ServerProcess,
    callers: Callers,
    gauges: Gauges,
    question: bytes,
    calls: int,
    arrival: str,
    seed: int,
) -> Run:
    """Place ``calls`` calls as ``arrival`` says; the server's and the callers' measures."""
    offsets, thinks = plan(arrival, calls, TURNS, seed)
    scripts = [script(question, TURNS, pauses) for pauses in thinks]
    gauges.collections()  # only this run's count
    idle, cpu_before = server.rss_mib(), server.cpu_seconds()
    peak = [idle]
    views = callers.run(server.url, scripts, offsets, on_wait=lambda: peak.append(server.rss_mib()))
    cpu = server.cpu_seconds() - cpu_before
    time.sleep(1)  # the last calls' records
    lags = [gauges.lateness(view.call_sid) for view in views]
    frames = sum(view.frames for view in views) // max(1, len(views))
    floor = floor_of_call(question, TURNS, frames)
    return Run(
        calls=calls,
        worst_lag_ms=max(lags),
        replies=[ms for view in views for ms in view.replies_ms],
        send_late_ms=max(view.send_late_ms for view in views),
        cpu_per_call_s=cpu / calls,
        floor_per_call_s=floor.median_s,
        peak_mib=max(peak),
        idle_mib=idle,
        answered=sum(len(view.replies_ms) == TURNS for view in views),
        collections_ms=gauges.collections(),
        floor=floor,
    )


def ramp(
    name: str,
    server: ServerProcess,
    gauges: Gauges,
    callers: Callers,
    question: bytes,
    levels: Sequence[int],
    arrival: str,
    runs: int,
) -> Ramp:
    """Each level ``runs`` times in a row; stop at the first run that falls behind real time."""
    result = Ramp(name, arrival)
    for calls in levels:
        for number in range(1, runs + 1):
            progress(f"{name}, {arrival}, {calls} calls, run {number}/{runs} ...")
            run = run_level(server, callers, gauges, question, calls, arrival, seed=number)
            result.runs.append(run)
            progress(
                f"  worst frame {run.worst_lag_ms:.0f} ms, reply p95 {run.reply_p95:.0f} ms, "
                f"{run.answered}/{calls} answered, CPU/call {run.cpu_per_call_s:.2f} s "
                f"(floor {_floor(run)}), callers' worst frame "
                f"{run.send_late_ms:.0f} ms late; slow garbage collections: "
                f"{_collections(run.collections_ms)}; recognisers: {gauges.recognisers()}"
            )
            if not run.real_time:
                return result
        met = all(run.held for run in result.runs if run.calls == calls)
        if met and result.goal == result.kept:  # every level below met it too
            result.goal = calls
        result.kept = calls
    return result


def our_gauges(server: PhoneServer) -> Gauges:
    """Our pipeline's worst frame wait per call (``audio_lag``), and its slow collections."""
    store = server.store()

    def worst(call_sid: str) -> float:
        record = store.get_call(call_sid)
        lags = [e.data for e in (record.events if record else ()) if e.kind == "audio_lag"]
        return max((float(lag["max_ms"]) for lag in lags), default=float("inf"))

    return Gauges(worst, slow_collections(server.log_path), partial(recogniser_use, server.url))


def recogniser_use(url: str) -> str:
    """The speech pools' use since the web process started (``/healthz``), for the progress."""
    try:
        pools = httpx.get(f"{url}/healthz", timeout=5).json()["speech_recognizers"]
    except (httpx.HTTPError, ValueError, KeyError) as error:
        return f"not known ({error})"
    return ", ".join(
        f"{language} {use['made']} made, at most {use['peak_in_use']} hearing at once"
        for language, use in pools.items()
    )


def slow_collections(log_path: Path) -> Callable[[], list[float]]:
    """Each call: how long each slow garbage collection the web log gained since the last was."""
    offset = log_path.stat().st_size if log_path.exists() else 0

    def since_last() -> list[float]:
        nonlocal offset
        with log_path.open("rb") as log:
            log.seek(offset)
            new = log.read()
        offset += len(new)
        return [float(ms) for ms in SLOW_COLLECTION.findall(new)]

    return since_last


def peer_gauges(peer: PeerServer) -> Gauges:
    """The peer's worst frame, where its speech-to-text takes the audio (relative to its best)."""

    def worst(call_sid: str) -> float:
        lateness = peer.frame_lateness(call_sid)["lateness_ms"]
        return float(lateness["max"]) - min(0.0, float(lateness["min"]))

    return Gauges(worst)  # its collections are not logged: unknown


def _floor(run: Run) -> str:
    """The run's floor, with the range and the first of the measurements it is the median of."""
    if run.floor is None:
        return f"{run.floor_per_call_s:.2f} s"
    floor = run.floor
    return (
        f"{floor.median_s:.2f} s, median of {SAMPLES}: {floor.low_s:.2f} to {floor.high_s:.2f} s, "
        f"first {floor.first_s:.2f} s"
    )


def _collections(pauses: list[float] | None) -> str:
    """``none``, or how many and the longest; ``n/a`` when the server does not say."""
    if pauses is None:
        return "n/a"
    return f"{len(pauses)}, longest {max(pauses):.0f} ms" if pauses else "none"


def _ms(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    return f"{percentile(list(values), 50):.0f} / {percentile(list(values), 95):.0f} ms"


def summary_row(result: Ramp, cores: int) -> str:
    """One line of the headline table: calls kept, per core, CPU against the floor, memory."""
    kept_runs = [run for run in result.runs if run.calls == result.kept] or result.runs[:1]
    if not kept_runs:
        return f"| {result.system} | {result.arrival} | no run | | | | | | | |"
    cpu = sum(run.cpu_per_call_s for run in kept_runs) / len(kept_runs)
    floor = sum(run.floor_per_call_s for run in kept_runs) / len(kept_runs)
    memory = max((run.peak_mib - run.idle_mib) / run.calls for run in kept_runs)
    replies = [ms for run in kept_runs for ms in run.replies]
    return (
        f"| {result.system} | {result.arrival} | **{result.kept}** | {result.goal} | "
        f"{result.kept / cores:.1f} | "
        f"{_ms(replies)} | {cpu:.2f} s | {floor:.2f} s | **{cpu / floor:.2f} x** | "
        f"{memory:.1f} MiB |"
    )


def run_row(result: Ramp, run: Run, number: int) -> str:
    return (
        f"| {result.system} | {result.arrival} | {run.calls} | {number} | "
        f"{run.worst_lag_ms:.0f} ms | {_collections(run.collections_ms)} | {_ms(run.replies)} | "
        f"{run.answered}/{run.calls} | "
        f"{run.cpu_per_call_s:.2f} / {run.floor_per_call_s:.2f} s | {run.send_late_ms:.0f} ms | "
        f"{'yes' if run.real_time else '**no**'} | {'yes' if run.held else '**no**'} |"
    )


def one_call_latency(ramps: Sequence[Ramp]) -> list[str]:
    """Turn latency with one call at a time (the ramps' level 1), per system."""
    lines = []
    for system in dict.fromkeys(r.system for r in ramps):
        single = [run for r in ramps if r.system == system for run in r.runs if run.calls == 1]
        flat = [ms for run in single for ms in run.replies]
        if flat:
            lines.append(f"| {system} | {len(flat)} | {_ms(flat)} |")
    return lines


def report(ramps: Sequence[Ramp], cores: int, machine_line: str, command: str, runs: int) -> str:
    """The section for docs/benchmarks.md, built only from ``ramps``."""
    numbered: list[str] = []
    for result in ramps:
        counts: dict[int, int] = {}
        for run in result.runs:
            counts[run.calls] = counts.get(run.calls, 0) + 1
            numbered.append(run_row(result, run, counts[run.calls]))
    latency = one_call_latency(ramps)
    return (
        f"{SECTION}\n\n{machine_line}.\nCommand: `{command}`\n\n"
        f"A level is kept in real time when it holds {runs} runs in a row: no 20 ms frame more"
        f" than {LAG_LIMIT_MS:.0f} ms late on the server and every question answered; 'with"
        f" reply goal' also needs the callers' reply p95 ≤ {REPLY_P95_LIMIT_MS:.0f} ms in each"
        " run. Each caller is a process of its own. CPU, floor and memory are per call at the"
        f" largest level kept; a run's floor is the median of {SAMPLES} measurements after it."
        " Slow garbage collections are those our web process logged as"
        " holding every call (20 ms or more, `ivr.collector`); the peer does not log them.\n\n"
        "| system | arrivals | calls kept in real time | with reply goal | per core "
        "| reply p50 / p95 | CPU per call | floor per call | CPU ÷ floor | memory per call |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(summary_row(result, cores) for result in ramps)
        + "\n\nTurn latency, one call at a time (last voiced frame → first reply audio):\n\n"
        "| system | turns | p50 / p95 |\n|---|---|---|\n"
        + "\n".join(latency)
        + "\n\nEvery run:\n\n"
        "| system | arrivals | calls | run | worst frame (server) | slow garbage collections "
        "| reply p50 / p95 | answered | CPU / floor per call | callers' worst frame late "
        "| real time | reply goal |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(numbered) + "\n"
    )


def question_audio() -> bytes:
    """The caller's question as the phone sends it (espeak-ng Korean), synthesised once."""
    return korean_speech(KO_PHRASES["hours"])


def korean_speech(text: str) -> bytes:
    """``text`` as a caller's phone sends it: espeak-ng Korean, rendered by the emulator."""
    from twilio_emulator import Speak, SpeakAudio, TwilioEmulator

    step = TwilioEmulator("http://unused", "https://unused", "x").render([Speak(text, "ko")])[0]
    assert isinstance(step, SpeakAudio)
    return step.audio


def main() -> None:

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="1,8,16,20")
    parser.add_argument("--peer-levels", default="1,4,8")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--arrivals", default=",".join(ARRIVALS))
    parser.add_argument("--peer-arrivals", default="poisson")
    parser.add_argument("--peer-turns", default="silero,smart")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    peer_levels = [int(n) for n in args.peer_levels.split(",")]
    question = question_audio()
    ramps: list[Ramp] = []
    with (
        tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder,
        Callers(max(levels + peer_levels)) as callers,
    ):
        workdir = Path(folder)
        warm = str(max(levels))
        with phone_server(workdir, IVR_ASR_WARM_RECOGNIZERS=warm) as ours:
            nlu, gauges = (ours.nlu_url, ours.nlu_token), our_gauges(ours)
            for arrival in args.arrivals.split(","):
                ramps.append(
                    ramp("ours", ours, gauges, callers, question, levels, arrival, args.runs)
                )
            if not args.no_peer:  # Rasa stays up for the peer while ours idles
                for turn in args.peer_turns.split(","):
                    (workdir / turn).mkdir()
                    with peer_server(workdir / turn, turn, *nlu, warm=max(peer_levels)) as peer:
                        for arrival in args.peer_arrivals.split(","):
                            name = f"Pipecat 1.14 ({turn})"
                            ramps.append(
                                ramp(
                                    name,
                                    peer,
                                    peer_gauges(peer),
                                    callers,
                                    question,
                                    peer_levels,
                                    arrival,
                                    args.runs,
                                )
                            )
    cores = os.cpu_count() or 1
    section = report(ramps, cores, machine(), command_line("bench-phone"), args.runs)
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
