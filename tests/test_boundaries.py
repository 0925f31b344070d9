"""The architecture's boundaries, checked.

Which package may import which is written once, as import-linter contracts in
``pyproject.toml`` (run here and by ``make lint``). What a contract cannot say is checked
here: importing the brain and the audio loads no web edge at run time, the app never loads
TensorFlow (Rasa lives in its own process and environment), and Twilio's field names appear
only in ``ivr/twilio/``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDGE_ONLY = {"flask", "simple_websocket", "twilio", "werkzeug", "socket", "gunicorn"}
NEVER_IN_APP = {"tensorflow", "rasa", "sanic"}
#: Twilio's request fields (webhook forms and stream messages): only ivr/twilio may name them.
TWILIO_FIELDS = frozenset(
    {
        "AccountSid", "AnsweredBy", "ApiVersion", "Body", "CallDuration", "CallSid",
        "CallStatus", "Called", "CallerName", "Caller", "DialBridged", "DialCallSid",
        "DialCallStatus", "Digits", "Direction", "ForwardedFrom", "From", "MessageSid",
        "ParentCallSid", "StreamSid", "To", "callSid", "streamSid", "customParameters",
    }
)  # fmt: skip
TWILIO_EDGE = ROOT / "ivr" / "twilio"


def package_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def twilio_field_names(path: Path) -> set[str]:
    """String constants in ``path`` that are Twilio field names (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value in TWILIO_FIELDS
    }


@pytest.mark.parametrize(
    "path",
    [p for p in package_files("ivr", "bot", "voice") if TWILIO_EDGE not in p.parents],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_twilio_field_name_outside_the_twilio_edge(path: Path) -> None:
    assert not twilio_field_names(path)


def test_the_field_name_scan_would_catch_a_leak(tmp_path: Path) -> None:
    sample = tmp_path / "leak.py"
    sample.write_text(
        '"""Reads From and CallSid (a docstring may say so)."""\n'
        "def handler(form):\n"
        '    """Uses To."""\n'
        '    return form["CallSid"], form.get("DialCallStatus"), "caller"\n'
    )
    assert twilio_field_names(sample) == {"CallSid", "DialCallStatus"}


def test_the_twilio_edge_does_read_them() -> None:
    """The scan looks at the right thing: the edge itself is where the names are."""
    assert {"CallSid", "From", "DialCallStatus", "AnsweredBy"} <= twilio_field_names(
        TWILIO_EDGE / "forms.py"
    )


def test_the_import_contracts_hold() -> None:
    """``lint-imports`` checks the contracts in pyproject.toml (layers, forbidden, cycles)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(result.stdout))


def module_names(*packages: str) -> list[str]:
    """Importable modules (Alembic's migration scripts run only inside Alembic)."""
    names = []
    for path in package_files(*packages):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_bot_and_voice_loads_no_web_edge() -> None:
    loaded = loaded_after_import(module_names("bot", "voice"))
    assert not loaded & (EDGE_ONLY - {"socket"})  # the stdlib imports socket on its own


def test_the_app_never_loads_tensorflow_or_rasa() -> None:
    loaded = loaded_after_import(module_names("bot", "voice", "ivr"))
    assert not loaded & NEVER_IN_APP
