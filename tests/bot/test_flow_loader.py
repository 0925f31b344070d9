from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from bot.flow import FlowError, FlowProblem, Location, flow_files, load_flow
from bot.flow.errors import display_path
from bot.flow.model import (
    SYSTEM_PROMPTS,
    AskStep,
    CollectStep,
    ConfirmStep,
    EndStep,
    GlobalAction,
    SayStep,
    SlotType,
    TransferStep,
)
from tests.bot.flow_helpers import VALID, edit, line_of, problems


def test_valid_fixture_loads_into_typed_objects() -> None:
    flow = load_flow(VALID)
    assert flow.name == "Tiny test line"
    assert flow.languages == ("en",)
    assert flow.start == "welcome"
    assert [Path(f).name for f in flow.files] == ["intents.yaml", "main.yaml"]
    welcome = flow.steps["welcome"]
    assert isinstance(welcome, SayStep)
    assert welcome.prompt.id == "step:welcome:say"
    assert welcome.prompt.text == {"en": "Welcome."}
    main = VALID / "main.yaml"
    assert welcome.where == Location(display_path(main), line_of(main, "welcome:"))
    menu = flow.steps["main_menu"]
    assert isinstance(menu, AskStep)
    assert menu.prompt is flow.prompts["greeting"]
    assert menu.reprompt is flow.prompts["greeting_again"]
    assert dict(menu.routes) == {
        "billing_question": "billing_account",
        "report_outage": "outage_agent",
    }
    assert isinstance(flow.steps["billing_account"], CollectStep)
    confirm = flow.steps["billing_confirm"]
    assert isinstance(confirm, ConfirmStep)
    assert (confirm.yes, confirm.no) == ("billing_agent", "billing_account")
    assert isinstance(flow.steps["bye"], EndStep)
    slot = flow.slots["account_number"]
    assert (slot.type, slot.min_length, slot.max_length) == (SlotType.DIGITS, 8, 8)
    assert flow.global_intents["goodbye"].action is GlobalAction.GOTO
    assert flow.global_intents["goodbye"].target == "bye"
    assert flow.global_intents["help"].prompt is flow.prompts["help_text"]
    assert set(flow.system_prompts) == set(SYSTEM_PROMPTS)
    assert {"clarify", "no_agent", "callback_confirm", "callback_wait_offer"} <= set(SYSTEM_PROMPTS)
    assert flow.system_prompts["clarify"].id == "system:clarify"
    assert flow.escalation.confidence_threshold == 0.6
    assert flow.callbacks.max_expected_wait_seconds == 120


def test_transfer_takes_a_queue_string_or_a_mapping() -> None:
    flow = load_flow(VALID)
    faults, billing = flow.steps["outage_agent"], flow.steps["billing_agent"]
    assert isinstance(faults, TransferStep) and isinstance(billing, TransferStep)
    assert (faults.queue, faults.number, faults.reason, faults.prompt) == (
        "faults",
        None,
        "outage",
        None,
    )
    assert billing.queue == "billing"
    assert billing.prompt is not None and billing.prompt.id == "step:billing_agent:say"


def test_transfer_to_a_number(flow_dir: Path) -> None:
    edit(flow_dir / "main.yaml", "transfer: faults", 'transfer: {number: "+441234567890"}')
    step = load_flow(flow_dir).steps["outage_agent"]
    assert isinstance(step, TransferStep)
    assert (step.queue, step.number) == (None, "+441234567890")


def test_transfer_with_both_queue_and_number_is_a_problem(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "transfer: faults", 'transfer: {queue: faults, number: "+44"}')
    line = line_of(main, "transfer: {queue: faults")
    assert problems(flow_dir) == [
        f"{main}:{line}: step 'outage_agent': 'transfer' needs exactly one of 'queue' or 'number'"
    ]


def test_business_hours_are_parsed() -> None:
    hours = load_flow(VALID).business_hours
    assert hours.timezone == "Europe/London"
    assert set(hours.weekly) == {0, 1, 2, 3, 4, 5}
    assert [(w.start, w.end) for w in hours.weekly[5]] == [
        (time(9), time(13)),
        (time(14), time(17)),
    ]
    assert hours.closed_dates == {date(2026, 12, 25), date(2026, 12, 26)}


def test_folder_ignores_the_tests_subfolder() -> None:
    assert (VALID / "tests").is_dir()
    assert [p.name for p in flow_files(VALID)] == ["intents.yaml", "main.yaml"]


def test_a_single_file_can_be_checked(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    found = problems(main)
    # Without intents.yaml, the routes and global intents name intents that do not exist.
    line = line_of(main, "billing_question: billing_account")
    assert f"{main}:{line}: step 'main_menu': routes: unknown intent 'billing_question'" in found


def test_load_flow_raises_with_every_problem(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "next: main_menu", "next: main_menuu")
    edit(main, "person_queue: general", "person_queu: general")
    with pytest.raises(FlowError) as caught:
        load_flow(flow_dir)
    next_line, queue_line = line_of(main, "main_menuu"), line_of(main, "person_queu:")
    assert [str(p) for p in caught.value.problems] == [
        f"{main}:{next_line}: step 'welcome': 'next' points to unknown step 'main_menuu'; "
        "did you mean 'main_menu'?",
        f"{main}:{queue_line}: escalation: unknown key 'person_queu'; did you mean 'person_queue'?",
    ]
    assert "2 problems in the flow" in str(caught.value)


def test_problem_text_omits_the_step_when_none() -> None:
    where = Location("flows/main.yaml", 42)
    assert str(FlowProblem(where, None, "x")) == "flows/main.yaml:42: x"
    assert str(FlowProblem(where, "a", "x")) == "flows/main.yaml:42: step 'a': x"


def test_paths_are_shown_relative_to_the_current_directory(
    flow_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(flow_dir / "main.yaml", "start: welcome", "start: welcom")
    monkeypatch.chdir(flow_dir.parent)
    assert problems(flow_dir) == [
        f"{flow_dir.name}/main.yaml:5: 'start' points to unknown step 'welcom'; "
        "did you mean 'welcome'?"
    ]


def test_yaml_syntax_error_is_a_problem_with_its_line(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "    next: main_menu", "    next: [main_menu")
    found = problems(flow_dir)
    assert len(found) == 1
    # PyYAML notices the unclosed list on the next line, where the mapping goes on.
    after = line_of(main, "[main_menu") + 1
    assert found[0].startswith(f"{main}:{after}: YAML syntax error: ")


def test_duplicate_key_names_both_lines(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "    next: billing_confirm", "    next: billing_confirm\n    next: bye")
    first, second = line_of(main, "next: billing_confirm"), line_of(main, "next: bye")
    assert problems(flow_dir) == [
        f"{main}:{second}: 'next' is defined twice (first at line {first})"
    ]


def test_name_defined_in_two_files_names_both_places(flow_dir: Path) -> None:
    extra = flow_dir / "more.yaml"
    extra.write_text("version: 1\nprompts:\n  greeting:\n    en: Hi.\n")
    assert problems(flow_dir) == [
        f"{extra}:3: prompt 'greeting' is defined twice (first at {flow_dir / 'main.yaml'}:8)"
    ]


def test_single_section_may_appear_in_only_one_file(flow_dir: Path) -> None:
    extra = flow_dir / "more.yaml"
    extra.write_text("version: 1\nstart: bye\n")
    assert problems(flow_dir) == [
        f"{extra}:2: 'start' is already set at {flow_dir / 'main.yaml'}:5; "
        "it may appear in only one file"
    ]


def test_version_missing_or_not_one(flow_dir: Path) -> None:
    edit(flow_dir / "main.yaml", "version: 1\n", "")
    edit(flow_dir / "intents.yaml", "version: 1", "version: 2")
    assert problems(flow_dir) == [
        f"{flow_dir / 'intents.yaml'}:1: 'version' must be 1, not 2",
        f"{flow_dir / 'main.yaml'}:1: 'version' is missing; "
        "every flow file starts with 'version: 1'",
    ]


def test_unknown_top_level_key(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "business_hours:", "busines_hours:")
    assert problems(flow_dir) == [
        f"{main}:{line_of(main, 'busines_hours')}: unknown key 'busines_hours'; "
        "did you mean 'business_hours'?"
    ]


def test_missing_required_sections(flow_dir: Path) -> None:
    edit(flow_dir / "main.yaml", "name: Tiny test line\n", "")
    edit(flow_dir / "main.yaml", "languages: [en]\n", "")
    found = problems(flow_dir)
    intents = flow_dir / "intents.yaml"
    assert f"{intents}:1: 'name' is missing; one file must set it" in found
    assert f"{intents}:1: 'languages' is missing; one file must set it" in found


def test_wrong_value_types(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "languages: [en]", "languages: en")
    edit(main, "clarifying_questions: 1", "clarifying_questions: one")
    edit(main, "max_expected_wait_seconds: 120", "max_expected_wait_seconds: 1.5")
    edit(main, "    next: main_menu", "    next: [main_menu]")
    found = problems(flow_dir)
    assert f"{main}:3: 'languages' should be a list, not 'en'" in found
    line = line_of(main, "clarifying_questions:")
    assert (
        f"{main}:{line}: escalation: 'clarifying_questions' should be a whole number, not 'one'"
        in found
    )
    line = line_of(main, "max_expected_wait_seconds:")
    assert (
        f"{main}:{line}: callbacks: 'max_expected_wait_seconds' should be a whole number, "
        "not the number 1.5" in found
    )
    line = line_of(main, "[main_menu]")
    assert f"{main}:{line}: step 'welcome': 'next' should be text, not a list" in found


def test_step_without_a_kind_or_with_two(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, '    say: {en: "Welcome."}\n', "")
    edit(main, "    end: {en", "    say: greeting\n    end: {en")
    assert problems(flow_dir) == [
        f"{main}:{line_of(main, 'welcome:')}: step 'welcome': has no kind: "
        "give it one of say, ask, collect, confirm, transfer, callback, end",
        f"{main}:{line_of(main, '  bye:')}: step 'bye': has two kinds, 'say' and 'end'; "
        "a step does one thing",
    ]


def test_unknown_and_misplaced_step_keys(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "    next: main_menu", "    nxet: main_menu")
    edit(main, "    reason: outage", "    reason: outage\n    routes: {}")
    assert problems(flow_dir) == [
        f"{main}:{line_of(main, 'welcome:')}: step 'welcome': 'next' is missing; "
        "a say step needs it",
        f"{main}:{line_of(main, 'nxet')}: step 'welcome': a say step has no key 'nxet'; "
        "did you mean 'next'?",
        f"{main}:{line_of(main, 'routes: {}')}: step 'outage_agent': "
        "a transfer step has no key 'routes'",
    ]


def test_missing_required_step_keys(flow_dir: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "    prompt: ask_account\n", "")
    edit(main, "    reason: billing\n", "")
    assert problems(flow_dir) == [
        f"{main}:{line_of(main, 'billing_account:')}: step 'billing_account': "
        "'prompt' is missing; a collect step needs it",
        f"{main}:{line_of(main, 'billing_agent:')}: step 'billing_agent': "
        "'reason' is missing; a transfer step needs it",
    ]


def test_yes_and_no_stay_text(flow_dir: Path) -> None:
    edit(flow_dir / "intents.yaml", "        - bye\n", "        - no\n")
    flow = load_flow(flow_dir)
    assert "no" in flow.intents["goodbye"].examples["en"]


def test_empty_file_reports_missing_version(flow_dir: Path) -> None:
    empty = flow_dir / "empty.yaml"
    empty.write_text("")
    assert problems(flow_dir) == [
        f"{empty}:1: 'version' is missing; every flow file starts with 'version: 1'"
    ]


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}:0: no such file or folder"]
    assert problems(tmp_path) == [f"{tmp_path}:0: no flow files (*.yaml) in this folder"]


def test_file_that_is_not_a_mapping(flow_dir: Path) -> None:
    extra = flow_dir / "list.yaml"
    extra.write_text("- version: 1\n")
    assert problems(flow_dir) == [
        f"{extra}:1: a flow file should be a mapping of sections like 'steps:'"
    ]
