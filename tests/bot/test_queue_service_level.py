"""A queue's service-level targets (``service_level_seconds``, ``short_abandon_seconds``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flow import load_flow
from tests.bot.flow_helpers import at, edit, problems
from tests.bot.test_people import PEOPLE


@pytest.fixture
def people(flow_dir: Path) -> Path:
    path = flow_dir / "people.yaml"
    path.write_text(PEOPLE)
    return path


def test_defaults_are_25_and_5_seconds(flow_dir: Path, people: Path) -> None:
    billing = load_flow(flow_dir).queues["billing"]
    assert (billing.service_level_seconds, billing.short_abandon_seconds) == (25, 5)


def test_a_queue_sets_its_own(flow_dir: Path, people: Path) -> None:
    edit(
        people,
        "    same_agent_days: 3\n",
        "    same_agent_days: 3\n    service_level_seconds: 60\n    short_abandon_seconds: 0\n",
    )
    queues = load_flow(flow_dir).queues
    assert (queues["billing"].service_level_seconds, queues["billing"].short_abandon_seconds) == (
        60,
        0,
    )
    assert queues["general"].service_level_seconds == 25


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "service_level_seconds: 0",
            "queue 'billing': 'service_level_seconds' must be more than 0, not 0",
        ),
        (
            "short_abandon_seconds: -1",
            "queue 'billing': 'short_abandon_seconds' must be at least 0, not -1",
        ),
        (
            "service_level_seconds: soon",
            "queue 'billing': 'service_level_seconds' should be a whole number, not 'soon'",
        ),
        (
            "short_abandon_seconds: 30",
            "queue 'billing': 'short_abandon_seconds' (30) must be less than "
            "'service_level_seconds' (25)",
        ),
        (
            "service_level_seconds: 4",
            "queue 'billing': 'short_abandon_seconds' (5) must be less than "
            "'service_level_seconds' (4)",
        ),
    ],
)
def test_bad_values_are_reported_at_their_line(
    flow_dir: Path, people: Path, new: str, message: str
) -> None:
    edit(people, "    same_agent_days: 3\n", f"    same_agent_days: 3\n    {new}\n")
    assert problems(flow_dir) == [f"{at(people, new)}: {message}"]
