from __future__ import annotations

import pytest

from ivr.simulator import CallerTurn, ScriptError, parse_line


@pytest.mark.parametrize(
    ("line", "turn"),
    [
        ("my internet is down", CallerTurn("speech", "my internet is down")),
        ("  [keypad 0] ", CallerTurn("keypad", "0")),
        ("[keypad 4412*#]", CallerTurn("keypad", "4412*#")),
        ("[silence]", CallerTurn("silence")),
        ("[hangup]", CallerTurn("hangup")),
        ("", None),
        ("# a comment", None),
    ],
)
def test_input_lines(line: str, turn: CallerTurn | None) -> None:
    assert parse_line(line) == turn


@pytest.mark.parametrize("line", ["[keypad]", "[silence 3]", "[dance]", "[keypad abc]"])
def test_bad_control_lines_name_the_line(line: str) -> None:
    with pytest.raises(ScriptError, match="line 7"):
        parse_line(line, 7)
