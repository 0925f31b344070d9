"""Two states of the line side by side: the same calls on each in turn, round after round.

This machine is shared and noisy: one state's CPU per call moves by a fifth from one few
minutes to the next, more than most changes save. Run one state after the other and the hour
decides; here both web processes run at once (one idle while the other is called) and each
round of calls goes to one, then the same round to the other, so both meet the same spells.
Reported per round and as medians: the web process's CPU per call, its recogniser threads',
its socket hub's, and the floor (``floor.py``) measured between rounds.

The other state is another checkout sharing this one's environments, for example::

    git worktree add /tmp/base HEAD~1 && ln -s $PWD/.venv $PWD/.venv-nlu /tmp/base/
    .venv/bin/python bench/alternate.py --base /tmp/base --rounds 6 --together 16
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from callers import Callers
from capacity import TURNS, question_audio
from common import progress
from floor import call_floor
from phone import PhoneServer, phone_server
from thread_cpu import RoundCpu, measure_round

from ivr.config import ROOT

#: The figures compared, by name: what each takes from a round.
FIGURES: dict[str, Callable[[RoundCpu], float]] = {
    "web process": lambda cpu: cpu.per_call_s,
    "recogniser": lambda cpu: cpu.kind_per_call("recogniser"),
    "socket hub": lambda cpu: cpu.kind_per_call("socket hub"),
}


def alternate(
    servers: dict[str, PhoneServer], callers: Callers, rounds: int, together: int
) -> tuple[dict[str, list[RoundCpu]], list[float]]:
    """Each state's rounds (the first, which warms, left out) and the floor after each pair."""
    question = question_audio()
    measured: dict[str, list[RoundCpu]] = {name: [] for name in servers}
    floors: list[float] = []
    for number in range(rounds + 1):
        order = list(servers) if number % 2 == 0 else list(reversed(servers))
        for name in order:  # who goes first changes: neither always follows the other
            progress(f"round {number}/{rounds}: {name} ({together} calls) ...")
            cpu = measure_round(servers[name], callers, question, together)
            if number > 0:
                measured[name].append(cpu)
                print(f"round {number} {name}: " + _figures(cpu), flush=True)
        if number > 0:
            frames = measured[order[-1]][-1].frames
            floors.append(call_floor(question, TURNS, frames))
            print(f"round {number} floor: {floors[-1]:.3f} s", flush=True)
    return measured, floors


def _figures(cpu: RoundCpu) -> str:
    return ", ".join(f"{name} {figure(cpu):.3f} s" for name, figure in FIGURES.items())


def summary(measured: dict[str, list[RoundCpu]], floors: list[float]) -> str:
    """A Markdown table: medians per state, and the median of the rounds' differences."""
    names = list(measured)
    floor = statistics.median(floors)
    lines = [
        f"| per call (median of {len(floors)} rounds) | " + " | ".join(names) + " | difference |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for figure_name, figure in FIGURES.items():
        values = {name: [figure(cpu) for cpu in measured[name]] for name in names}
        medians = [statistics.median(values[name]) for name in names]
        paired = [b - a for a, b in zip(values[names[0]], values[names[-1]], strict=True)]
        lines.append(
            f"| {figure_name} | "
            + " | ".join(f"{value:.3f} s" for value in medians)
            + f" | {statistics.median(paired):+.3f} s |"
        )
    ratios = [statistics.median(cpu.per_call_s for cpu in measured[name]) / floor for name in names]
    lines.append(
        f"| CPU ÷ floor ({floor:.3f} s) | "
        + " | ".join(f"{ratio:.2f} x" for ratio in ratios)
        + f" | {ratios[-1] - ratios[0]:+.2f} x |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per state")
    parser.add_argument("--together", type=int, default=16, help="calls at once per round")
    args = parser.parse_args()
    if not (args.base / "ivr").is_dir():
        raise SystemExit(f"bench: {args.base} is not a checkout of the line")
    with ExitStack() as stack, Callers(args.together) as callers:
        servers = {
            name: stack.enter_context(
                phone_server(
                    Path(stack.enter_context(tempfile.TemporaryDirectory())),
                    root=root,
                    IVR_ASR_WARM_RECOGNIZERS="2",
                )
            )
            for name, root in (("base", args.base.resolve()), ("this", ROOT))
        }
        measured, floors = alternate(servers, callers, args.rounds, args.together)
    print(summary(measured, floors))


if __name__ == "__main__":
    main()
