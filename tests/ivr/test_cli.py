"""The ``ivr`` command as a user runs it: real subprocesses, the real NLU server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import ROOT
from ivr.nlu.service import NLUServerHandle

IVR = [sys.executable, "-m", "ivr"]
MONDAY_MORNING = "2026-11-23T10:00:00+00:00"

#: One new phrasing per demo intent (none is a training example), the step the call must be
#: at afterwards, and what the bot must have done by the end of the script.
ROUTES = [
    (
        "billing_question",
        "hiya theres something wrong with what you charged me this month",
        "billing_account",
        "[listen expect=digits slot=account_number]",
    ),
    (
        "report_outage",
        "the broadband has been dead since this morning",
        "outage_account",
        "[listen expect=digits slot=account_number]",
    ),
    (
        "change_plan",
        "i'd like to move to a cheaper package please",
        "plan_account",
        "[listen expect=digits slot=account_number]",
    ),
    (
        "cancel_contract",
        "i want to end my contract with you",
        "retention_agent",
        "[transfer queue=retention reason=cancel_contract]",
    ),
    (
        "payment_arrangement",
        "i cant afford to pay it all at once can i spread it out",
        "payment_account",
        "[listen expect=digits slot=account_number]",
    ),
    ("opening_hours", "what time do you close today", "anything_else", "[listen expect=intent]"),
    (
        "talk_to_human",
        "can i speak to an actual human being",
        "main_menu",
        "[transfer queue=general reason=asked_for_person]",
    ),
    (
        "request_callback",
        "could somebody ring me back later",
        "callback_general",
        "[listen expect=callback_time]",  # booking the callback: "when would suit you?"
    ),
    ("goodbye", "that's all thanks bye", None, "[hangup reason=completed]"),
    ("repeat", "sorry can you say that again", "main_menu", "[listen expect=intent]"),
]


def run_ivr(
    args: list[str], env: dict[str, str], stdin: str = "", cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IVR, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def env(nlu_server: NLUServerHandle) -> dict[str, str]:
    """The environment of a user whose NLU server is already running."""
    return {
        **os.environ,
        "IVR_NLU_URL": nlu_server.url,
        "IVR_NLU_TOKEN": nlu_server.token,
        "IVR_LOG_LEVEL": "WARNING",
    }


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("intent", "utterance", "step", "marker"), ROUTES, ids=[route[0] for route in ROUTES]
)
def test_simulate_script_routes_each_demo_intent(
    tmp_path: Path,
    env: dict[str, str],
    intent: str,
    utterance: str,
    step: str | None,
    marker: str,
) -> None:
    script = tmp_path / "call.txt"
    script.write_text(f"# one caller turn per line\n{utterance}\n")
    done = run_ivr(["simulate", "--script", str(script), "--json", "--now", MONDAY_MORNING], env)
    assert done.returncode == 0, done.stderr
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert [t["turn"] for t in turns] == [0, 1]
    assert turns[1]["intent"] == intent
    if step is not None:
        assert turns[1]["step"] == step
    assert marker in turns[1]["actions"]


@pytest.mark.rasa
def test_simulate_text_output_shows_markers_and_verbose_nlu(env: dict[str, str]) -> None:
    done = run_ivr(
        ["simulate", "--verbose", "--now", MONDAY_MORNING],
        env,
        stdin="i want to cancel my contract\n",
    )
    assert done.returncode == 0, done.stderr
    assert "bot:  Thanks for calling Acme Telecom." in done.stdout
    assert "(cancel_contract " in done.stdout and "-> route:retention_agent" in done.stdout
    assert "[transfer queue=retention reason=cancel_contract]" in done.stdout


@pytest.mark.rasa
def test_simulate_speaks_the_language_chosen_or_given(env: dict[str, str]) -> None:
    prague = ["simulate", "--now", MONDAY_MORNING, "--from", "+420601234567"]
    done = run_ivr(prague, env, stdin="")
    assert done.returncode == 0, done.stderr
    assert "bot:  Děkujeme, že voláte Acme Telecom." in done.stdout  # the caller's country
    polish = ["simulate", "--now", MONDAY_MORNING, "--to", "+48223070000", "--language", "lv"]
    done = run_ivr(polish, env, stdin="")
    assert done.returncode == 0, done.stderr
    assert "bot:  Paldies, ka zvanāt uz Acme Telecom." in done.stdout  # --language wins
    wrong = run_ivr(["simulate", "--language", "de"], env, stdin="")
    assert wrong.returncode == 2 and "does not speak 'de'" in wrong.stderr


@pytest.mark.rasa
def test_ivr_test_passes_on_the_shipped_tests_and_fails_on_a_wrong_one(
    tmp_path: Path, env: dict[str, str]
) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "version: 1\ntests:\n  - name: expects the wrong team\n    turns:\n"
        "      - caller: i want to cancel my contract\n"
        "        expect: {action: transfer, queue: billing}\n"
    )
    done = run_ivr(["test", str(wrong)], env)
    assert done.returncode == 1
    assert (
        "FAIL" in done.stdout
        and "wrong.yaml:5: queue: expected 'billing', got 'retention'" in done.stdout
    )
    assert done.stdout.strip().endswith("0 passed, 1 failed")

    done = run_ivr(["test", "-k", "keypad 0"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed, 0 failed" in done.stdout


def test_a_broken_flow_is_refused_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", broken)
    main = broken / "main.yaml"
    main.write_text(main.read_text().replace("next: billing_agent", "next: biling_agent", 1))
    line = next(
        n for n, text in enumerate(main.read_text().splitlines(), 1) if "biling_agent" in text
    )
    for command in (
        ["flows", "check", str(broken)],
        ["simulate", "--flows", str(broken)],
        ["test", "--flows", str(broken)],
    ):
        done = run_ivr(command, {**os.environ}, cwd=tmp_path)
        assert done.returncode == 1, command
        assert f"flows/main.yaml:{line}: step 'billing_account':" in done.stderr, done.stderr
        assert "biling_agent" in done.stderr and "billing_agent" in done.stderr  # did you mean
