"""Create the Python environments, cached by content hash outside the checkout.

Usage: ``python3 tools/bootstrap.py [system] [app] [nlu] [peer]`` (system, app, nlu by default)

* ``system``: Debian packages the app needs (espeak-ng, sox), installed with apt-get when root.

* ``app`` -> ``.venv``: Python 3.11+, the project's dependencies, the project itself and the
  Twilio emulator (``emulator/``, a development tool) editable.
* ``nlu`` -> ``.venv-nlu``: Python 3.10, ``nlu/requirements.txt`` (Rasa 3.6.21).
* ``peer`` -> ``.venv-peer``: Python 3.11, ``bench/peer/requirements.txt`` (Pipecat, the
  benchmarks' comparison line); only when asked for by name, never by default.

Each environment is built once in ``$IVR_CACHE_DIR/envs/<name>-<hash>`` (default
``~/.cache/ivr``) and the checkout gets a symlink to it, so a second checkout or CI's fresh
clone of the same dependencies reuses it in seconds. A half-built environment (no ``.ready``
marker) is thrown away and rebuilt. Only the standard library is used: this runs before any
environment exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = ".ready"


def cache_dir() -> Path:
    """Where environments and trained models are kept between checkouts."""
    base = os.environ.get("IVR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ivr"
    )
    return Path(base)


def find_python(version: str) -> str:
    """Return an interpreter path for ``version`` ("3.10"), or exit with what to install."""
    candidates = [f"python{version}"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")))
    pattern = f"versions/{version}.*/bin/python{version}"
    candidates += sorted(str(p) for p in pyenv_root.glob(pattern))
    for candidate in candidates:
        path = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if not path:
            continue
        probe = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return path
    sys.exit(
        f"bootstrap: Python {version} was not found. Install it (for example "
        f"`pyenv install {version}` or `apt-get install python{version}`) and run make again."
    )


def app_spec() -> tuple[str, list[str]]:
    """Interpreter version and requirement list of the app environment."""
    import tomllib  # here, so an old interpreter reaches main()'s clear message first

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    # The Twilio emulator (a development tool, its own distribution) lives in this environment.
    emulator = tomllib.loads((ROOT / "emulator" / "pyproject.toml").read_text())["project"]
    requirements = list(dict.fromkeys([*requirements, *emulator["dependencies"]]))
    return f"{sys.version_info[0]}.{sys.version_info[1]}", requirements


def nlu_spec() -> tuple[str, list[str]]:
    """Interpreter version and requirement list of the NLU (Rasa) environment."""
    return "3.10", read_requirements(ROOT / "nlu" / "requirements.txt")


def peer_spec() -> tuple[str, list[str]]:
    """Interpreter version and requirement list of the Pipecat benchmark peer's environment."""
    return "3.11", read_requirements(ROOT / "bench" / "peer" / "requirements.txt")


def read_requirements(path: Path) -> list[str]:
    """A requirements file's lines, without blank lines and comments."""
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


#: Each environment: how to get its interpreter version and requirements, and its checkout link.
SPECS: dict[str, tuple[Callable[[], tuple[str, list[str]]], str]] = {
    "app": (app_spec, ".venv"),
    "nlu": (nlu_spec, ".venv-nlu"),
    "peer": (peer_spec, ".venv-peer"),
}


def env_key(name: str, version: str, requirements: list[str]) -> str:
    """The cache folder name: changes exactly when the interpreter or requirements change."""
    digest = hashlib.sha256("\n".join([version, *sorted(requirements)]).encode()).hexdigest()
    return f"{name}-py{version}-{digest[:12]}"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so two ``make`` runs never build one environment together."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run(cmd: list[str], what: str) -> None:
    """Run one install step, showing what it is and how long it took."""
    print(f"bootstrap: {what} ...", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd)
    if result.returncode != 0:
        sys.exit(f"bootstrap: {what} failed (exit {result.returncode}): {' '.join(cmd)}")
    print(f"bootstrap: {what} done in {time.monotonic() - started:.0f} s", flush=True)


def build(target: Path, python: str, requirements: list[str]) -> None:
    """Create a virtual environment at ``target`` and install ``requirements`` into it."""
    if target.exists():
        shutil.rmtree(target)
    run([python, "-m", "venv", str(target)], f"creating {target.name}")
    pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel"], "upgrading pip")
    run(
        [*pip, "install", "--progress-bar", "on", *requirements],
        f"installing {len(requirements)} requirements"
        + (" (Rasa: about 2 minutes, 2.7 GB)" if "rasa" in " ".join(requirements) else ""),
    )
    (target / READY).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))


def link(link_path: Path, target: Path) -> None:
    """Point the checkout's ``.venv``/``.venv-nlu``/``.venv-peer`` at the cached environment."""
    if link_path.is_symlink() or link_path.is_file():
        if link_path.resolve() == target.resolve():
            return
        link_path.unlink()
    elif link_path.is_dir():
        shutil.rmtree(link_path)
    link_path.symlink_to(target, target_is_directory=True)


def ensure(name: str) -> Path:
    """Make sure environment ``name`` ("app", "nlu" or "peer") exists; return its checkout path."""
    spec, link_name = SPECS[name]
    version, requirements = spec()
    python = sys.executable if name == "app" else find_python(version)
    key = env_key(name, version, requirements)
    target = cache_dir() / "envs" / key
    with locked(cache_dir() / "locks" / f"{key}.lock"):
        if not (target / READY).exists():
            build(target, python, requirements)
        else:
            print(f"bootstrap: {name} environment cached ({key})", flush=True)
    link_path = ROOT / link_name
    link(link_path, target)
    if name == "app":
        # The project itself is re-pointed at this checkout on every run (a second or two):
        # the cached environment is shared by every checkout with the same dependencies.
        pip = [str(link_path / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        # So is the Twilio emulator (emulator/, its own distribution: not in the product's wheel).
        editable = ["-e", str(ROOT), "-e", str(ROOT / "emulator")]
        done = subprocess.run(
            [*pip, "install", "--quiet", "--no-deps", "--no-build-isolation", *editable],
            capture_output=True,  # setuptools' editable-install banner is noise here
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"bootstrap: installing the project failed:\n{done.stdout}{done.stderr}")
    return link_path


#: Debian packages by the command (or file) they bring: espeak-ng speaks for pyttsx3, sox
#: converts audio, chromium runs the browser tests (Playwright's own browser download cannot
#: work offline), and a Korean font lets it show the Korean test line in screenshots.
SYSTEM_PACKAGES = {
    "espeak-ng": "espeak-ng",
    "sox": "sox",
    "chromium": "chromium",
    "/usr/share/fonts/truetype/nanum": "fonts-nanum",
}


def ensure_system_packages() -> None:
    """Install missing Debian packages when we can (root with apt-get); otherwise say which."""
    missing = sorted({pkg for probe, pkg in SYSTEM_PACKAGES.items() if not _installed(probe)})
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print(f"bootstrap: installing {', '.join(missing)} with apt-get ...", flush=True)
        update = subprocess.run(["apt-get", "update", "-qq"], env=env)
        install = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env)
        if update.returncode == 0 and install.returncode == 0:
            return
    print(
        f"bootstrap: WARNING: {', '.join(missing)} missing and could not be installed here; "
        f"install them (apt-get install {' '.join(missing)}) "
        "or speech (espeak-ng, sox) or the browser tests (chromium) will not work.",
        flush=True,
    )


def _installed(probe: str) -> bool:
    """Whether a package's command is on the PATH (or, for a path, its file exists)."""
    return Path(probe).exists() if probe.startswith("/") else shutil.which(probe) is not None


def main(argv: list[str]) -> None:
    """Entry point: ``bootstrap.py [system] [app] [nlu] [peer]``."""
    if sys.version_info < (3, 11):  # noqa: UP036 - make may find an older python3 first
        sys.exit("bootstrap: run this with Python 3.11 or newer (the app's interpreter).")
    names = argv or ["system", "app", "nlu"]
    for name in names:
        if name == "system":
            ensure_system_packages()
        elif name in SPECS:
            ensure(name)
        else:
            sys.exit(f"bootstrap: unknown step {name!r}; use 'system', 'app', 'nlu' or 'peer'")


if __name__ == "__main__":
    main(sys.argv[1:])
