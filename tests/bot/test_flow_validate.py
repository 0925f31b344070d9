from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.flow import load_flow, validate
from bot.flow.hours import parse_days, parse_windows
from tests.bot.flow_helpers import VALID, at, edit, problems


@pytest.fixture
def main(flow_dir: Path) -> Path:
    return flow_dir / "main.yaml"


@pytest.fixture
def intents(flow_dir: Path) -> Path:
    return flow_dir / "intents.yaml"


def test_the_valid_fixture_has_no_problems() -> None:
    assert validate(load_flow(VALID)) == []


def test_every_problem_is_reported_at_once(flow_dir: Path, main: Path) -> None:
    edit(main, "no: billing_account", "no: biling_account")
    edit(main, "margin: 0.1", "margin: 1.5")
    edit(main, "sat:", "sut:")
    assert problems(flow_dir) == [
        f"{at(main, 'biling_account')}: step 'billing_confirm': 'no' points to unknown step "
        "'biling_account'; did you mean 'billing_account'?",
        f"{at(main, 'margin:')}: escalation: 'margin' must be at least 0 and below 1, not 1.5",
        f"{at(main, 'sut:')}: business_hours: unknown day 'sut'; did you mean 'sun'? "
        "(use mon..sun)",
    ]


def test_route_to_unknown_step_and_intent(flow_dir: Path, main: Path) -> None:
    edit(main, "report_outage: outage_agent", "report_outag: outage_agnt")
    where = at(main, "report_outag:")
    assert problems(flow_dir) == [
        f"{where}: step 'main_menu': routes: unknown intent 'report_outag'; "
        "did you mean 'report_outage'?",
        f"{where}: step 'main_menu': route 'report_outag' points to unknown step "
        "'outage_agnt'; did you mean 'outage_agent'?",
    ]


def test_yes_target_and_start_unknown(flow_dir: Path, main: Path) -> None:
    edit(main, "yes: billing_agent", "yes: nowhere")
    edit(main, "start: welcome", "start: welcom")
    assert problems(flow_dir) == [
        f"{at(main, 'start:')}: 'start' points to unknown step 'welcom'; did you mean 'welcome'?",
        f"{at(main, 'yes: nowhere')}: step 'billing_confirm': 'yes' points to unknown step "
        "'nowhere'",
    ]


def test_global_intents_unknown_intent_and_goto(flow_dir: Path, main: Path) -> None:
    edit(main, "talk_to_human: {action: person}", "talk_to_humn: {action: person}")
    edit(main, "goodbye: {goto: bye}", "goodbye: {goto: by}")
    assert problems(flow_dir) == [
        f"{at(main, 'talk_to_humn')}: global_intents: unknown intent 'talk_to_humn'; "
        "did you mean 'talk_to_human'?",
        f"{at(main, 'goto: by}')}: global intent 'goodbye': 'goto' points to unknown step "
        "'by'; did you mean 'bye'?",
    ]


def test_unknown_global_action(flow_dir: Path, main: Path) -> None:
    edit(main, "talk_to_human: {action: person}", "talk_to_human: {action: persn}")
    assert problems(flow_dir) == [
        f"{at(main, 'persn')}: global intent 'talk_to_human': unknown action 'persn'; "
        "did you mean 'person'? (use person, repeat, help, goto, callback)"
    ]


def test_unreachable_step(flow_dir: Path, main: Path) -> None:
    edit(main, "goodbye: {goto: bye}", "goodbye: {action: repeat}")
    assert problems(flow_dir) == [
        f"{at(main, '  bye:')}: step 'bye': is never reached: "
        "no step or global intent leads to it from 'start'"
    ]


def test_unknown_prompt_ids(flow_dir: Path, main: Path) -> None:
    edit(main, "ask: greeting", "ask: greting")
    edit(main, "help: {action: help, say: help_text}", "help: {action: help, say: helptext}")
    assert problems(flow_dir) == [
        f"{at(main, 'greting')}: step 'main_menu': 'ask': unknown prompt 'greting'; "
        "did you mean 'greeting'?",
        f"{at(main, 'helptext')}: global intent 'help': 'say': unknown prompt 'helptext'; "
        "did you mean 'help_text'?",
    ]


def test_missing_texts_for_a_declared_language(flow_dir: Path, main: Path) -> None:
    edit(main, "languages: [en]", "languages: [en, cs]")
    found = problems(flow_dir)
    assert f"{at(main, '  greeting:')}: prompt 'greeting' has no text for language 'cs'" in found
    assert f"{at(main, 'Welcome.')}: step 'welcome': 'say' has no text for language 'cs'" in found
    assert f"{at(main, 'clarify:')}: system prompt 'clarify' has no text for language 'cs'" in found
    intents = main.parent / "intents.yaml"
    label = at(intents, "a question about your bill")
    assert f"{label}: intent 'billing_question': 'label' has no text for language 'cs'" in found


def test_declared_language_without_examples(flow_dir: Path, main: Path, intents: Path) -> None:
    edit(main, "languages: [en]", "languages: [en, cs]")
    found = problems(flow_dir)
    billing = at(intents, "billing_question:")
    assert (
        f"{billing}: intent 'billing_question': language 'cs' is declared but has no examples"
        in found
    )


def test_default_language_must_be_declared(flow_dir: Path, main: Path) -> None:
    edit(main, "default_language: en", "default_language: cs")
    assert problems(flow_dir) == [
        f"{at(main, 'default_language')}: default_language 'cs' is not one of the languages (en)"
    ]


def test_text_in_a_language_not_listed(flow_dir: Path, main: Path) -> None:
    edit(
        main,
        '    en: "Thanks for calling. How can I help?"\n',
        '    en: "Thanks for calling."\n    de: "Hallo"\n',
    )
    assert problems(flow_dir) == [
        f"{at(main, 'Hallo')}: prompt 'greeting': language 'de' is not in languages [en]"
    ]


def test_typo_in_a_language_key(flow_dir: Path, main: Path) -> None:
    edit(main, 'say: {en: "Welcome."}', 'say: {ne: "Welcome."}')
    edit(main, 'goodbye: {en: "Goodbye."}', 'goodbye: {eng: "Goodbye."}')
    welcome, goodbye = at(main, "Welcome."), at(main, "eng:")
    assert problems(flow_dir) == [
        f"{goodbye}: system prompt 'goodbye': language 'eng' is not in languages [en]; "
        "did you mean 'en'?",
        f"{goodbye}: system prompt 'goodbye' has no text for language 'en'",
        f"{welcome}: step 'welcome': 'say': language 'ne' is not in languages [en]",
        f"{welcome}: step 'welcome': 'say' has no text for language 'en'",
    ]


def test_intent_label_and_examples_in_a_language_not_listed(flow_dir: Path, intents: Path) -> None:
    edit(intents, '{en: "a question about your bill"}', '{en: "your bill", de: "Rechnung"}')
    wrong = "        - my invoice is wrong\n"
    edit(intents, wrong, f"{wrong}      fr:\n        - ma facture\n")
    assert problems(flow_dir) == [
        f"{at(intents, 'Rechnung')}: intent 'billing_question': 'label': language 'de' is not "
        "in languages [en]",
        f"{at(intents, 'fr:')}: intent 'billing_question': 'examples': language 'fr' is not in "
        "languages [en]",
    ]


def test_no_language_check_without_languages(flow_dir: Path, main: Path) -> None:
    edit(main, "languages: [en]\n", "")
    edit(main, 'say: {en: "Welcome."}', 'say: {ne: "Welcome."}')
    assert not [p for p in problems(flow_dir) if "is not in languages" in p]


def test_fewer_than_five_examples(flow_dir: Path, intents: Path) -> None:
    edit(intents, "        - see you\n", "")
    edit(intents, "        - bye\n", "")
    lines = intents.read_text().splitlines()
    line = max(n for n, text in enumerate(lines, 1) if text.strip() == "en:")
    assert problems(flow_dir) == [
        f"{intents}:{line}: intent 'goodbye': 3 examples in 'en'; at least 5 are needed"
    ]


def test_entity_naming_an_undeclared_slot(flow_dir: Path, intents: Path) -> None:
    edit(intents, "(account_number)", "(acount_number)")
    assert problems(flow_dir) == [
        f"{at(intents, 'acount_number')}: intent 'billing_question': example marks unknown "
        "slot 'acount_number'; did you mean 'account_number'?"
    ]


def test_placeholders_name_slots(flow_dir: Path, main: Path) -> None:
    edit(main, "I have account {account_number}.", "I have account {acount} {options}.")
    assert problems(flow_dir) == [
        f"{at(main, 'acount')}: prompt 'read_back_account': the 'en' text uses {{acount}}, "
        "but there is no slot 'acount'; did you mean 'account_number'?",
        f"{at(main, 'acount')}: prompt 'read_back_account': the 'en' text uses {{options}}, "
        "but there is no slot 'options'",
    ]


def test_clarify_may_use_options_but_others_may_not(flow_dir: Path, main: Path) -> None:
    edit(main, '{en: "Are you still there?"}', '{en: "Still there? {options}"}')
    assert problems(flow_dir) == [
        f"{at(main, 'Still there')}: system prompt 'no_input': the 'en' text uses {{options}}, "
        "but there is no slot 'options'"
    ]


def test_unmatched_brace(flow_dir: Path, main: Path) -> None:
    edit(main, '"Connecting you now."', '"Connecting you {now."')
    assert problems(flow_dir) == [
        f"{at(main, '{now')}: system prompt 'connecting': the 'en' text has an unmatched "
        "'{' or '}'"
    ]


def test_missing_and_unknown_system_prompts(flow_dir: Path, main: Path) -> None:
    edit(main, "  goodbye: {en", "  good_bye: {en")
    assert problems(flow_dir) == [
        f"{at(main, 'system_prompts:')}: system prompt 'goodbye' is missing; the engine needs it",
        f"{at(main, 'good_bye')}: system_prompts: unknown key 'good_bye'; did you mean 'goodbye'?",
    ]


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("confidence_threshold: 0.6", "1", "between 0 and 1 (not equal)"),
        ("margin: 0.1", "-0.1", "at least 0 and below 1"),
        ("clarifying_questions: 1", "4", "0 to 3"),
        ("misunderstandings_before_person: 2", "0", "1 to 5"),
        ("silences_before_person: 2", "6", "1 to 5"),
    ],
)
def test_thresholds_out_of_range(
    flow_dir: Path, main: Path, key: str, value: str, allowed: str
) -> None:
    name = key.split(":")[0]
    edit(main, key, f"{name}: {value}")
    assert problems(flow_dir) == [
        f"{at(main, name + ':')}: escalation: '{name}' must be {allowed}, not {value}"
    ]


def test_after_silences_must_be_person_or_end(flow_dir: Path, main: Path) -> None:
    edit(main, "after_silences: person", "after_silences: hangup")
    assert problems(flow_dir) == [
        f"{at(main, 'after_silences')}: escalation: 'after_silences' must be 'person' or "
        "'end', not 'hangup'"
    ]


def test_duplicate_step_across_files(flow_dir: Path, main: Path) -> None:
    extra = flow_dir / "zz.yaml"  # read after main.yaml
    extra.write_text("version: 1\nsteps:\n  bye:\n    end: {en: Bye.}\n")
    assert problems(flow_dir) == [
        f"{extra}:3: step 'bye' is defined twice (first at {at(main, '  bye:')})"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('sat: "09:00-13:00', 'sat-mon: "09:00-13:00', "the day range 'sat-mon' runs backwards"),
        ('"08:00-20:00"', '"08:00-25:00"', "'mon-fri': '25:00' is not a time like '08:00'"),
        ('"08:00-20:00"', '"20:00-08:00"', "'mon-fri': '20:00-08:00' ends before it starts"),
        ('"08:00-20:00"', '"8am to 8pm"', "'mon-fri': '8am to 8pm' is not opening hours"),
        (
            '"09:00-13:00, 14:00-17:00"',
            '"09:00-13:00, 12:00-17:00"',
            "on sat, 12:00-17:00 overlaps 09:00-13:00",
        ),
        ("timezone: Europe/London", "timezone: Europe/Londn", "unknown time zone 'Europe/Londn'"),
        ("2026-12-26]", "2026-13-26]", "closed_on: '2026-13-26' is not a date like 2026-12-25"),
    ],
)
def test_bad_business_hours(flow_dir: Path, main: Path, old: str, new: str, message: str) -> None:
    edit(main, old, new)
    found = problems(flow_dir)
    assert len(found) == 1
    assert found[0].startswith(f"{at(main, new)}: business_hours: {message}")


def test_same_day_in_two_keys_overlapping(flow_dir: Path, main: Path) -> None:
    edit(main, '    sat: "09:00', '    fri: "19:00-21:00"\n    sat: "09:00')
    assert problems(flow_dir) == [
        f"{at(main, '19:00-21:00')}: business_hours: on fri, 19:00-21:00 overlaps "
        f"08:00-20:00 (line {at(main, 'mon-fri').split(':')[1]})"
    ]


def test_unknown_slot_type_and_lengths(flow_dir: Path, main: Path) -> None:
    edit(
        main,
        "account_number: {type: digits, min_length: 8, max_length: 8}",
        "account_number: {type: digits, min_length: 9, max_length: 8}\n"
        "  note: {type: txt}\n"
        "  answer: {type: yes_no, max_length: 3}",
    )
    assert problems(flow_dir) == [
        f"{at(main, 'min_length: 9')}: slot 'account_number': min_length 9 is more than "
        "max_length 8",
        f"{at(main, 'txt')}: slot 'note': unknown type 'txt'; did you mean 'text'? "
        "(use digits, yes_no, datetime, text)",
        f"{at(main, 'answer')}: slot 'answer': 'max_length' only applies to digits slots, "
        "not yes_no",
    ]


def test_collect_names_an_unknown_slot(flow_dir: Path, main: Path) -> None:
    edit(main, "collect: account_number", "collect: acount")
    assert problems(flow_dir) == [
        f"{at(main, 'collect: acount')}: step 'billing_account': collects unknown slot "
        "'acount'; did you mean 'account_number'?"
    ]


def test_max_expected_wait_must_be_positive(flow_dir: Path, main: Path) -> None:
    edit(main, "max_expected_wait_seconds: 120", "max_expected_wait_seconds: 0")
    assert problems(flow_dir) == [
        f"{at(main, 'max_expected_wait')}: callbacks: 'max_expected_wait_seconds' must be "
        "more than 0, not 0"
    ]


def test_unknown_keys_in_slots_intents_and_business_hours(
    flow_dir: Path, main: Path, intents: Path
) -> None:
    edit(main, "max_length: 8}", "max_lenght: 8}")
    edit(main, "closed_on:", "closed:")
    edit(intents, '    label: {en: "help"}', '    labels: {en: "help"}')
    found = problems(flow_dir)
    assert found == [
        f"{at(intents, '  help:')}: intent 'help': 'label' is missing",
        f"{at(intents, 'labels')}: intent 'help': unknown key 'labels'; did you mean 'label'?",
        f"{at(main, 'max_lenght')}: slot 'account_number': unknown key 'max_lenght'; "
        "did you mean 'max_length'?",
        f"{at(main, 'closed:')}: business_hours: unknown key 'closed'; did you mean 'closed_on'?",
    ]


def test_day_and_window_parsing() -> None:
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("Sun") == [6]
    windows = parse_windows("09:00-13:00, 14:00-24:00")
    assert windows[0].start == time(9) and windows[0].end == time(13)
    assert windows[1].end == time.max  # 24:00: open until midnight
    with pytest.raises(ValueError, match="'24:30' is not a time"):
        parse_windows("09:00-24:30")
    with pytest.raises(ValueError, match="unknown day 'mo'"):
        parse_days("mo-fri")


def test_help_action_needs_a_prompt(flow_dir: Path, main: Path) -> None:
    edit(main, "help: {action: help, say: help_text}", "help: {action: help}")
    assert problems(flow_dir) == [
        f"{at(main, 'help: {action: help}')}: global intent 'help': 'say' is missing; "
        "the help action needs it"
    ]
