"""Agents' ``languages`` in people.yaml: loading, the default, and problems at their lines."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.flow import load_flow
from ivr.config import ROOT
from ivr.people.routing import agent_language, languages_of
from tests.bot.flow_helpers import at, edit, problems

FOUR_LANGUAGES = ROOT / "tests" / "fixtures" / "flows" / "four_languages"

PEOPLE = """\
version: 1
queues:
  general:
    label: {en: "your call"}
  billing:
    label: {en: "your bill"}
  faults:
    label: {en: "the fault you reported"}
agents:
  alice:
    phone: "+441632960001"
    languages: [en]
    queues: [billing, general]
  bob:
    sip: bob@pbx.example.com
    queues: [faults]
"""


@pytest.fixture
def people(flow_dir: Path) -> Path:
    """``people.yaml`` beside the valid fixture flow, whose only language is English."""
    path = flow_dir / "people.yaml"
    path.write_text(PEOPLE)
    return path


@pytest.fixture
def four_languages(tmp_path: Path) -> Path:
    """A writable copy of the line in English, Czech, Polish and Latvian."""
    shutil.copytree(FOUR_LANGUAGES, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_agents_take_calls_in_the_languages_they_list_in_that_order() -> None:
    flow = load_flow(FOUR_LANGUAGES)
    assert flow.agents["jana"].languages == ("cs", "en")
    assert flow.agents["piotr"].languages == ("pl",)
    assert languages_of(flow, flow.agents["liga"]) == ("lv", "en")
    assert agent_language(flow, "jana") == "cs"  # the first: her whispers are in Czech


def test_an_agent_who_lists_none_speaks_the_flows_default_language(four_languages: Path) -> None:
    flow = load_flow(four_languages)
    assert flow.agents["ed"].languages == ()
    assert languages_of(flow, flow.agents["ed"]) == ("en",)
    edit(four_languages / "main.yaml", "default_language: en", "default_language: cs")
    czech = load_flow(four_languages)
    assert languages_of(czech, czech.agents["ed"]) == ("cs",)
    assert agent_language(czech, "ed") == "cs"
    assert agent_language(czech, "nobody") == "cs"  # not one of the flow's agents


def test_a_language_the_flow_does_not_list_is_a_problem_at_its_line(
    flow_dir: Path, people: Path
) -> None:
    edit(people, "languages: [en]", "languages: [en, eng, cs]")
    assert problems(flow_dir) == [
        f"{at(people, '[en, eng, cs]')}: agent 'alice': 'languages': language 'eng' is not in "
        "languages [en]; did you mean 'en'?",
        f"{at(people, '[en, eng, cs]')}: agent 'alice': 'languages': language 'cs' is not in "
        "languages [en]",
    ]


def test_a_language_the_four_language_line_lacks_is_a_problem_too(four_languages: Path) -> None:
    people = four_languages / "people.yaml"
    edit(people, "languages: [cs, en]", "languages:\n      - cs\n      - sk")
    assert problems(four_languages) == [
        f"{at(people, '- sk')}: agent 'jana': 'languages': language 'sk' is not in "
        "languages [en, cs, pl, lv]"
    ]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("languages: [en, en]", "agent 'alice': language 'en' is listed twice"),
        (
            "languages: []",
            "agent 'alice': 'languages' is empty; list those they speak, like [en]",
        ),
        ("languages: en", "agent 'alice': 'languages' should be a list, not 'en'"),
        (
            "languages: [en, {cs: 1}]",
            "agent 'alice': a language should be text, not a mapping",
        ),
    ],
)
def test_badly_written_languages(flow_dir: Path, people: Path, new: str, message: str) -> None:
    edit(people, "languages: [en]", new)
    assert problems(flow_dir) == [f"{at(people, new)}: {message}"]


def test_a_hand_built_agent_without_languages_follows_the_flows_default() -> None:
    flow = load_flow(FOUR_LANGUAGES)
    polish = replace(flow, default_language="pl")
    assert languages_of(polish, flow.agents["ed"]) == ("pl",)
    assert languages_of(polish, flow.agents["jana"]) == ("cs", "en")  # her own list stands
