"""Watching a call as it happens: feeds, typed input, per-call clocks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ivr.call.recorder import CallRecorder
from ivr.call.watch import FEED_LIMIT, LiveCalls
from ivr.store import TurnRecord

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Typed:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def typed(self, text: str) -> None:
        self.lines.append(text)


def test_a_watcher_gets_its_calls_events_in_order_and_nobody_elses() -> None:
    calls = LiveCalls(lambda: NOW)
    calls.publish("CA1", "said", {"text": "before anyone watched"})
    feed = calls.watch("CA1")
    other = calls.watch("CA2")
    calls.publish("CA1", "said", {"text": "hello"})
    calls.publish("CA1", "partial", {"text": "my bi"})
    assert feed.next(0.1) == ("said", {"text": "hello"})
    assert feed.next(0.1) == ("partial", {"text": "my bi"})
    assert feed.next(0.01) is None
    assert other.next(0.01) is None
    feed.close()
    calls.publish("CA1", "said", {"text": "after"})
    assert feed.next(0.01) is None


def test_a_call_is_watched_while_a_feed_is_open_on_it() -> None:
    calls = LiveCalls(lambda: NOW)
    assert not calls.watched("CA1")
    first, second = calls.watch("CA1"), calls.watch("CA1")
    assert calls.watched("CA1") and not calls.watched("CA2")
    first.close()
    assert calls.watched("CA1")  # one watcher is still there
    second.close()
    assert not calls.watched("CA1")


def test_a_watcher_that_stops_reading_loses_the_oldest_events_not_the_newest() -> None:
    calls = LiveCalls(lambda: NOW)
    feed = calls.watch("CA1")
    for n in range(FEED_LIMIT + 5):
        calls.publish("CA1", "n", {"n": n})
    first = feed.next(0.1)
    assert first == ("n", {"n": 5})


def test_typed_input_reaches_the_running_stream_only() -> None:
    calls = LiveCalls(lambda: NOW)
    first, second = Typed(), Typed()
    calls.running("CA1", first)
    calls.running("CA1", second)  # a second stream of the same call (a callback booking)
    calls.ended("CA1", first)  # the first one's end must not drop the second
    found = calls.find("CA1")
    assert found is second
    calls.ended("CA1", second)
    assert calls.find("CA1") is None


def test_the_calls_up_are_counted_once_each_however_many_streams_they_had() -> None:
    calls = LiveCalls(lambda: NOW)
    assert calls.running_count() == 0
    first, again, other = Typed(), Typed(), Typed()
    calls.running("CA1", first)
    calls.running("CA2", other)
    calls.running("CA1", again)  # CA1's second stream (a callback booking) replaces its first
    assert calls.running_count() == 2
    calls.ended("CA1", first)  # the replaced stream's end leaves the call up
    assert calls.running_count() == 2
    calls.ended("CA1", again)
    assert calls.running_count() == 1


def test_each_call_has_its_own_clock_and_forgets_it_when_it_ends() -> None:
    calls = LiveCalls(lambda: NOW)
    calls.shift_clock("CA1", timedelta(hours=12))
    calls.type_only("CA1")
    assert calls.now("CA1") == NOW + timedelta(hours=12)
    assert calls.clock("CA2")() == NOW and not calls.typing("CA2")
    assert calls.typing("CA1")
    calls.forget("CA1")
    assert calls.now("CA1") == NOW and not calls.typing("CA1")


def test_the_recorder_tells_the_watchers_what_it_stores_and_what_the_bot_says() -> None:
    calls = LiveCalls(lambda: NOW)
    feed = calls.watch("CA1")
    recorder = CallRecorder(None, "CA1", lambda: NOW, publish=calls.publisher("CA1"))
    recorder.said("How can I help?", "greeting")
    recorder.turn(TurnRecord(0, NOW, "main_menu", "typed", "my bill", 1.0, "billing", 0.93))
    recorder.event("barge_in", {"by": "speech"})
    kinds = [feed.next(0.1) for _ in range(3)]
    assert kinds[0] == ("said", {"text": "How can I help?", "prompt": "greeting"})
    kind, turn = kinds[1]  # type: ignore[misc]
    assert (kind, turn["intent"], turn["kind"], turn["at"]) == (
        "turn",
        "billing",
        "typed",
        NOW.isoformat(),
    )
    assert kinds[2] == (
        "event",
        {"kind": "barge_in", "data": {"by": "speech"}, "at": NOW.isoformat()},
    )


def test_publishing_to_a_call_nobody_watches_is_safe_from_many_threads() -> None:
    calls = LiveCalls(lambda: NOW)
    feed = calls.watch("CA1")

    def publish_200() -> None:
        for _ in range(200):
            calls.publish("CA1", "x", {})

    threads = [threading.Thread(target=publish_200) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for _ in iter(lambda: feed.next(0.01), None)) == 800
