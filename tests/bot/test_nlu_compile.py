from __future__ import annotations

import dataclasses

import yaml

from bot.flow.model import EscalationPolicy, Intent
from bot.nlu.compile import RASA_VERSION, compile_nlu_project, fingerprint
from tests.nlu_flows import small_flow


def test_files_are_valid_rasa_yaml_with_all_intents_and_entities() -> None:
    project = compile_nlu_project(small_flow())
    nlu = yaml.safe_load(project.files["nlu.yml"])
    domain = yaml.safe_load(project.files["domain.yml"])
    config = yaml.safe_load(project.files["config.yml"])

    intents = [block["intent"] for block in nlu["nlu"]]
    assert intents == sorted(intents) == list(project.intents)
    assert domain["intents"] == intents
    assert domain["entities"] == ["account_number"]
    billing = next(b for b in nlu["nlu"] if b["intent"] == "billing_question")
    assert "- my bill for account [44120987](account_number) is too high" in billing["examples"]
    assert config["recipe"] == "default.v1"
    assert config["language"] == "en"
    names = [step["name"] for step in config["pipeline"]]
    assert names[0] == "WhitespaceTokenizer" and names[-1] == "FallbackClassifier"
    assert config["pipeline"][-1] == {
        "name": "FallbackClassifier",
        "threshold": 0.6,
        "ambiguity_threshold": 0.1,
    }


def test_compiling_twice_gives_the_same_fingerprint() -> None:
    assert compile_nlu_project(small_flow()) == compile_nlu_project(small_flow())


def test_prompt_only_edits_keep_the_fingerprint() -> None:
    before = compile_nlu_project(small_flow())
    after = compile_nlu_project(small_flow(greeting="Hi there! What can I do for you?"))
    assert after.fingerprint == before.fingerprint


def test_label_edits_keep_the_fingerprint() -> None:
    flow = small_flow()
    intent = flow.intents["goodbye"]
    relabelled = dataclasses.replace(
        flow, intents={**flow.intents, "goodbye": dataclasses.replace(intent, label={"en": "x"})}
    )
    assert compile_nlu_project(relabelled).fingerprint == compile_nlu_project(flow).fingerprint


def test_example_edits_change_the_fingerprint() -> None:
    before = compile_nlu_project(small_flow())
    after = compile_nlu_project(small_flow(with_engineer=True))
    assert after.fingerprint != before.fingerprint
    assert "book_engineer" in after.files["nlu.yml"]


def test_one_changed_example_changes_the_fingerprint() -> None:
    flow = small_flow()
    intent = flow.intents["goodbye"]
    edited = Intent(intent.name, intent.label, {"en": (*intent.examples["en"][:-1], "cheerio")})
    changed = dataclasses.replace(flow, intents={**flow.intents, "goodbye": edited})
    assert compile_nlu_project(changed).fingerprint != compile_nlu_project(flow).fingerprint


def test_threshold_and_epochs_change_the_fingerprint() -> None:
    base = compile_nlu_project(small_flow()).fingerprint
    stricter = dataclasses.replace(small_flow(), escalation=EscalationPolicy(0.7))
    assert compile_nlu_project(stricter).fingerprint != base
    assert compile_nlu_project(small_flow(), epochs=5).fingerprint != base


def test_example_order_and_duplicates_do_not_matter() -> None:
    flow = small_flow()
    intent = flow.intents["goodbye"]
    lines = intent.examples["en"]
    shuffled = Intent(intent.name, intent.label, {"en": (*reversed(lines), lines[0])})
    same = dataclasses.replace(flow, intents={**flow.intents, "goodbye": shuffled})
    assert compile_nlu_project(same).fingerprint == compile_nlu_project(flow).fingerprint


def test_all_languages_go_into_one_model() -> None:
    flow = small_flow()
    intent = flow.intents["goodbye"]
    bilingual = Intent(intent.name, intent.label, {**intent.examples, "cs": ("na shledanou",)})
    flow = dataclasses.replace(flow, intents={**flow.intents, "goodbye": bilingual})
    assert "- na shledanou" in compile_nlu_project(flow).files["nlu.yml"]


def test_fingerprint_covers_the_rasa_version_and_file_boundaries() -> None:
    files = {"a.yml": "xy", "b.yml": "z"}
    assert fingerprint(files) != fingerprint({"a.yml": "x", "b.yml": "yz"})
    assert RASA_VERSION == "3.6.21"


def test_real_flows_compile() -> None:
    from bot.flow import load_flow
    from ivr.config import ROOT

    project = compile_nlu_project(load_flow(ROOT / "flows"))
    assert len(project.intents) >= 5
    assert yaml.safe_load(project.files["nlu.yml"])["nlu"]


def test_the_yaml_twin_of_the_small_flow_compiles_the_same() -> None:
    from bot.flow import load_flow
    from ivr.config import ROOT

    twin = load_flow(ROOT / "tests" / "nlu_flows" / "small")
    assert compile_nlu_project(twin) == compile_nlu_project(small_flow())
