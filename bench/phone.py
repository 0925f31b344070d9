"""The phone line as benchmarks run it: gunicorn, real Rasa, real Vosk, the emulator calling.

The web process is the Procfile's ``web`` entry on a free port.

The Korean test line (``tests/fixtures/flows/ko_line``) is used because the only Vosk model
available here is Korean; its callers' speech is espeak-ng Korean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import AUTH_TOKEN, PUBLIC_URL, ServerProcess, progress

from bot.flow import load_flow
from ivr.config import ROOT, load_config
from ivr.nlu.service import ensure_nlu_server, free_port
from ivr.store import Store

sys.path.insert(0, str(ROOT))  # the Korean line's fixtures live with the tests
from tests.fixtures.ko_line import KO_LINE, KO_PHRASES
from tests.fixtures.live_server import web_command

__all__ = ["KO_LINE", "KO_PHRASES", "PhoneServer", "phone_server"]


@dataclass
class PhoneServer(ServerProcess):
    """A running web process and how to reach its records."""

    database_url: str = ""
    nlu_url: str = ""
    nlu_token: str = ""
    log_path: Path = Path("web.log")  # its stdout and stderr

    def store(self) -> Store:
        """The server's call records."""
        return Store(self.database_url)


@contextmanager
def phone_server(
    workdir: Path,
    flows: Path = KO_LINE,
    poll_seconds: float = 0.5,
    root: Path = ROOT,
    settings: Mapping[str, str] | None = None,
    **env: str,
) -> Iterator[PhoneServer]:
    """Train (or reuse) the flow's model, start Rasa and gunicorn, wait until both are ready.

    ``/healthz`` is polled every ``poll_seconds``; ready means warm (prompts, recognisers).
    ``root``: the checkout whose web process runs (another state of the line, to compare).
    ``settings`` and ``env``: the web process's settings (``IVR_…``) on top of this one's.
    """
    config = load_config({"NLU_URL": "", "NLU_TOKEN": ""})
    progress(f"NLU model for {flows.name} (trains only if its examples changed) ...")
    handle = ensure_nlu_server(config, load_flow(flows))
    port = free_port()
    database_url = f"sqlite:///{workdir}/calls.db"
    environment = {
        **os.environ,
        "PATH": f"{root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(root),
        "IVR_MODE": "production",
        "IVR_FLOWS": str(flows),
        "IVR_NLU_URL": handle.url,
        "IVR_NLU_TOKEN": handle.token,
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DATABASE_URL": database_url,
        "IVR_LOG_LEVEL": "WARNING",
        **(settings or {}),
        **env,
    }
    log = (workdir / "web.log").open("wb")
    process = subprocess.Popen(
        web_command(port), env=environment, cwd=root, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    server = PhoneServer(url, process, database_url, handle.url, handle.token, workdir / "web.log")
    try:
        progress("waiting for the web process: NLU, prompts, speech model ...")
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"bench: the web process exited; see {workdir / 'web.log'}")
            try:
                health = httpx.get(f"{server.url}/healthz", timeout=2).json()
                if health["ready"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("bench: the web process was not ready within 5 minutes")
            time.sleep(poll_seconds)
        yield server
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        kept = Path(tempfile.gettempdir()) / "ivr-bench-web.log"
        shutil.copyfile(workdir / "web.log", kept)
        calls = Path(tempfile.gettempdir()) / "ivr-bench-calls.db"
        for suffix in ("", "-wal", "-shm"):  # each turn's stage timings, each call's lateness
            if (workdir / f"calls.db{suffix}").exists():
                shutil.copyfile(workdir / f"calls.db{suffix}", f"{calls}{suffix}")
        progress(f"the web process's log: {kept}; its calls: {calls}")
        if handle.owned:
            handle.stop()
