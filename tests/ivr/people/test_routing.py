"""Routing to agents: shifts in their own time zones, the returning caller's agent first."""

from __future__ import annotations

import shutil
import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.flow import Flow, load_flow
from bot.flow.model import Agent
from ivr.people import agents_to_try, expected_wait_seconds, next_agent, queue_is_open
from ivr.people.routing import RECENT_ANSWERS
from tests.bot.flow_helpers import VALID

# The fixture flow's business hours: Europe/London, mon-fri 08:00-20:00, closed 25-26 Dec.
# Billing keeps New York hours; agents work in New York, Tokyo and London.
PEOPLE = """\
version: 1
queues:
  general:
    label: {en: "your call"}
  billing:
    label: {en: "your bill"}
    hours: {timezone: America/New_York, open: {mon-fri: "09:00-17:00"}}
    same_agent_days: 2
  faults:
    label: {en: "the fault you reported"}
agents:
  ny:
    phone: "+441632960010"
    queues: [billing, general]
    shift: {timezone: America/New_York, open: {mon-fri: "09:00-17:00"}}
  tokyo:
    sip: "sip:tokyo@pbx.example.com"
    queues: [billing]
    shift: {timezone: Asia/Tokyo, open: {mon-fri: "09:00-18:00"}}
  london:
    client: "client:london"
    queues: [general, billing, faults]
    shift: {timezone: Europe/London, open: {mon-fri: "08:00-20:00"}}
  anytime:
    phone: "+441632960011"
    queues: [faults]
"""

#: Monday 2 March 2026, 14:00 UTC: 09:00 in New York (EST), 23:00 in Tokyo, 14:00 in London.
MONDAY_AFTERNOON = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def server_far_away(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as if the server sat in Auckland: routing must not depend on the local zone."""
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


@pytest.fixture
def flow(tmp_path: Path) -> Flow:
    shutil.copytree(VALID, tmp_path, dirs_exist_ok=True)
    (tmp_path / "people.yaml").write_text(PEOPLE)
    return load_flow(tmp_path)


def ids(agents: list[Agent]) -> list[str]:
    return [agent.id for agent in agents]


def test_the_server_zone_really_is_elsewhere() -> None:
    assert clock.tzname[0] == "NZST"


def test_agents_on_shift_in_yaml_order(flow: Flow) -> None:
    assert ids(agents_to_try(flow, "billing", MONDAY_AFTERNOON, None, None)) == ["ny", "london"]
    # Monday 01:00 UTC: 10:00 Monday in Tokyo, Sunday evening in New York, night in London.
    night = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert ids(agents_to_try(flow, "billing", night, None, None)) == ["tokyo"]
    assert ids(agents_to_try(flow, "general", night, None, None)) == []


def test_shifts_follow_each_zones_daylight_saving(flow: Flow) -> None:
    # New York moves to EDT on 8 March 2026, London only on 29 March.
    before = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # 08:30 EST: not yet
    after = datetime(2026, 3, 16, 13, 30, tzinfo=UTC)  # 09:30 EDT: working
    assert ids(agents_to_try(flow, "billing", before, None, None)) == ["london"]
    assert ids(agents_to_try(flow, "billing", after, None, None)) == ["ny", "london"]


def test_the_same_agent_first_for_a_returning_caller(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert ids(agents_to_try(flow, "billing", now, "london", 1.5)) == ["london", "ny"]
    assert ids(agents_to_try(flow, "general", now, "london", 6.9)) == ["london", "ny"]
    # No duplicates when the last agent is first in YAML order anyway.
    assert ids(agents_to_try(flow, "billing", now, "ny", 0.0)) == ["ny", "london"]


def test_the_same_agent_only_within_the_queues_days(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert ids(agents_to_try(flow, "billing", now, "london", 2.0)) == ["london", "ny"]
    assert ids(agents_to_try(flow, "billing", now, "london", 2.1)) == ["ny", "london"]  # days: 2
    assert ids(agents_to_try(flow, "general", now, "london", 7.0)) == ["london", "ny"]
    assert ids(agents_to_try(flow, "general", now, "london", 8.0)) == ["ny", "london"]  # default 7
    assert ids(agents_to_try(flow, "billing", now, "london", None)) == ["ny", "london"]


def test_the_last_agent_is_skipped_off_shift_or_off_queue(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert ids(agents_to_try(flow, "billing", now, "tokyo", 1.0)) == ["ny", "london"]  # asleep
    assert ids(agents_to_try(flow, "billing", now, "anytime", 1.0)) == ["ny", "london"]
    assert ids(agents_to_try(flow, "billing", now, "nobody", 1.0)) == ["ny", "london"]


def test_an_agent_without_a_shift_is_always_there(flow: Flow) -> None:
    sunday_night = datetime(2026, 3, 1, 3, 0, tzinfo=ZoneInfo("Europe/London"))
    assert ids(agents_to_try(flow, "faults", sunday_night, None, None)) == ["anytime"]
    assert not queue_is_open(flow, "faults", sunday_night)  # the queue itself is closed


def test_next_agent_skips_those_tried(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert next_agent(flow, "billing", now, []).id == "ny"  # type: ignore[union-attr]
    assert next_agent(flow, "billing", now, ["ny"]).id == "london"  # type: ignore[union-attr]
    assert next_agent(flow, "billing", now, ["london"]).id == "ny"  # type: ignore[union-attr]
    assert next_agent(flow, "billing", now, ["ny", "london"]) is None
    assert next_agent(flow, "sales", now, []) is None  # nobody serves it


def test_unavailable_agents_are_left_out_and_the_rest_keep_their_order(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert ids(agents_to_try(flow, "billing", now, None, None, {"ny"})) == ["london"]
    assert ids(agents_to_try(flow, "billing", now, None, None, {"tokyo"})) == ["ny", "london"]
    assert ids(agents_to_try(flow, "billing", now, None, None, {"ny", "london"})) == []
    # Off shift stays off shift: being available does not put tokyo on the list.
    assert ids(agents_to_try(flow, "billing", now, None, None, frozenset())) == ["ny", "london"]


def test_a_returning_callers_agent_who_is_away_or_busy_is_skipped_for_the_next(
    flow: Flow,
) -> None:
    now = MONDAY_AFTERNOON
    assert ids(agents_to_try(flow, "billing", now, "london", 1.0)) == ["london", "ny"]
    assert ids(agents_to_try(flow, "billing", now, "london", 1.0, {"london"})) == ["ny"]
    assert ids(agents_to_try(flow, "billing", now, "london", 1.0, {"ny"})) == ["london"]


def test_next_agent_skips_the_unavailable_too(flow: Flow) -> None:
    now = MONDAY_AFTERNOON
    assert next_agent(flow, "billing", now, [], {"ny"}).id == "london"  # type: ignore[union-attr]
    assert next_agent(flow, "billing", now, ["ny"], {"london"}) is None
    assert next_agent(flow, "billing", now, [], {"ny", "london"}) is None


def test_queue_hours_in_the_queues_own_zone(flow: Flow) -> None:
    # Monday 20:30 UTC: 15:30 in New York (billing open), 20:30 in London (closed).
    evening = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    assert queue_is_open(flow, "billing", evening)
    assert not queue_is_open(flow, "general", evening)
    assert queue_is_open(flow, "general", MONDAY_AFTERNOON)
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)  # a Friday, closed in the flow
    assert not queue_is_open(flow, "general", christmas)
    assert queue_is_open(flow, "billing", christmas.replace(hour=15))  # New York works
    # A queue nobody declared follows the flow's business hours.
    assert not queue_is_open(flow, "undeclared", evening)
    assert queue_is_open(flow, None, MONDAY_AFTERNOON)


def test_expected_wait_is_the_mean_of_recent_answers() -> None:
    assert expected_wait_seconds([]) == 0
    assert expected_wait_seconds([10.0, 20.0]) == 15
    assert expected_wait_seconds([10.0, 21.0]) == 16  # rounded up
    older = [600.0] * 5
    recent = [30.0] * RECENT_ANSWERS
    assert expected_wait_seconds(older + recent) == 30  # only the last ones count
    assert expected_wait_seconds([*recent[:-1], 130.0]) == 40
