"""The garbage collector kept out of the calls' way: frozen once warm, slow collections logged.

Freezing is once per process, so what it does is checked in a fresh interpreter of its own.
"""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ivr import collector, warmup

ROOT = Path(__file__).resolve().parents[2]

FREEZE_SCRIPT = """
import gc, sys, threading, weakref
from ivr import collector, warmup

class Part:  # something start-up built and keeps
    pass

class Leftover:  # garbage warm-up left in a cycle
    pass

kept = Part()
leftover = Leftover()
leftover.me = leftover
gone = weakref.ref(leftover)
del leftover
before = gc.get_freeze_count()
gc.disable()  # only the collections made on purpose
collector.WATCH.slow_ms = 0.0  # every collection would be logged as slow...
warm, settled, stop = threading.Event(), threading.Event(), threading.Event()
warmup.settle_memory([warm], settled, stop, freeze={freeze})
assert not settled.wait(0.3), "settled before the warm-up ended"
warm.set()
assert settled.wait(10)
walked = any(o is kept for o in gc.get_objects())  # what a collection walks
logged = collector.WATCH.slow  # ...but the freeze's own, made while no call runs, is not
gc.collect()
assert collector.WATCH.slow == logged + 1  # the watch was on
print(before, gc.get_freeze_count() > before, walked, gone() is None, collector.freeze_once(),
      logged)
gc.enable()
print("exiting", file=sys.stderr)  # what the interpreter collects on its way out is not logged
"""


def run_script(freeze: bool) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", FREEZE_SCRIPT.format(freeze=freeze)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "slow garbage collection" not in done.stderr.split("exiting")[1]
    return done.stdout.split()


def test_once_warm_the_garbage_is_collected_and_what_is_left_frozen_out_of_collections() -> None:
    before, frozen, walked, collected, again, logged = run_script(freeze=True)
    assert before == "0" and frozen == "True" and logged == "0"
    assert walked == "False"  # a full collection no longer walks what start-up built
    assert collected == "True"  # warm-up's garbage went first, not frozen for ever
    assert again == "0"  # only once per process


def test_with_freezing_off_nothing_is_frozen_but_the_process_still_settles() -> None:
    before, frozen, walked, _, again, _ = run_script(freeze=False)
    assert (before, frozen, walked) == ("0", "False", "True")
    assert int(again) > 0  # the first freeze in this process was the one just asked for


def test_a_stopping_process_settles_without_waiting_for_the_warm_up() -> None:
    settled, stop = threading.Event(), threading.Event()
    stop.set()
    warmup.settle_memory([threading.Event()], settled, stop, freeze=True).join(5)
    assert settled.is_set()


def test_a_slow_collection_is_logged_with_its_generation(caplog: pytest.LogCaptureFixture) -> None:
    watch = collector.CollectionWatch(slow_ms=0.0)  # every collection counts as slow
    watch.install()
    watch.install()  # installing twice watches once
    try:
        assert sum(1 for c in gc.callbacks if c == watch._callback) == 1
        with caplog.at_level(logging.WARNING, logger="ivr.collector"):
            gc.collect()
    finally:
        watch.uninstall()
    assert watch.slow >= 1 and watch.longest_ms > 0
    logged = [r for r in caplog.records if r.getMessage().startswith("slow garbage collection")]
    assert logged and {r.generation for r in logged} >= {2}  # type: ignore[attr-defined]
    assert all(r.ms >= 0 for r in logged)  # type: ignore[attr-defined]
    slow = watch.slow
    gc.collect()
    assert watch.slow == slow  # uninstalled: no longer watching


def test_a_quick_collection_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    watch = collector.CollectionWatch(slow_ms=60_000.0)
    watch.install()
    try:
        with caplog.at_level(logging.WARNING, logger="ivr.collector"):
            gc.collect(0)
    finally:
        watch.uninstall()
    assert watch.slow == 0 and watch.longest_ms > 0
    assert not [r for r in caplog.records if r.name == "ivr.collector"]
