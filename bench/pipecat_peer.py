"""The Pipecat peer as benchmarks run it: ``bench/peer/pipecat_line.py`` in ``.venv-peer``.

    with peer_server(workdir, "smart", nlu.url, nlu.token) as peer:
        result = peer.emulator().call(script)
        peer.frame_lateness(result.call_sid)   # the server's stats for that call

The same surface as :class:`phone.PhoneServer`, so a benchmark phones either with the same
emulated callers. The peer speaks the Korean test line's prompt audio (``peer_prompts``) and
asks the same Rasa server, which the caller starts (``ensure_nlu_server``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import PUBLIC_URL, ServerProcess, progress
from peer_prompts import write_prompts

from ivr.config import ROOT
from ivr.nlu.service import free_port

PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
PEER_SCRIPT = ROOT / "bench" / "peer" / "pipecat_line.py"
TURNS = ("silero", "smart")


@dataclass
class PeerServer(ServerProcess):
    """A running Pipecat peer (one uvicorn worker runs every call) and where its stats go."""

    stats_dir: Path = Path()

    def frame_lateness(self, call_sid: str, wait: float = 10.0) -> dict[str, Any]:
        """The call's stats: ``lateness_ms`` (``max``, ``p95``), ``frames``, ``turns``.

        The peer writes them once its pipeline has stopped, a moment after the caller hangs
        up; this waits up to ``wait`` seconds for the file.
        """
        path = self.stats_dir / f"{call_sid}.json"
        deadline = time.monotonic() + wait
        while not path.exists():
            if time.monotonic() > deadline:
                raise FileNotFoundError(f"the peer wrote no stats for {call_sid}: {path}")
            time.sleep(0.05)
        stats: dict[str, Any] = json.loads(path.read_text())
        return stats


@contextmanager
def peer_server(
    workdir: Path, turn: str, nlu_url: str, nlu_token: str, warm: int = 2
) -> Iterator[PeerServer]:
    """Write the prompts, start the peer with ``turn`` ("silero" or "smart"), wait for it.

    ``warm`` recognisers are warmed at start, as ``IVR_ASR_WARM_RECOGNIZERS`` does for ours.
    """
    if turn not in TURNS:
        raise ValueError(f"turn must be one of {TURNS}, not {turn!r}")
    if not PEER_PYTHON.exists():
        raise SystemExit(
            "bench: the Pipecat peer's venv is missing; run: python3.11 tools/bootstrap.py peer"
        )
    prompts, stats = workdir / "peer-prompts", workdir / "peer-stats"
    progress("peer prompts from the line's prompt cache ...")
    write_prompts(prompts)
    port = free_port()
    command = [str(PEER_PYTHON), str(PEER_SCRIPT), "--port", str(port), "--turn", turn]
    command += ["--nlu-url", nlu_url, "--nlu-token", nlu_token]
    command += ["--prompts", str(prompts), "--stats", str(stats), "--public-url", PUBLIC_URL]
    command += ["--warm", str(warm)]
    log_path = workdir / f"peer-{turn}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = PeerServer(f"http://127.0.0.1:{port}", process, stats)
    try:
        progress(f"waiting for the Pipecat peer ({turn}): Vosk, Silero, Smart Turn ...")
        wait_ready(server, log_path)
        yield server
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        kept = Path(tempfile.gettempdir()) / f"ivr-bench-peer-{turn}.log"
        shutil.copyfile(log_path, kept)
        progress(f"the peer's log: {kept}")


def wait_ready(server: PeerServer, log_path: Path, seconds: float = 120) -> None:
    """Poll ``/healthz`` until the peer has loaded its models."""
    deadline = time.monotonic() + seconds
    while True:
        if server.process.poll() is not None:
            raise SystemExit(f"bench: the Pipecat peer exited; see {log_path}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).json()["ready"]:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: the Pipecat peer was not ready within {seconds:.0f} s")
        time.sleep(0.25)
