"""Run Rasa NLU as its own process and keep it in step with the flows.

    handle = ensure_nlu_server(load_config(), "flows/")  # reuse, or train + start
    nlu = handle.client()                                # a RasaNLU
    ...
    handle.stop()                                        # only stops a server we started

A server we start writes ``CACHE_DIR/nlu/servers/<port>.json`` ({url, token, pid,
fingerprint}) so the CLI and the app can reuse it. :func:`serve` (``ivr nlu serve``) also
watches the flows and hot-swaps a retrained model with ``PUT /model`` while parses continue.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from bot.flow import Flow, load_flow
from bot.nlu.compile import NLUProject, compile_nlu_project
from bot.nlu.rasa import RasaNLU
from bot.nlu.result import NLUUnavailable
from ivr.config import ROOT
from ivr.nlu.training import (
    NLUError,
    NLUPaths,
    TrainingCancelled,
    nlu_environment,
    nlu_executable,
    train_model,
)

__all__ = [
    "NLUError",
    "NLUServerHandle",
    "ServerFailed",
    "WatchCounts",
    "ensure_nlu_server",
    "find_server",
    "free_port",
    "serve",
    "start_server",
    "train_model",
]

log = logging.getLogger(__name__)

LAUNCHER = ROOT / "nlu" / "rasa_server.py"
#: Loading a DIET model traces TensorFlow graphs: about a minute on two busy cores.
READY_TIMEOUT = 600.0


class ServerFailed(NLUError):
    """The Rasa server exited or did not become ready."""


@dataclass
class NLUServerHandle:
    """A Rasa server: where it is, which model it serves, and (if ours) how to stop it."""

    url: str
    token: str
    fingerprint: str
    pid: int | None = None
    state_file: Path | None = None
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def owned(self) -> bool:
        """Whether this process started the server (and so stops it)."""
        return self.process is not None

    def client(self, timeout: float = 1.0) -> RasaNLU:
        """A :class:`RasaNLU` for this server."""
        return RasaNLU(self.url, self.token, timeout=timeout)

    def load_model(self, model: Path, fingerprint: str, timeout: float = READY_TIMEOUT) -> None:
        """Hot-swap ``model`` in with ``PUT /model``; parses keep being answered meanwhile."""
        started = time.monotonic()
        response = httpx.put(
            f"{self.url}/model",
            params={"token": self.token},
            json={"model_file": str(model)},
            timeout=timeout,
        )
        if response.status_code not in (200, 204):
            raise ServerFailed(f"PUT /model answered {response.status_code}: {response.text}")
        self.fingerprint = fingerprint
        self._write_state()
        log.info(
            "nlu model swapped",
            extra={"fingerprint": fingerprint, "seconds": round(time.monotonic() - started, 1)},
        )

    def stop(self, timeout: float = 15.0, *, keep_log: bool = False) -> None:
        """Stop the server if this process started it; remove its state file and log."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)
        # Ports are random, so logs of cleanly stopped servers would only pile up.
        if self.log_path is not None and not keep_log:
            self.log_path.unlink(missing_ok=True)
        log.info("nlu server stopped", extra={"url": self.url, "pid": self.pid})
        self.process = None

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        state = {
            "url": self.url,
            "token": self.token,
            "pid": self.pid,
            "fingerprint": self.fingerprint,
        }
        staging = self.state_file.with_suffix(".tmp")
        staging.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(staging, self.state_file)  # readers never see half a file


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def start_server(
    model: Path,
    fingerprint: str,
    config: Mapping[str, Any],
    *,
    port: int | None = None,
    ready_timeout: float = READY_TIMEOUT,
) -> NLUServerHandle:
    """Start ``nlu/rasa_server.py`` on ``model`` and wait until it serves it.

    ``port`` None picks a free one. The server's output goes to ``servers/<port>.log``.
    """
    paths = NLUPaths.from_config(config)
    host = str(config["NLU_HOST"])
    port = port or free_port(host)
    token = str(config["NLU_TOKEN"]) or secrets.token_urlsafe(24)
    command = [
        str(nlu_executable(config, "python")), str(LAUNCHER), "--model", str(model),
        "--host", host, "--port", str(port),
        # "=": a token may begin with "-", which argparse would read as an option.
        f"--auth-token={token}",
    ]  # fmt: skip
    with open(paths.servers / f"{port}.log", "wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=nlu_environment(), cwd=paths.root,
        )  # fmt: skip
    handle = NLUServerHandle(
        url=f"http://{host}:{port}",
        token=token,
        fingerprint=fingerprint,
        pid=process.pid,
        state_file=paths.servers / f"{port}.json",
        log_path=paths.servers / f"{port}.log",
        process=process,
    )
    log.info("nlu server starting", extra={"url": handle.url, "pid": process.pid})
    started = time.monotonic()
    try:
        _wait_ready(handle, model.name, ready_timeout, paths.servers / f"{port}.log")
    except BaseException:
        handle.stop(keep_log=True)  # the error message points at it
        raise
    handle._write_state()
    log.info(
        "nlu server ready",
        extra={"url": handle.url, "seconds": round(time.monotonic() - started, 1)},
    )
    return handle


def _wait_ready(handle: NLUServerHandle, model_name: str, timeout: float, log_path: Path) -> None:
    assert handle.process is not None
    deadline = time.monotonic() + timeout
    with handle.client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if handle.process.poll() is not None:
                tail = log_path.read_text(errors="replace").splitlines()[-5:]
                raise ServerFailed(
                    f"the Rasa server exited ({handle.process.returncode}); see {log_path}: "
                    + " | ".join(tail)
                )
            with contextlib.suppress(NLUUnavailable):
                if client.status().get("model_file") == model_name:
                    return
            time.sleep(0.5)
    raise ServerFailed(f"the Rasa server was not ready after {timeout:.0f} s; see {log_path}")


def find_server(config: Mapping[str, Any], fingerprint: str) -> NLUServerHandle | None:
    """A healthy running server (from its state file) that serves ``fingerprint``."""
    paths = NLUPaths.from_config(config)
    for state_file in sorted(paths.servers.glob("*.json")):
        try:
            state = json.loads(state_file.read_text())
            pid = int(state["pid"])
            os.kill(pid, 0)
        except ProcessLookupError:
            state_file.unlink(missing_ok=True)  # its server died without cleaning up
            continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if state.get("fingerprint") != fingerprint:
            continue
        with RasaNLU(state["url"], state["token"], timeout=2.0) as client:
            if not client.is_ready():
                continue
        return NLUServerHandle(state["url"], state["token"], fingerprint, pid=pid)
    return None


def ensure_nlu_server(
    config: Mapping[str, Any],
    flows: str | os.PathLike[str] | Flow,
    *,
    port: int | None = None,
    progress: TextIO | None = sys.stderr,
) -> NLUServerHandle:
    """A server for ``flows``: ``NLU_URL`` if set, a matching running one, or a new one.

    Raises:
        FlowError: when the flow does not load.
        NLUError: when training or start-up fails.
    """
    if config["NLU_URL"]:
        return NLUServerHandle(str(config["NLU_URL"]), str(config["NLU_TOKEN"]), "")
    flow = flows if isinstance(flows, Flow) else load_flow(flows)
    project = compile_nlu_project(flow)
    running = find_server(config, project.fingerprint)
    if running is not None:
        log.info("nlu server reused", extra={"url": running.url, "pid": running.pid})
        return running
    model = train_model(project, config, progress=progress)
    return start_server(model, project.fingerprint, config, port=port)


@dataclass
class WatchCounts:
    """What :func:`serve`'s flow watcher has done so far (read them; the watcher writes them).

    A flow edit the flow check refuses never reaches the watcher: :class:`FlowSource` logs it
    ("flow at ... refused") and the last good flow, with its model, stays.
    """

    #: Good flows handed to the watcher, counted once it has decided what to do with each.
    flows_seen: int = 0
    #: Of those, the ones whose NLU data (examples, pipeline) did not change: nothing trained.
    nlu_unchanged: int = 0
    #: Rounds that set out to train a model (one already in the model cache is reused).
    trainings_started: int = 0
    #: Models loaded into the running server with ``PUT /model``.
    swaps: int = 0
    #: Rounds whose training or swap failed; the previous model kept serving.
    failures: int = 0
    #: Fingerprint of the model the server answers with.
    serving: str = ""


def serve(
    config: Mapping[str, Any],
    flows_path: str | os.PathLike[str],
    *,
    port: int | None = None,
    stop: threading.Event | None = None,
    poll_seconds: float = 2.0,
    counts: WatchCounts | None = None,
) -> None:
    """Serve the flows' model until ``stop`` is set; retrain and hot-swap on example edits.

    ``counts``, if given, is kept up to date with what the flow watcher did.
    """
    from ivr.flow_source import FlowSource

    stop = stop or threading.Event()
    source = FlowSource(flows_path)
    project = compile_nlu_project(source.current)
    handle = start_server(
        train_model(project, config), project.fingerprint, config, port=port or None
    )
    swapper = _Swapper(handle, config, project, counts)
    source.on_change(swapper.flow_changed)
    print(f"nlu: serving {handle.url} (model {project.fingerprint[:12]})", file=sys.stderr)
    try:
        while not stop.wait(poll_seconds):
            if handle.process is not None and handle.process.poll() is not None:
                raise ServerFailed(f"the Rasa server exited ({handle.process.returncode})")
            source.refresh()
    finally:
        swapper.close()
        handle.stop()


class _Swapper:
    """Trains the latest flow's model in the background and swaps it into the server."""

    def __init__(
        self,
        handle: NLUServerHandle,
        config: Mapping[str, Any],
        project: NLUProject,
        counts: WatchCounts | None = None,
    ):
        self._handle = handle
        self._config = config
        self._wanted = project
        self._serving = project.fingerprint
        self.counts = counts if counts is not None else WatchCounts()
        self.counts.serving = project.fingerprint
        self._changed = threading.Condition()
        self._closed = False
        self._cancel = threading.Event()  # kills a training in progress on close()
        self._thread = threading.Thread(target=self._run, name="nlu-swapper", daemon=True)
        self._thread.start()

    def flow_changed(self, flow: Flow) -> None:
        project = compile_nlu_project(flow)
        with self._changed:
            if project.fingerprint == self._wanted.fingerprint:
                extra = {"fingerprint": project.fingerprint}
                log.info("flow changed, its NLU data did not", extra=extra)
                self.counts.nlu_unchanged += 1
            else:
                self._wanted = project
                self._changed.notify()
            self.counts.flows_seen += 1  # last: a reader who sees it sees the decision too

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._cancel.set()
        self._thread.join(timeout=10.0)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and self._wanted.fingerprint == self._serving:
                    self._changed.wait()
                if self._closed:
                    return
                project = self._wanted
                self.counts.trainings_started += 1
            # Edits that arrive while this trains are picked up by the next round.
            try:
                model = train_model(project, self._config, cancel=self._cancel)
                self._handle.load_model(model, project.fingerprint)
                self._serving = project.fingerprint
                with self._changed:
                    self.counts.serving = project.fingerprint
                    self.counts.swaps += 1
            except TrainingCancelled:
                return
            except (NLUError, httpx.HTTPError) as error:
                log.error(
                    "nlu retraining failed; the previous model keeps serving",
                    extra={"fingerprint": project.fingerprint, "error": str(error)},
                )
                self._serving = project.fingerprint  # not again until the flow changes
                with self._changed:
                    self.counts.failures += 1
