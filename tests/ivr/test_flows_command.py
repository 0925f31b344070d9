from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.flow.errors import display_path
from ivr.commands.flows import flows
from tests.bot.flow_helpers import VALID


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    shutil.copytree(VALID, tmp_path / "flows")
    main = tmp_path / "flows" / "main.yaml"
    text = main.read_text()
    text = text.replace("no: billing_account", "no: biling_account")
    text = text.replace("margin: 0.1", "margin: 1.5")
    main.write_text(text)
    return tmp_path / "flows"


def test_check_ok() -> None:
    result = CliRunner().invoke(flows, ["check", str(VALID)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{display_path(VALID)}: OK — 7 steps, 5 intents, 30 prompts, languages en, "
        "0 queues, 0 agents\n"
    )


def test_check_the_real_flows_with_their_people() -> None:
    real = Path(__file__).parents[2] / "flows"
    result = CliRunner().invoke(flows, ["check", str(real)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{display_path(real)}: OK — ")
    assert result.stdout.endswith(", languages en, cs, pl, lv, 6 queues, 6 agents\n")


def test_check_prints_every_problem_and_exits_1(broken: Path) -> None:
    result = CliRunner().invoke(flows, ["check", str(broken)])
    assert result.exit_code == 1
    assert result.stdout == ""
    main = broken / "main.yaml"
    lines = main.read_text().splitlines()
    no, margin = (lines.index(line) + 1 for line in ("    no: biling_account", "  margin: 1.5"))
    assert result.stderr.splitlines() == [
        f"{main}:{no}: step 'billing_confirm': 'no' points to unknown step 'biling_account'; "
        "did you mean 'billing_account'?",
        f"{main}:{margin}: escalation: 'margin' must be at least 0 and below 1, not 1.5",
        f"{broken}: 2 problems",
    ]


def test_check_defaults_to_the_flows_setting(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_FLOWS", str(broken))
    result = CliRunner().invoke(flows, ["check"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"{broken}: 2 problems"


def test_check_several_paths_fails_if_any_fails(broken: Path) -> None:
    result = CliRunner().invoke(flows, ["check", str(VALID), str(broken)])
    assert result.exit_code == 1
    assert "OK" in result.stdout
    assert f"{broken}: 2 problems" in result.stderr


@pytest.mark.parametrize(("which", "code"), [("valid", 0), ("broken", 1)])
def test_real_process_exit_code(broken: Path, which: str, code: int) -> None:
    path = VALID if which == "valid" else broken
    process = subprocess.run(
        [sys.executable, "-c", "from ivr.commands.flows import flows; flows()", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == code, process.stderr
    if code:
        assert process.stderr.splitlines()[-1] == f"{broken}: 2 problems"
    else:
        assert "OK — 7 steps" in process.stdout
