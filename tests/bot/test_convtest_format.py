from __future__ import annotations

from pathlib import Path

import pytest

from bot.convtest import ConversationTestError, load_tests

GOOD = """\
version: 1
tests:
  - name: greeting then billing
    from: "+447700900123"
    now: "2026-11-22T23:00:00+00:00"
    turns:
      - expect: {step: main_menu}
      - caller: "question about my bill"
        expect: {intent: billing_question, action: listen}
      - keypad: "0"
        expect: {action: transfer, reason: asked_for_person}
      - silence: true
      - caller: "hello?"
        nlu: down
"""


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_valid_file_loads_every_turn(tmp_path: Path) -> None:
    [test] = load_tests(write(tmp_path, GOOD))
    assert test.name == "greeting then billing"
    assert test.caller_number == "+447700900123"
    assert test.now is not None and test.now.hour == 23
    assert [t.caller for t in test.turns] == [None, "question about my bill", None, None, "hello?"]
    assert test.turns[2].keypad == "0"
    assert test.turns[3].silence
    assert test.turns[4].nlu_down and not test.turns[1].nlu_down
    assert test.turns[1].where.line == 8


def test_a_folder_loads_every_yaml_file_in_order(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "b.yaml")
    write(tmp_path, GOOD.replace("greeting then billing", "second"), "a.yaml")
    assert [t.name for t in load_tests(tmp_path)] == ["second", "greeting then billing"]


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        (
            ("      - silence: true", "      - silence: true\n        shout: x"),
            12,
            "unknown turn key",
        ),
        (("{step: main_menu}", "{stepp: main_menu}"), 7, "unknown expect key"),
        (("action: listen", "action: dance"), 8, "action must be one of"),
        (("    from:", "    form:"), 3, "unknown test key"),
        (('      - caller: "hello?"', "      - nlu: up"), 13, "only the first turn"),
        (('      - keypad: "0"', '      - keypad: "0"\n        caller: hi'), 10, "one of caller"),
        (("2026-11-22T23:00:00+00:00", "2026-11-22T23:00:00"), 3, "with an offset"),
        (("version: 1", "version: 2"), 1, "version: 1"),
        (("    turns:", "    turns: [\n"), 8, "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(
    tmp_path: Path, edit: tuple[str, str], line: int, words: str
) -> None:
    old, new = edit
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConversationTestError) as caught:
        load_tests(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:") or message.startswith(f"t.yaml:{line}:"), message
    assert words in message
