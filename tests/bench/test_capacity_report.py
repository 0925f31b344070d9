from __future__ import annotations

import re

from tests.bench import load

capacity = load("capacity")


def level(
    calls: int, worst: float, over: int, cpu: float, idle: float = 1500.0
) -> dict[str, float]:
    return {
        "calls": calls,
        "worst_lag": worst,
        "over": over,
        "reply_p50": 327.0,
        "reply_p95": 490.0 + calls,
        "replies": 4.0 * calls,
        "peak_mib": idle + 30.0 * calls,
        "idle_mib": idle,
        "per_call_mib": 30.0 + calls / 10,
        "cpu_cores": cpu,
    }


ROWS = [level(2, 52, 0, 0.17), level(4, 37, 0, 0.29), level(6, 88, 0, 0.37), level(8, 111, 1, 0.45)]


def report(rows: list[dict[str, float]] = ROWS, **options: object) -> str:
    settings: dict[str, object] = {
        "warmed": 8,
        "cores": 4,
        "machine_line": "machine: 4 cores (`nproc`), Test CPU; 2026-12-03",
        "command": "make bench-phone  # = .venv/bin/python bench/capacity.py --levels 2,4,6,8",
        **options,
    }
    text: str = capacity.report(rows, **settings)
    return text


def prose(text: str) -> str:
    """The section with its line breaks as spaces: the bench wraps its sentences."""
    return " ".join(text.split())


def summary(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\| ([a-z][a-z ]+) \| (.+) \|$", text, re.M))


def test_capacity_and_calls_per_core_come_from_the_run_and_the_machine() -> None:
    text = report()
    assert summary(text)["simultaneous calls kept in real time"] == "6 (on 4 cores)"
    assert summary(text)["calls per core"] == "1.5"  # 6 / os.cpu_count(), not 6 / 2
    assert summary(text)["memory per call"] == "30.6 MiB"  # the last level kept in real time
    two_cores = report(cores=2)
    assert summary(two_cores)["calls per core"] == "3.0"
    assert "on the same 2 cores" in prose(two_cores) and "on the same 4 cores" in prose(text)
    assert summary(report(cores=1))["simultaneous calls kept in real time"] == "6 (on 1 core)"


def test_every_level_is_a_row_with_its_figures() -> None:
    text = report()
    assert "| 8 | 111 ms | 1 | 327 / 498 ms | 1740 MiB | 30.8 MiB | 0.45 |" in text
    assert "| 2 | 52 ms | 0 | 327 / 492 ms | 1560 MiB | 30.2 MiB | 0.17 |" in text
    assert "At 8 calls, 1 call waited more than 100 ms for a frame (worst 111 ms)." in prose(text)


def test_the_cold_recogniser_sentence_is_the_probes_measurement() -> None:
    probe = capacity.ColdProbe(calls=4, worst_lag_ms=2345.0, idle_mib=1100.0)
    text = report(cold=probe)
    assert (
        "With none warmed, 4 calls at once, each on a new recogniser fell up to 2.3 s behind;"
        " 4 calls on warmed ones waited at most 37 ms." in prose(text)
    )
    # Both idle sizes, as measured: no share per recogniser is made up from them.
    assert "(idle: 1500 MiB; the process with none warmed: 1100 MiB)" in prose(text)
    other = report(cold=capacity.ColdProbe(calls=3, worst_lag_ms=800.0, idle_mib=1420.0))
    assert "3 calls at once, each on a new recogniser fell up to 0.8 s behind." in prose(other)
    assert "(idle: 1500 MiB; the process with none warmed: 1420 MiB)" in prose(other)
    one = report(cold=capacity.ColdProbe(calls=1, worst_lag_ms=300.0, idle_mib=126.0))
    assert "With none warmed, 1 call on a new recogniser fell up to 0.3 s behind." in prose(one)


def test_without_a_probe_nothing_is_said_about_new_recognisers() -> None:
    text = prose(report())
    assert "new recogniser" not in text
    assert "none warmed" not in text
    assert "The server started with 8 recognisers warmed (`IVR_ASR_WARM_RECOGNIZERS`)." in text
    # What was typed by hand before is not written unless measured.
    for typed in ("1.1 s", "4 calls, 2 of", "about 50 MiB"):
        assert typed not in text


def test_web_cpu_is_called_far_from_the_limit_only_when_it_was() -> None:
    idle = prose(report())
    assert "at most 0.45 of the 4 cores, so its own work never used up the machine" in idle
    busy = prose(report([level(2, 40, 0, 1.2), level(4, 150, 2, 1.8)], cores=2))
    assert "at most 1.80 of the 2 cores." in busy
    assert "never used up" not in busy


def test_the_ramp_outcome_is_stated_as_measured() -> None:
    all_fine = report(ROWS[:3])
    assert summary(all_fine)["simultaneous calls kept in real time"] == "6 (on 4 cores)"
    assert "Every level run kept every call in real time: capacity is at least 6" in prose(all_fine)
    none_fine = report([level(2, 300, 2, 0.5)])
    assert summary(none_fine)["simultaneous calls kept in real time"] == "0 (on 4 cores)"
    assert summary(none_fine)["memory per call"] == "n/a"
    assert "Every level run had a call wait more than 100 ms for a frame." in prose(none_fine)


def test_the_section_is_headed_for_its_place_in_the_document() -> None:
    text = report()
    assert text.startswith(
        "## Capacity (phone)\n\nmachine: 4 cores (`nproc`), Test CPU; 2026-12-03.\n"
    )
    assert "Command: `make bench-phone  # = .venv/bin/python bench/capacity.py" in text
