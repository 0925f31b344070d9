"""Train Rasa NLU models for flows, cached by fingerprint under ``CACHE_DIR/nlu``.

    model = train_model(compile_nlu_project(flow), config)  # trains only when not cached

Layout: ``projects/<fp>/`` holds the compiled files and the training log, ``models/<fp>.tar.gz``
the model, ``locks/<fp>.lock`` stops two processes training the same fingerprint, and
``servers/<port>.json`` describes a running server (see :mod:`ivr.nlu.service`). Training runs
``rasa train nlu`` in ``.venv-nlu``: TensorFlow never loads into the app.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.flow.model import Flow
from bot.nlu.compile import NLUProject, compile_nlu_project

log = logging.getLogger(__name__)

# "Epochs:  45%|####5     | 45/100 [00:20<00:25, ...": tqdm's progress line from DIET.
_EPOCH = re.compile(rb"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")
_COMPONENT = re.compile(rb"Starting to train component '(\w+)'")


class NLUError(Exception):
    """Training or serving the NLU model failed; ``str()`` is one line for the CLI."""


class NLUEnvironmentMissing(NLUError):
    """``.venv-nlu`` is not there (``make env`` builds it)."""


class TrainingCancelled(NLUError):
    """Training was stopped on purpose (the service is shutting down)."""


class TrainingFailed(NLUError):
    """``rasa train`` exited non-zero; ``log_path`` has its whole output."""

    def __init__(self, fingerprint: str, returncode: int, log_path: Path) -> None:
        super().__init__(
            f"rasa train failed (exit {returncode}) for model {fingerprint[:12]}; see {log_path}"
        )
        self.fingerprint = fingerprint
        self.returncode = returncode
        self.log_path = log_path


@dataclass(frozen=True)
class NLUPaths:
    """Where NLU projects, models, locks and server state files live."""

    root: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NLUPaths:
        """``CACHE_DIR/nlu``, with its sub-folders created."""
        paths = cls(Path(config["CACHE_DIR"]) / "nlu")
        for folder in (paths.projects, paths.models, paths.locks, paths.servers):
            folder.mkdir(parents=True, exist_ok=True)
        return paths

    @property
    def projects(self) -> Path:
        """Compiled projects, one folder per fingerprint."""
        return self.root / "projects"

    @property
    def models(self) -> Path:
        """Trained models, ``<fingerprint>.tar.gz``."""
        return self.root / "models"

    @property
    def locks(self) -> Path:
        """One lock file per fingerprint being trained."""
        return self.root / "locks"

    @property
    def servers(self) -> Path:
        """State files (and logs) of running servers, by port."""
        return self.root / "servers"

    def model(self, fingerprint: str) -> Path:
        """The cached model for ``fingerprint`` (which may not exist yet)."""
        return self.models / f"{fingerprint}.tar.gz"


def nlu_executable(config: Mapping[str, Any], name: str) -> Path:
    """``python`` or ``rasa`` of the NLU environment, or :class:`NLUEnvironmentMissing`."""
    path = Path(config["NLU_VENV"]) / "bin" / name
    if not path.exists():
        raise NLUEnvironmentMissing(
            f"{path} not found: the Rasa environment is missing; run `make env`"
        )
    return path


def nlu_environment() -> dict[str, str]:
    """Environment for Rasa subprocesses."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        # Models are already cached by fingerprint; Rasa's own training cache would only
        # grow without bound and make a forced (benchmark) training look faster than it is.
        RASA_MAX_CACHE_SIZE="0",
    )
    return env


def write_project(project: NLUProject, paths: NLUPaths) -> Path:
    """Write ``project`` to ``projects/<fp>/`` (atomically; a no-op when already there)."""
    target = paths.projects / project.fingerprint
    if target.exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=paths.projects))
    for name, content in project.files.items():
        (staging / name).write_text(content, encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another process wrote the same project first: same content
        shutil.rmtree(staging, ignore_errors=True)
    return target


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, released when the block ends (or the process dies)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train_model(
    project: NLUProject | Flow,
    config: Mapping[str, Any],
    *,
    force: bool = False,
    progress: TextIO | None = sys.stderr,
    cancel: threading.Event | None = None,
) -> Path:
    """The model for ``project`` (or a flow): from the cache, or trained now.

    ``force`` trains even when the model is cached.
    Progress (epochs, elapsed time) goes to ``progress``; None keeps quiet.
    Setting ``cancel`` kills a training in progress (background retraining on shutdown).

    Raises:
        TrainingCancelled: when ``cancel`` was set.
        TrainingFailed: when ``rasa train`` fails.
        NLUEnvironmentMissing: when ``.venv-nlu`` is missing.
    """
    if isinstance(project, Flow):
        project = compile_nlu_project(project)
    paths = NLUPaths.from_config(config)
    model = paths.model(project.fingerprint)
    if model.exists() and not force:
        return model
    rasa = nlu_executable(config, "rasa")
    with file_lock(paths.locks / f"{project.fingerprint}.lock"):
        # Whoever held the lock before us may have trained this very model.
        if model.exists() and not force:
            return model
        project_dir = write_project(project, paths)
        with tempfile.TemporaryDirectory(prefix=".training-", dir=paths.models) as tmp:
            command = [
                str(rasa), "train", "nlu",
                "--config", str(project_dir / "config.yml"),
                "--nlu", str(project_dir / "nlu.yml"),
                "--domain", str(project_dir / "domain.yml"),
                "--out", tmp,
                "--fixed-model-name", project.fingerprint,
            ]  # fmt: skip
            started = time.monotonic()
            log.info("nlu training started", extra={"fingerprint": project.fingerprint})
            returncode = _run_with_progress(
                command, cwd=Path(tmp), log_path=project_dir / "train.log", progress=progress,
                label=f"training NLU model {project.fingerprint[:12]}", cancel=cancel,
            )  # fmt: skip
            if returncode != 0:
                raise TrainingFailed(project.fingerprint, returncode, project_dir / "train.log")
            # Same file system, so the cache only ever holds complete models.
            os.replace(Path(tmp) / project.model_name, model)
    seconds = time.monotonic() - started
    log.info(
        "nlu model trained",
        extra={"fingerprint": project.fingerprint, "seconds": round(seconds, 1)},
    )
    return model


def _run_with_progress(
    command: list[str],
    *,
    cwd: Path,
    log_path: Path,
    progress: TextIO | None,
    label: str,
    cancel: threading.Event | None = None,
) -> int:
    """Run ``command``, keep its output in ``log_path``, show a one-line status meanwhile."""
    status = {"what": "starting"}
    # Training is batch work on the same cores as live calls: let the calls' parses win.
    nice = [path, "-n", "10"] if (path := shutil.which("nice")) else []
    shown = _Progress(progress, label)
    with (
        open(log_path, "wb") as log_file,
        subprocess.Popen(
            [*nice, *command], cwd=cwd, env=nlu_environment(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        reader = threading.Thread(
            target=_relay, args=(process.stdout, log_file, status), daemon=True
        )
        reader.start()
        try:
            while process.poll() is None:
                if cancel is not None and cancel.wait(0.25):
                    raise TrainingCancelled(f"{label}: cancelled")
                if cancel is None:
                    time.sleep(0.25)
                shown.update(status["what"])
        except BaseException:
            # Ctrl-C, a cancel or an error of ours: do not leave a trainer running behind us.
            process.kill()
            process.wait()
            raise
        finally:
            reader.join(timeout=5)
        shown.finish(process.returncode)
        return process.returncode


class _Progress:
    """A one-line status: a spinner on a terminal, a line every few seconds in a log."""

    def __init__(self, out: TextIO | None, label: str) -> None:
        self.out = out
        self.label = label
        self.interactive = out is not None and out.isatty()
        self.started = time.monotonic()
        self._last_shown = ""
        self._last_time = 0.0

    def update(self, what: str) -> None:
        """Show that the work is at ``what`` now."""
        if self.out is None:
            return
        elapsed = time.monotonic() - self.started
        line = f"{self.label}: {what}"
        if self.interactive:
            spinner = "|/-\\"[int(elapsed * 4) % 4]
            self.out.write(f"\r{spinner} {line} ({elapsed:.0f} s)\033[K")
            self.out.flush()
        elif line != self._last_shown and elapsed - self._last_time >= 5:
            self.out.write(f"{line} ({elapsed:.0f} s)\n")
            self.out.flush()
            self._last_shown, self._last_time = line, elapsed

    def finish(self, returncode: int) -> None:
        """Show how it ended and how long it took."""
        if self.out is None:
            return
        verdict = "done" if returncode == 0 else f"failed (exit {returncode})"
        elapsed = time.monotonic() - self.started
        self.out.write(
            ("\r" if self.interactive else "") + f"{self.label}: {verdict} in {elapsed:.0f} s"
        )
        self.out.write("\033[K\n" if self.interactive else "\n")
        self.out.flush()


def _relay(stream: Any, log_file: Any, status: dict[str, str]) -> None:
    """Copy the trainer's output to the log, noting the latest epoch or component."""
    pending = b""
    while chunk := stream.read1(65536):
        log_file.write(chunk)
        log_file.flush()  # so `tail -f train.log` shows a training in progress
        pending += chunk
        # tqdm redraws with \r, log lines end in \n: either ends a status update.
        *lines, pending = re.split(rb"[\r\n]", pending)
        for line in lines:
            if epoch := _EPOCH.search(line):
                status["what"] = f"epoch {int(epoch[1])}/{int(epoch[2])}"
            elif component := _COMPONENT.search(line):
                status["what"] = component[1].decode()
    log_file.flush()
