"""The people sections (queues and agents): loading, and every kind of problem at its line."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.flow import load_flow
from bot.flow.errors import display_path
from bot.flow.model import CallbackMode, Location, OpeningInterval
from bot.flow.people import parse_quiet_hours
from tests.bot.flow_helpers import at, edit, line_of, problems

PEOPLE = """\
version: 1
queues:
  general:
    label: {en: "your call"}
  billing:
    label: {en: "your bill"}
    hours:
      open: {mon-fri: "09:00-17:00"}
    max_expected_wait_seconds: 90
    same_agent_days: 3
    callbacks:
      mode: customer_first
      max_attempts: 4
      retry_after_minutes: [5, 15]
      quiet_hours: "21:00-08:00"
      sms_confirmation: true
      caller_id: "+442079460000"
  faults:
    label: {en: "the fault you reported"}
agents:
  alice:
    name: Alice Smith
    phone: "+441632960001"
    queues: [billing, general]
    shift: {timezone: America/New_York, open: {mon-fri: "04:00-12:00"}}
  bob:
    sip: bob@pbx.example.com
    queues: [faults]
    shift: {open: {sat: "09:00-13:00"}}
  carol:
    client: "client:carol"
    queues: [general, billing]
"""


@pytest.fixture
def people(flow_dir: Path) -> Path:
    """``people.yaml`` beside the valid fixture flow (which transfers to billing and faults)."""
    path = flow_dir / "people.yaml"
    path.write_text(PEOPLE)
    return path


def test_queues_and_agents_load_with_their_lines_and_defaults(flow_dir: Path, people: Path) -> None:
    flow = load_flow(flow_dir)
    assert list(flow.queues) == ["general", "billing", "faults"]
    assert list(flow.agents) == ["alice", "bob", "carol"]
    shown = display_path(people)
    general, billing = flow.queues["general"], flow.queues["billing"]
    assert general.where == Location(shown, line_of(people, "  general:"))
    assert general.label == {"en": "your call"}
    # No hours, wait or callbacks of its own: the flow's.
    assert general.hours == flow.business_hours
    assert general.max_expected_wait_seconds == flow.callbacks.max_expected_wait_seconds == 120
    assert general.same_agent_days == 7
    assert general.callbacks.mode is CallbackMode.AGENT_FIRST
    assert general.callbacks.sms_confirmation is False
    # Own hours without a time zone are in the flow's zone.
    assert billing.hours.timezone == "Europe/London"
    assert billing.hours.weekly[0] == (OpeningInterval(time(9), time(17)),)
    assert 5 not in billing.hours.weekly
    assert (billing.max_expected_wait_seconds, billing.same_agent_days) == (90, 3)
    callbacks = billing.callbacks
    assert callbacks.mode is CallbackMode.CUSTOMER_FIRST
    assert (callbacks.max_attempts, callbacks.retry_after_minutes) == (4, (5, 15))
    assert callbacks.quiet_hours == (
        OpeningInterval(time(21), time.max),
        OpeningInterval(time(0), time(8)),
    )
    assert callbacks.sms_confirmation is True
    assert callbacks.caller_id == "+442079460000"
    alice, bob, carol = (flow.agents[a] for a in ("alice", "bob", "carol"))
    assert (alice.name, alice.address, alice.queues) == (
        "Alice Smith",
        "+441632960001",
        ("billing", "general"),
    )
    assert alice.shift.timezone == "America/New_York"
    assert alice.where == Location(shown, line_of(people, "  alice:"))
    assert (bob.name, bob.address) == ("bob", "sip:bob@pbx.example.com")  # scheme added
    assert bob.shift.timezone == "Europe/London"  # the flow's zone
    assert carol.address == "client:carol"
    assert not carol.shift.weekly  # no shift: whenever the queue is open


def test_people_in_a_file_of_any_name(flow_dir: Path) -> None:
    (flow_dir / "staff.yaml").write_text(PEOPLE)
    assert set(load_flow(flow_dir).agents) == {"alice", "bob", "carol"}


def test_unknown_keys(flow_dir: Path, people: Path) -> None:
    edit(people, "    same_agent_days: 3", "    same_agent_day: 3")
    edit(people, "      sms_confirmation: true", "      sms: true")
    edit(people, "    name: Alice Smith", "    nmae: Alice Smith")
    assert problems(flow_dir) == [
        f"{at(people, 'same_agent_day:')}: queue 'billing': unknown key 'same_agent_day'; "
        "did you mean 'same_agent_days'?",
        f"{at(people, 'sms:')}: queue 'billing': callbacks: unknown key 'sms'",
        f"{at(people, 'nmae:')}: agent 'alice': unknown key 'nmae'; did you mean 'name'?",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'phone: "+441632960001"',
            'phone: "01632 960001"',
            "agent 'alice': 'phone' must be a number like +441632960001 (a '+', then 8 to 15 "
            "digits, no spaces), not '01632 960001'",
        ),
        (
            'phone: "+441632960001"',
            "phone: +4416",
            "agent 'alice': 'phone' must be a number like +441632960001 (a '+', then 8 to 15 "
            "digits, no spaces), not '+4416'",
        ),
        (
            "sip: bob@pbx.example.com",
            "sip: bob",
            "agent 'bob': 'sip' must be an address like sip:alice@pbx.example.com, not 'sip:bob'",
        ),
        (
            'client: "client:carol"',
            'client: "carol smith"',
            "agent 'carol': 'client' must be a Twilio Client id like client:alice "
            "(letters, digits and _), not 'client:carol smith'",
        ),
        (
            'caller_id: "+442079460000"',
            'caller_id: "020 7946 0000"',
            "queue 'billing': callbacks: 'caller_id' must be a number like +441632960001 "
            "(a '+', then 8 to 15 digits, no spaces), not '020 7946 0000'",
        ),
    ],
)
def test_address_formats(flow_dir: Path, people: Path, old: str, new: str, message: str) -> None:
    edit(people, old, new)
    assert problems(flow_dir) == [f"{at(people, new)}: {message}"]


def test_unquoted_phone_number_is_taken_as_written(flow_dir: Path, people: Path) -> None:
    # YAML reads +441632960001 as a number; the address keeps the '+' as written.
    edit(people, 'phone: "+441632960001"', "phone: +441632960001")
    assert load_flow(flow_dir).agents["alice"].address == "+441632960001"


def test_exactly_one_address(flow_dir: Path, people: Path) -> None:
    edit(people, "    sip: bob@pbx.example.com", '    sip: bob@pbx.example.com\n    phone: "+4420"')
    edit(people, '    client: "client:carol"\n', "")
    assert problems(flow_dir) == [
        f"{at(people, '  bob:')}: agent 'bob': give exactly one of 'phone', 'sip' or 'client' "
        "(found 'phone' and 'sip')",
        f"{at(people, '  carol:')}: agent 'carol': give exactly one of 'phone', 'sip' or "
        "'client' (found none)",
    ]


def test_agent_queue_must_be_declared(flow_dir: Path, people: Path) -> None:
    edit(people, "queues: [billing, general]", "queues:\n      - biling\n      - general")
    assert problems(flow_dir) == [
        f"{at(people, '- biling')}: agent 'alice': queue 'biling' is not declared; "
        "did you mean 'billing'?"
    ]
    assert problems(flow_dir)[0].startswith(f"{display_path(people)}:")


def test_agent_queues_listed_twice_or_empty(flow_dir: Path, people: Path) -> None:
    edit(people, "queues: [faults]", "queues: [faults, faults]")
    edit(people, "queues: [general, billing]", "queues: []")
    assert problems(flow_dir) == [
        f"{at(people, '[faults, faults]')}: agent 'bob': queue 'faults' is listed twice",
        f"{at(people, 'queues: []')}: agent 'carol': 'queues' is empty; list the queues they "
        "answer, like [general]",
    ]


def test_duplicate_agent_addresses(flow_dir: Path, people: Path) -> None:
    edit(people, 'client: "client:carol"', 'phone: "+441632960001"')
    assert problems(flow_dir) == [
        f"{people}:{line_of(people, '  carol:') + 1}: "
        "agent 'carol': '+441632960001' is also the address of agent 'alice' "
        f"(line {line_of(people, '  alice:')})"
    ]


def test_duplicate_address_in_another_file(flow_dir: Path, people: Path) -> None:
    other = flow_dir / "zz_more_people.yaml"
    other.write_text(
        "version: 1\nagents:\n  dave:\n    sip: sip:bob@pbx.example.com\n    queues: [faults]\n"
    )
    assert problems(flow_dir) == [
        f"{other}:4: agent 'dave': 'sip:bob@pbx.example.com' is also the address of agent "
        f"'bob' ({at(people, '  bob:')})"
    ]


def test_queue_defined_twice_across_files(flow_dir: Path, people: Path) -> None:
    other = flow_dir / "zz_more_people.yaml"
    other.write_text('version: 1\nqueues:\n  faults:\n    label: {en: "a fault"}\n')
    assert problems(flow_dir) == [
        f"{other}:3: queue 'faults' is defined twice (first at {at(people, '  faults:')})"
    ]


def test_steps_and_escalation_must_use_declared_queues(flow_dir: Path, people: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(people, "  faults:\n", "  fault:\n")
    edit(main, "person_queue: general", "person_queue: genral")
    assert problems(flow_dir) == [
        f"{at(main, 'transfer: faults')}: step 'outage_agent': queue 'faults' is not declared; "
        "did you mean 'fault'?",
        f"{at(main, 'person_queue')}: escalation: 'person_queue': queue 'genral' is not "
        "declared; did you mean 'general'?",
        f"{at(people, 'queues: [faults]')}: agent 'bob': queue 'faults' is not declared; "
        "did you mean 'fault'?",
    ]


def test_callback_step_queue_must_be_declared(flow_dir: Path, people: Path) -> None:
    main = flow_dir / "main.yaml"
    edit(main, "    transfer: faults\n", "    callback: faults_team\n")
    assert problems(flow_dir) == [
        f"{at(main, 'callback: faults_team')}: step 'outage_agent': queue 'faults_team' is not "
        "declared; did you mean 'faults'?"
    ]


def test_without_queues_steps_may_name_any_queue(flow_dir: Path, people: Path) -> None:
    # The fixture flow names billing, faults and general; with agents only, only agents
    # are checked.
    text = people.read_text()
    people.write_text("version: 1\n" + text[text.index("agents:") :])
    found = problems(flow_dir)
    assert found == [
        f"{at(people, 'queues: [billing, general]')}: agent 'alice': queue 'billing' is not "
        "declared",
        f"{at(people, 'queues: [billing, general]')}: agent 'alice': queue 'general' is not "
        "declared",
        f"{at(people, 'queues: [faults]')}: agent 'bob': queue 'faults' is not declared",
        f"{at(people, 'queues: [general, billing]')}: agent 'carol': queue 'general' is not "
        "declared",
        f"{at(people, 'queues: [general, billing]')}: agent 'carol': queue 'billing' is not "
        "declared",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "max_expected_wait_seconds: 90",
            "max_expected_wait_seconds: 0",
            "queue 'billing': 'max_expected_wait_seconds' must be more than 0, not 0",
        ),
        (
            "same_agent_days: 3",
            "same_agent_days: -1",
            "queue 'billing': 'same_agent_days' must be at least 0, not -1",
        ),
        (
            "max_attempts: 4",
            "max_attempts: 0",
            "queue 'billing': callbacks: 'max_attempts' must be more than 0, not 0",
        ),
        (
            "retry_after_minutes: [5, 15]",
            "retry_after_minutes: [5, -15]",
            "queue 'billing': callbacks: 'retry_after_minutes': each must be more than 0, not -15",
        ),
        (
            "retry_after_minutes: [5, 15]",
            "retry_after_minutes: []",
            "queue 'billing': callbacks: 'retry_after_minutes' is empty; list minutes like "
            "[5, 15, 60]",
        ),
        (
            "max_attempts: 4",
            "max_attempts: three",
            "queue 'billing': callbacks: 'max_attempts' should be a whole number, not 'three'",
        ),
    ],
)
def test_numbers_must_be_positive(
    flow_dir: Path, people: Path, old: str, new: str, message: str
) -> None:
    edit(people, old, new)
    assert problems(flow_dir) == [f"{at(people, new)}: {message}"]


def test_same_agent_days_zero_turns_it_off(flow_dir: Path, people: Path) -> None:
    edit(people, "same_agent_days: 3", "same_agent_days: 0")
    assert load_flow(flow_dir).queues["billing"].same_agent_days == 0


def test_bad_mode_and_sms_flag(flow_dir: Path, people: Path) -> None:
    edit(people, "mode: customer_first", "mode: customer-first")
    edit(people, "sms_confirmation: true", "sms_confirmation: sometimes")
    assert problems(flow_dir) == [
        f"{at(people, 'customer-first')}: queue 'billing': callbacks: unknown mode "
        "'customer-first'; did you mean 'customer_first'? (use agent_first, customer_first)",
        f"{at(people, 'sometimes')}: queue 'billing': callbacks: 'sms_confirmation' should be "
        "true or false, not 'sometimes'",
    ]


@pytest.mark.parametrize(
    ("quiet", "message"),
    [
        ('"21:00"', "'21:00' is not quiet hours like '21:00-08:00'"),
        ('"21:00-25:00"', "'25:00' is not a time like '21:00'"),
        ('"9pm-8am"', "'9pm' is not a time like '21:00'"),
        ('"08:00-08:00"', "'08:00-08:00' starts and ends at the same time"),
        ('"24:00-08:00"', "'24:00' cannot start quiet hours; use '00:00'"),
    ],
)
def test_bad_quiet_hours(flow_dir: Path, people: Path, quiet: str, message: str) -> None:
    edit(people, 'quiet_hours: "21:00-08:00"', f"quiet_hours: {quiet}")
    assert problems(flow_dir) == [
        f"{at(people, 'quiet_hours')}: queue 'billing': callbacks: 'quiet_hours': {message}"
    ]


def test_quiet_hours_parsing() -> None:
    assert parse_quiet_hours("12:00-14:00") == (OpeningInterval(time(12), time(14)),)
    assert parse_quiet_hours("21:00-00:00") == (OpeningInterval(time(21), time.max),)
    assert parse_quiet_hours("22:30-07:15, 12:00-13:00") == (
        OpeningInterval(time(22, 30), time.max),
        OpeningInterval(time(0), time(7, 15)),
        OpeningInterval(time(12), time(13)),
    )
    assert parse_quiet_hours("00:00-24:00") == (OpeningInterval(time(0), time.max),)


def test_label_languages_must_be_the_flows(flow_dir: Path, people: Path) -> None:
    edit(people, 'label: {en: "your bill"}', 'label: {en: "your bill", eng: "bill"}')
    edit(people, 'label: {en: "the fault you reported"}', 'label: {cs: "porucha"}')
    assert problems(flow_dir) == [
        f"{at(people, 'eng:')}: queue 'billing': 'label': language 'eng' is not in languages "
        "[en]; did you mean 'en'?",
        f"{at(people, 'porucha')}: queue 'faults': 'label': language 'cs' is not in languages [en]",
        f"{at(people, 'porucha')}: queue 'faults': 'label' has no text for language 'en'",
    ]


def test_label_is_required(flow_dir: Path, people: Path) -> None:
    edit(people, '    label: {en: "your call"}\n', "    same_agent_days: 1\n")
    assert problems(flow_dir) == [
        f"{at(people, '  general:')}: queue 'general': 'label' is missing"
    ]


def test_bad_queue_hours_and_agent_shift(flow_dir: Path, people: Path) -> None:
    edit(people, 'open: {mon-fri: "09:00-17:00"}', 'open: {mon-fry: "09:00-17:00"}')
    edit(people, "timezone: America/New_York", "timezone: America/NewYork")
    assert problems(flow_dir) == [
        f"{at(people, 'mon-fry')}: queue 'billing': 'hours': unknown day 'fry'; "
        "did you mean 'fri'? (use mon..sun)",
        f"{at(people, 'NewYork')}: agent 'alice': 'shift': unknown time zone "
        "'America/NewYork'; did you mean 'America/New_York'?",
    ]


def test_not_mappings(flow_dir: Path, people: Path) -> None:
    edit(people, '    shift: {open: {sat: "09:00-13:00"}}', "    shift: weekends")
    edit(people, '  faults:\n    label: {en: "the fault you reported"}', "  faults: yes")
    assert problems(flow_dir) == [
        f"{at(people, 'faults: yes')}: queue 'faults' should be a mapping, not yes/no (yes)",
        f"{at(people, 'shift: weekends')}: agent 'bob': 'shift' should be a mapping, not "
        "'weekends'",
    ]
