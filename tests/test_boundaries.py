"""The architecture's boundaries, checked: the brain and the audio never touch the web edge,
and the app never loads TensorFlow (Rasa lives in its own process and environment)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDGE_ONLY = {"flask", "flask_sock", "twilio", "werkzeug", "socket", "gunicorn"}
NEVER_IN_APP = {"tensorflow", "rasa", "sanic"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def package_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    "path", package_files("bot", "voice"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_bot_and_voice_do_not_import_the_edge(path: Path) -> None:
    assert not imported_modules(path) & EDGE_ONLY


def test_the_scan_would_catch_an_edge_import(tmp_path: Path) -> None:
    sample = tmp_path / "leak.py"
    sample.write_text("import os\nfrom flask import Flask\nfrom twilio.rest import Client\n")
    assert imported_modules(sample) & EDGE_ONLY == {"flask", "twilio"}


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
    names = []
    for path in package_files(*packages):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_bot_and_voice_loads_no_web_edge() -> None:
    loaded = loaded_after_import(module_names("bot", "voice"))
    assert not loaded & (EDGE_ONLY - {"socket"})  # the stdlib imports socket on its own


def test_the_app_never_loads_tensorflow_or_rasa() -> None:
    loaded = loaded_after_import(module_names("bot", "voice", "ivr"))
    assert not loaded & NEVER_IN_APP
