"""The alternating bench's report: medians per state, paired differences, the floor's ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bench import load

alternate = load("alternate")
thread_cpu = load("thread_cpu")


def cpu(per_call: float, recogniser: float, hub: float, together: int = 4) -> Any:
    # bench/thread_cpu.py's RoundCpu: load() imports it by path, so mypy cannot name the type
    by_kind = {"recogniser": (recogniser * together, 0.0), "socket hub": (0.0, hub * together)}
    return thread_cpu.RoundCpu(together, per_call, 1346, 12, by_kind)


def test_the_summary_gives_each_states_median_and_the_median_of_paired_differences() -> None:
    measured = {
        "base": [cpu(0.50, 0.30, 0.12), cpu(0.70, 0.40, 0.20), cpu(0.60, 0.35, 0.15)],
        "this": [cpu(0.45, 0.30, 0.08), cpu(0.66, 0.41, 0.15), cpu(0.55, 0.34, 0.11)],
    }
    table = alternate.summary(measured, floors=[0.30, 0.25, 0.35]).splitlines()
    assert table[0] == "| per call (median of 3 rounds) | base | this | difference |"
    assert table[2] == "| web process | 0.600 s | 0.550 s | -0.050 s |"
    assert table[3] == "| recogniser | 0.350 s | 0.340 s | +0.000 s |"  # -0.01, +0.01, 0: median 0
    assert table[4] == "| socket hub | 0.150 s | 0.110 s | -0.040 s |"  # system time counts too
    assert table[5] == "| CPU ÷ floor (0.300 s) | 2.00 x | 1.83 x | -0.17 x |"


def test_a_kind_of_thread_that_never_ran_costs_nothing() -> None:
    assert cpu(0.5, 0.3, 0.1).kind_per_call("call worker") == 0.0


def test_a_folder_that_is_not_a_checkout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["alternate.py", "--base", str(tmp_path)])
    with pytest.raises(SystemExit, match="not a checkout"):
        alternate.main()
