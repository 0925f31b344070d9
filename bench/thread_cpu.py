"""Where a call's CPU goes: the web process's CPU per call, by thread, over warm calls in a row.

Callers (a process each) place the capacity bench's call, several rounds in a row;
each thread's user and system time is read from ``/proc/<pid>/task/<tid>/stat`` every 0.2 s
(a thread that ends keeps its last reading), and ``py-spy dump`` tells the threads apart by
what they run (the socket hub, the socket's reader or handler, the call's worker, the
recogniser). The server's settings come from the environment (e.g. ``IVR_STREAM_HUB=off``).
The first call warms the recogniser for the caller's words; compare the later ones.
``--together N`` places N calls at once in each round (Poisson arrivals, as the capacity
bench): where a call's CPU goes under load; figures are per call.

    .venv/bin/python bench/thread_cpu.py --calls 3
    .venv/bin/python bench/thread_cpu.py --calls 2 --together 16
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from callers import Callers, plan, script
from capacity import TURNS, question_audio
from common import progress
from phone import PhoneServer, phone_server

TICK = os.sysconf("SC_CLK_TCK")
#: What a thread runs, by a frame on its stack, first match wins.
KINDS = (
    ("SocketHub._run", "socket hub"),
    ("RecognizerThread._run", "recogniser"),
    ("CallWorker._run ", "call worker"),
    ("Base._thread", "socket reader"),
    ("serve_stream", "socket handler"),
    ("concurrent/futures/thread.py", "thread pools"),
)
#: How telling each kind is (lower: more): a thread keeps the most telling kind seen.
RANK = {kind: place for place, (_, kind) in enumerate(KINDS)}
PY_SPY = Path(sys.executable).with_name("py-spy")

Times = dict[str, tuple[float, float]]  # thread id -> (user, system) seconds


def thread_times(pid: int) -> Times:
    """Each live thread's user and system CPU seconds."""
    times: Times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        times[task.name] = (int(fields[11]) / TICK, int(fields[12]) / TICK)
    return times


def thread_kinds(pid: int) -> dict[str, str]:
    """What each live thread is, from its Python stack (``py-spy dump``)."""
    dump = subprocess.run([str(PY_SPY), "dump", "--pid", str(pid)], capture_output=True, text=True)
    kinds: dict[str, str] = {}
    for block in dump.stdout.split("\nThread ")[1:]:
        tid = str(int(block.split()[0], 0))
        stack = block.replace("\n", " ")
        kinds[tid] = next((kind for frame, kind in KINDS if frame in stack), "other")
    return kinds


class Sampler:
    """Reads every thread's CPU (and, now and then, what it is) until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = thread_times(pid)
        self.last: Times = dict(self.start)
        self.kinds: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(0.2):
            self.last.update(thread_times(self.pid))
            rounds += 1
            if rounds % 10 == 1:
                self._name(thread_kinds(self.pid))

    def _name(self, seen: dict[str, str]) -> None:
        """Keep each thread's most telling kind (KINDS lists those first).

        A pool's thread that served a call and is idle again stays the call's.
        """
        for tid, kind in seen.items():
            known = self.kinds.get(tid)
            if known is None or RANK.get(kind, len(KINDS)) < RANK.get(known, len(KINDS)):
                self.kinds[tid] = kind

    def stop(self) -> dict[str, tuple[float, float]]:
        """CPU (user, system) by kind of thread since the sampler started."""
        self._stop.set()
        self._thread.join()
        self.last.update(thread_times(self.pid))
        used: dict[str, tuple[float, float]] = {}
        for tid, (user, system) in self.last.items():
            user0, system0 = self.start.get(tid, (0.0, 0.0))
            kind = self.kinds.get(tid, "other")
            total_user, total_system = used.get(kind, (0.0, 0.0))
            used[kind] = (total_user + user - user0, total_system + system - system0)
        return used


@dataclass
class RoundCpu:
    """The web process's CPU per call in one round, and each kind of thread's (user, system)."""

    together: int
    per_call_s: float
    frames: int
    replies: int
    by_kind: dict[str, tuple[float, float]]

    def lines(self) -> str:
        """One line for the process, one per kind of thread that used any CPU to speak of."""
        lines = [
            f"web process {self.per_call_s:.2f} s per call ({self.frames} frames, "
            f"{self.replies} replies in all)"
        ]
        for kind, (user, system) in sorted(self.by_kind.items(), key=lambda item: -sum(item[1])):
            if user + system >= 0.005 * self.together:
                per_call, system_per_call = (user + system) / self.together, system / self.together
                lines.append(f"  {kind:16s} {per_call:.2f} s (system {system_per_call:.2f} s)")
        return "\n".join(lines)

    def kind_per_call(self, kind: str) -> float:
        """CPU seconds per call of one kind of thread."""
        return sum(self.by_kind.get(kind, (0.0, 0.0))) / self.together


def measure_round(
    server: PhoneServer, callers: Callers, question: bytes, together: int
) -> RoundCpu:
    """The web process's CPU per call by kind of thread, ``together`` calls placed at once.

    Arrivals are Poisson, as the capacity bench's.
    """
    worker = server.pids()[-1]  # gunicorn's worker runs the calls
    sampler = Sampler(worker)
    before = server.cpu_seconds()
    offsets, thinks = plan("poisson", together, TURNS, seed=together)
    views = callers.run(server.url, [script(question, TURNS, pauses) for pauses in thinks], offsets)
    time.sleep(1.0)  # the calls' threads finish
    used = sampler.stop()
    return RoundCpu(
        together=together,
        per_call_s=(server.cpu_seconds() - before) / together,
        frames=sum(view.frames for view in views) // together,
        replies=sum(len(view.replies_ms) for view in views),
        by_kind=used,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="rounds in a row (the first warms)")
    parser.add_argument("--together", type=int, default=1, help="calls at once in each round")
    args = parser.parse_args()
    if not PY_SPY.exists():
        raise SystemExit(f"bench: {PY_SPY} is missing (pip install py-spy)")
    question = question_audio()
    with (
        tempfile.TemporaryDirectory() as folder,
        Callers(args.together) as callers,
        phone_server(Path(folder), IVR_ASR_WARM_RECOGNIZERS="2") as server,
    ):
        for number in range(1, args.calls + 1):
            progress(f"round {number}/{args.calls} ({args.together} calls at once) ...")
            report = measure_round(server, callers, question, args.together)
            print(f"round {number}: {report.lines()}", flush=True)


if __name__ == "__main__":
    main()
