"""Every figure of ``Metrics.report`` and ``Metrics.live`` equals the reference computation.

The reference (tests/ivr/metrics/reference.py) follows docs/metrics.md in plain Python over
the raw rows; the seed (tests/fixtures/seed_calls.py) is written through the real APIs on
SQLite and on PostgreSQL. Further tests pin the edges of each formula on single seeded calls.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from bot.flow import Flow
from ivr.metrics import AgentState, Metrics, Period, Report, Share
from ivr.store import Store
from tests.fixtures.seed_calls import MISHEARD, NOW, QUEUES, TIMEZONE, Call, Seed
from tests.ivr.metrics.reference import Reference

PERIODS = {
    "today": Period.today(NOW, TIMEZONE),
    "7 days": Period.last_7_days(NOW, TIMEZONE),
    "1-3 March": Period.days(date(2026, 3, 1), date(2026, 3, 3), TIMEZONE),
}
SCOPES = [None, *QUEUES, "retention"]  # retention: declared, but no call reaches it


@pytest.mark.parametrize("queue", SCOPES, ids=lambda q: q or "all")
@pytest.mark.parametrize("period", PERIODS.values(), ids=list(PERIODS))
def test_report_equals_the_reference(
    seeded: Store, reference: Reference, flow: Flow, period: Period, queue: str | None
) -> None:
    report = Metrics(seeded).report(period, queue, flow=flow, now=NOW)
    expected = reference.report(period, queue)
    for field in dataclasses.fields(Report):
        assert getattr(report, field.name) == getattr(expected, field.name), field.name


def test_without_a_flow_every_queue_has_the_default_targets(
    seeded: Store, reference: Reference, flow: Flow
) -> None:
    period = PERIODS["7 days"]
    defaults = Reference(reference.t, dataclasses.replace(flow, queues={}), NOW)
    report = Metrics(seeded).report(period, now=NOW)
    assert report == defaults.report(period, None)
    assert report.service_level != reference.report(period, None).service_level


def test_live_equals_the_reference(seeded: Store, reference: Reference, flow: Flow) -> None:
    assert Metrics(seeded).live(NOW, flow) == reference.live()


def test_the_figures_are_not_trivial(seeded: Store, flow: Flow) -> None:
    """The seed exercises every figure, so equal to the reference means something."""
    report = Metrics(seeded).report(PERIODS["7 days"], flow=flow, now=NOW)
    for share in (report.service_level, report.abandoned, report.callbacks_on_time):
        assert share.denominator > 10 and 0 < share.numerator < share.denominator
    assert report.containment and 0 < report.containment.numerator < report.containment.denominator
    assert report.not_repeated and report.not_repeated.numerator > 0
    assert report.not_repeated.numerator < report.not_repeated.denominator
    assert report.hung_up_with_bot and report.hung_up_with_bot.numerator > 0
    assert report.short_abandons > 0 and report.time_to_person.count > 50
    assert len(report.queues) == len(QUEUES) and len(report.handover_reasons) > 4
    router = next(m for m in report.misunderstood if m.text == "my router is blinking")
    assert router.calls > 3 and router.asked_for_person > 0
    assert router.example in MISHEARD[0]  # as heard, the most often
    texts = {m.text for m in report.misunderstood}
    assert {"cafe opening hours", "i need the thing", "bill", "um uh"} <= texts
    assert "when are you open" in texts  # understood, but the caller asked for a person next


def test_the_live_view_knows_every_agent_state(seeded: Store, flow: Flow) -> None:
    live = Metrics(seeded).live(NOW, flow)
    assert {agent.state for agent in live.agents} == set(AgentState)
    assert (live.with_bot, live.booking, live.waiting, live.with_agent) == (4, 1, 2, 1)
    assert live.oldest_waiting is not None and live.oldest_waiting.call_id == "CALIVE0005"
    assert live.oldest_waiting.seconds == 140.0
    assert 0 < live.callbacks_overdue < live.callbacks_due_soon


# -- the edges of the formulas, on single calls --------------------------------------------


def only(seed: Seed, call_id: str, scenario: str) -> Call:
    """The seeded call ``call_id`` (the first of its scenario, with the exact edges)."""
    (call,) = [c for c in seed.calls if c.call_id == call_id]
    assert call.scenario == scenario
    return call


def alone(call: Call) -> Period:
    return Period(call.started_at, call.started_at + timedelta(microseconds=1))


def test_answered_exactly_at_the_target_counts_as_within(
    seeded: Store, seed: Seed, flow: Flow
) -> None:
    call = only(seed, "CA00000001", "transfer_fast")
    assert call.answered_after is not None and call.rung_after is not None
    assert call.answered_after - call.rung_after == 25.0
    report = Metrics(seeded).report(alone(call), call.queue, flow=flow, now=NOW)
    assert report.service_level == Share(1, 1)  # sales: 25 s


def test_a_queue_target_of_its_own(seeded: Store, seed: Seed, flow: Flow) -> None:
    call = only(seed, "CA00000003", "transfer_slow")
    metrics = Metrics(seeded)
    assert metrics.report(alone(call), flow=flow, now=NOW).service_level == Share(0, 1)  # billing
    assert metrics.report(alone(call), now=NOW).service_level == Share(1, 1)  # default: 25 s


def test_a_hang_up_exactly_at_the_short_abandon_time_counts(
    seeded: Store, seed: Seed, flow: Flow
) -> None:
    call = only(seed, "CA00000007", "abandon_long")
    report = Metrics(seeded).report(alone(call), flow=flow, now=NOW)
    assert report.short_abandons == 0
    assert (report.abandoned, report.service_level) == (Share(1, 1), Share(0, 1))


def test_short_abandons_and_callbacks_are_left_out_of_the_service_level(
    seeded: Store, seed: Seed, flow: Flow
) -> None:
    metrics = Metrics(seeded)
    short = only(seed, "CA00000005", "abandon_short")
    report = metrics.report(alone(short), flow=flow, now=NOW)
    assert (report.short_abandons, report.service_level) == (1, Share(0, 0))
    booked = only(seed, "CA00000016", "answered_then_callback")
    report = metrics.report(alone(booked), flow=flow, now=NOW)
    assert report.time_to_person.count == 1 and report.service_level == Share(0, 0)


def test_a_call_again_exactly_24_hours_later_is_a_repeat(
    seeded: Store, seed: Seed, flow: Flow
) -> None:
    call = only(seed, "CA00000002", "resolved_repeat")
    again = only(seed, "CA00000002R", "repeat")
    assert again.started_at - call.started_at == timedelta(hours=24)
    report = Metrics(seeded).report(alone(call), flow=flow, now=NOW)
    assert (report.containment, report.not_repeated) == (Share(1, 1), Share(0, 1))


def test_callbacks_on_time_by_their_promise(seeded: Store, seed: Seed, flow: Flow) -> None:
    metrics = Metrics(seeded)

    def kept(callback_id: str) -> Share:
        (callback,) = [cb for cb in seed.callbacks if cb.callback_id == callback_id]
        promised = callback.promised_at
        period = Period(promised, promised + timedelta(microseconds=1))
        return metrics.report(period, flow=flow, now=NOW).callbacks_on_time

    edge = next(cb for cb in seed.callbacks if cb.connect_after == 120.0)
    assert kept(edge.callback_id) == Share(1, 1)  # two minutes late is still on time
    late = next(cb for cb in seed.callbacks if cb.fate == "late")
    assert kept(late.callback_id) == Share(0, 1)
    cancelled = next(cb for cb in seed.callbacks if cb.fate == "cancelled" and cb.promised_at < NOW)
    assert kept(cancelled.callback_id) == Share(0, 0)
    just_due = next(
        cb for cb in seed.callbacks if NOW - timedelta(minutes=2) < cb.promised_at < NOW
    )
    assert kept(just_due.callback_id) == Share(0, 0)  # it may still connect on time
