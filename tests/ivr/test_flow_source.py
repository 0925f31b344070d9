from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from bot.flow import Flow, FlowError
from ivr.flow_source import FlowSource
from tests.bot.flow_helpers import VALID


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    shutil.copytree(VALID, tmp_path / "flows")
    return tmp_path / "flows"


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    # Some file systems keep coarse mtimes; make the change visible to the stamp for sure.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_starts_with_the_flow(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    assert source.current.name == "Tiny test line"
    assert source.refresh() is False


def test_broken_flow_at_startup_raises(flow_dir: Path) -> None:
    rewrite(flow_dir / "main.yaml", "start: welcome", "start: nowhere")
    with pytest.raises(FlowError) as caught:
        FlowSource(flow_dir)
    assert "'start' points to unknown step 'nowhere'" in str(caught.value.problems[0])


def test_a_good_change_is_swapped_in_and_listeners_hear_of_it(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    heard: list[Flow] = []
    source.on_change(heard.append)
    rewrite(flow_dir / "main.yaml", "name: Tiny test line", "name: Renamed line")
    assert source.refresh() is True
    assert source.current.name == "Renamed line"
    assert heard == [source.current]
    assert source.refresh() is False


def test_a_broken_change_keeps_the_last_good_flow_and_logs_every_problem(
    flow_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = FlowSource(flow_dir)
    good = source.current
    heard: list[Flow] = []
    source.on_change(heard.append)
    main = flow_dir / "main.yaml"
    rewrite(main, "next: main_menu", "next: main_menuu")
    rewrite(main, "margin: 0.1", "margin: 2")
    with caplog.at_level(logging.ERROR, logger="ivr.flow_source"):
        assert source.refresh() is False
    assert source.current is good
    assert heard == []
    [record] = caplog.records
    problems = record.problems  # type: ignore[attr-defined]
    assert len(problems) == 2
    assert "'next' points to unknown step 'main_menuu'" in problems[0]
    assert "'margin' must be" in problems[1]
    assert all(p in record.getMessage() for p in problems)
    # The same broken content is not logged again on every refresh.
    caplog.clear()
    rewrite(main, "margin: 2", "margin: 2")
    assert source.refresh() is False
    assert caplog.records == []


def test_touching_without_changing_is_not_a_reload(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    before = source.current
    rewrite(flow_dir / "main.yaml", "name:", "name:")
    assert source.refresh() is False
    assert source.current is before


def test_unsubscribed_and_failing_listeners(
    flow_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = FlowSource(flow_dir)
    heard: list[Flow] = []

    def broken(flow: Flow) -> None:
        raise RuntimeError("boom")

    source.on_change(broken)
    stop = source.on_change(heard.append)
    rewrite(flow_dir / "main.yaml", "name: Tiny test line", "name: One")
    with caplog.at_level(logging.ERROR, logger="ivr.flow_source"):
        assert source.refresh() is True
    assert len(heard) == 1  # the failing listener did not stop the next one
    assert "listener failed" in caplog.text
    stop()
    rewrite(flow_dir / "main.yaml", "name: One", "name: Two")
    assert source.refresh() is True
    assert len(heard) == 1


def test_a_new_file_counts_as_a_change(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    (flow_dir / "zz.yaml").write_text("version: 1\nprompts:\n  extra: {en: Extra.}\n")
    assert source.refresh() is True
    assert "extra" in source.current.prompts


def test_concurrent_refreshes_swap_once(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    rewrite(flow_dir / "main.yaml", "name: Tiny test line", "name: Concurrent")
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(source.refresh())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert source.current.name == "Concurrent"


def test_a_refused_edit_stays_refused_until_the_files_are_good_again(flow_dir: Path) -> None:
    source = FlowSource(flow_dir)
    main = flow_dir / "main.yaml"
    assert source.refused == ()
    rewrite(main, "next: main_menu", "next: main_menuu")
    assert source.refresh() is False
    # mypy keeps the "== ()" narrowing of source.refused across refresh(): hence two ignores
    [problem] = source.refused  # type: ignore[misc]
    assert problem.startswith(f"{main}:") and "'main_menuu'" in problem  # file:line: message
    # until fixed:
    assert source.refresh() is False and source.refused == (problem,)  # type: ignore[comparison-overlap]
    rewrite(main, "next: main_menuu", "next: main_menu")  # back to the flow that serves
    assert source.refresh() is False
    assert source.refused == ()
    rewrite(main, "name: Tiny test line", "name: Renamed line")
    rewrite(main, "next: main_menu", "next: main_menuu")  # a new broken edit: refused again
    assert source.refresh() is False and source.refused
    rewrite(main, "next: main_menuu", "next: main_menu")  # a new good edit clears it too
    assert source.refresh() is True and source.refused == ()
