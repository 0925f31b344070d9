"""The capacity bench's own logic: when a level holds, where the ramp stops, what it writes."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.bench import load

capacity = load("capacity")
callers = load("callers")


def run(
    calls: int,
    worst: float = 20.0,
    p95: float = 350.0,
    answered: int | None = None,
    collections: list[float] | None = None,
) -> Any:
    return capacity.Run(
        calls=calls,
        worst_lag_ms=worst,
        replies=[p95 - 30.0] * 10 + [p95] * 10,
        send_late_ms=9.0,
        cpu_per_call_s=1.8,
        floor_per_call_s=0.6,
        peak_mib=1200.0 + 6.0 * calls,
        idle_mib=1200.0,
        answered=calls if answered is None else answered,
        collections_ms=collections,
    )


def test_a_run_keeps_real_time_only_with_every_frame_on_time_and_every_question_answered() -> None:
    assert run(8).real_time and run(8).held
    assert not run(8, worst=101.0).real_time
    assert not run(8, answered=7).real_time
    slow = run(8, p95=601.0)
    assert slow.real_time and not slow.held  # in real time, but not the reply goal


def ramped(monkeypatch: pytest.MonkeyPatch, outcomes: dict[int, list[Any]]) -> Any:
    """The ramp with each level's runs given, instead of phoning a server."""
    given = {level: iter(runs) for level, runs in outcomes.items()}
    monkeypatch.setattr(capacity, "run_level", lambda *a, **k: next(given[a[4]]))
    gauges = capacity.Gauges(lateness=lambda sid: 0.0)
    return capacity.ramp("ours", None, gauges, None, b"", list(outcomes), "poisson", 3)


def test_a_level_is_kept_after_three_runs_in_a_row_and_the_ramp_stops_at_a_failing_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = ramped(
        monkeypatch,
        {
            1: [run(1)] * 3,
            8: [run(8), run(8, p95=700.0), run(8)],  # real time, one run misses the reply goal
            16: [run(16), run(16, worst=280.0), run(16)],
            20: [run(20)] * 3,
        },
    )
    assert (result.kept, result.goal) == (8, 1)
    assert [r.calls for r in result.runs] == [1, 1, 1, 8, 8, 8, 16, 16]  # 20 never ran


def test_the_report_states_what_was_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = ramped(monkeypatch, {1: [run(1)] * 3, 8: [run(8)] * 3, 16: [run(16, worst=280.0)]})
    peer = capacity.Ramp("Pipecat 1.14 (silero)", "poisson", [run(1, p95=1203.0)], 0, 0)
    text = capacity.report([ours, peer], 2, "machine: 2 cores; 2026-12-03", "make x", 3)
    assert text.startswith(
        "## Capacity (phone)\n\nmachine: 2 cores; 2026-12-03.\nCommand: `make x`"
    )
    headline = next(line for line in text.splitlines() if line.startswith("| ours |"))
    cells = [cell.strip() for cell in headline.strip("|").split("|")]
    assert cells[:5] == ["ours", "poisson", "**8**", "8", "4.0"]  # 8 calls on 2 cores
    assert cells[6:10] == ["1.80 s", "0.60 s", "**3.00 x**", "6.0 MiB"]
    assert "| Pipecat 1.14 (silero) | 20 | 1173 / 1203 ms |" in text  # one call at a time
    assert re.search(
        r"\| ours \| poisson \| 16 \| 1 \| 280 ms .*\| \*\*no\*\* \| \*\*no\*\* \|", text
    )
    assert text.count("\n| ours | poisson |") == 1 + 7  # the headline and every run
    assert f"a run's floor is the median of {capacity.SAMPLES} measurements after it" in text


def test_the_progress_gives_the_floors_median_its_range_and_first_measurement() -> None:
    measured = run(16)
    assert capacity._floor(measured) == "0.60 s"  # only the median known
    measured.floor = capacity.Floor(median_s=0.27, low_s=0.25, high_s=0.39, first_s=0.39)
    assert capacity._floor(measured) == (
        f"0.27 s, median of {capacity.SAMPLES}: 0.25 to 0.39 s, first 0.39 s"
    )


def test_each_run_reports_the_slow_garbage_collections_the_web_process_logged(
    tmp_path: Path,
) -> None:
    log = tmp_path / "web.log"
    log.write_text(
        "14:10:01 WARNING ivr.collector: slow garbage collection: every call waited "
        "generation=2 ms=61.0 collected=3\n"
    )
    collections = capacity.slow_collections(log)  # what was logged before is not this run's
    with log.open("a") as more:
        more.write(
            "14:13:26 WARNING ivr.collector: slow garbage collection: every call waited "
            "generation=2 ms=64.0 collected=3420\n"
            "14:13:27 WARNING ivr.call.live: slow call pipeline step call_id=CA1 ms=72.8\n"
            "14:14:30 WARNING ivr.collector: slow garbage collection: every call waited "
            "generation=1 ms=22.5 collected=7826\n"
        )
    assert collections() == [64.0, 22.5]
    assert collections() == []  # nothing new since
    ours = capacity.Ramp(
        "ours", "poisson", [run(16, collections=[64.0, 22.5]), run(16, collections=[])]
    )
    peer = capacity.Ramp("Pipecat 1.14 (silero)", "poisson", [run(1)], 0, 0)
    text = capacity.report([ours, peer], 2, "machine: 2 cores", "make x", 3)
    assert "| ours | poisson | 16 | 1 | 20 ms | 2, longest 64 ms |" in text
    assert "| ours | poisson | 16 | 2 | 20 ms | none |" in text
    assert "| Pipecat 1.14 (silero) | poisson | 1 | 1 | 20 ms | n/a |" in text  # not logged


def test_poisson_arrivals_are_spread_and_seeded_and_synchronised_ones_are_not() -> None:
    offsets, thinks = callers.plan("poisson", 16, 3, seed=1)
    assert offsets == sorted(offsets) and offsets[0] == 0 and offsets[-1] > 5
    assert all(0 <= t <= callers.MAX_THINK_S for pauses in thinks for t in pauses)
    assert callers.plan("poisson", 16, 3, seed=1) == (offsets, thinks)
    assert callers.plan("poisson", 16, 3, seed=2)[0] != offsets
    assert callers.plan("synchronised", 4, 3, seed=1) == ([0.0] * 4, [[0.0] * 3] * 4)


def test_the_reply_goal_counts_only_when_every_level_below_met_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = ramped(monkeypatch, {1: [run(1), run(1, p95=700.0), run(1)], 8: [run(8)] * 3})
    assert (result.kept, result.goal) == (8, 0)


class Health(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # http.server's own name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_the_progress_says_how_many_recognisers_heard_turns_at_once() -> None:
    use = {"in_use": 0, "idle": 6, "made": 7, "peak_in_use": 6}
    Health.body = json.dumps({"ready": True, "speech_recognizers": {"ko": use}}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert capacity.recogniser_use(url) == "ko 7 made, at most 6 hearing at once"
        Health.body = b'{"ready": true}'  # an older web process: nothing to say
        assert capacity.recogniser_use(url).startswith("not known")
    finally:
        server.shutdown()
        server.server_close()
