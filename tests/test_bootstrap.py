"""``tools/bootstrap.py`` for real: a tiny project's app environment, built once, then reused.

The script is copied into a temporary project (so its ``ROOT`` is that project) whose only
requirement is a small wheel made here. pip runs with no index: its own upgrade (pip,
setuptools, wheel) comes from wheels packed from this environment's installed copies, so the
test needs no network. The real cache logic runs: the hash, the lock, the ``.ready`` marker,
the link.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ivr.config import ROOT

BOOTSTRAP = ROOT / "tools" / "bootstrap.py"
PROBE = "ivr_bootstrap_probe"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(
    folder: Path, name: str, version: str, files: dict[str, bytes], metadata: str = ""
) -> Path:
    """A pure-Python wheel of ``files`` (archive name -> content); ``metadata`` its METADATA."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = metadata or f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents = {
        **files,
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [_record_line(n, d) for n, d in contents.items()] + [f"{dist_info}/RECORD,,"]
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for archive_name, data in contents.items():
            wheel.writestr(archive_name, data)
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def wheel_of_installed(distribution: str, folder: Path) -> Path:
    """Pack an installed pure-Python distribution (pip, setuptools, wheel) back into a wheel."""
    dist = importlib.metadata.distribution(distribution)
    info_dir = next(f.parts[0] for f in dist.files or () if f.parts[0].endswith(".dist-info"))
    assert "Tag: py3-none-any" in (dist.read_text("WHEEL") or ""), distribution
    written_again = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "METADATA", "WHEEL")
    files: dict[str, bytes] = {}
    for file in dist.files or ():
        name = file.as_posix()
        if name.startswith("..") or "__pycache__" in file.parts:
            continue  # scripts (pip writes them again) and byte code
        if file.parts[0] == info_dir and file.name in written_again:
            continue
        files[name] = Path(str(file.locate())).read_bytes()
    name, version = info_dir.removesuffix(".dist-info").rsplit("-", 1)
    return write_wheel(folder, name, version, files, dist.read_text("METADATA") or "")


def with_dependencies(names: list[str]) -> list[str]:
    """``names`` and what they need (installed here), without optional extras."""
    found: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        found[name] = name
        for line in importlib.metadata.requires(name) or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return sorted(found)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip, setuptools and wheel (what bootstrap upgrades) and two versions of the probe."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    for distribution in with_dependencies(["pip", "setuptools", "wheel"]):
        wheel_of_installed(distribution, folder)
    for version in ("1", "2"):
        source = f'VERSION = "{version}"\n'.encode()
        write_wheel(folder, PROBE, version, {f"{PROBE}.py": source})
    return folder


def make_project(folder: Path, requirements: list[str]) -> Path:
    """The files bootstrap reads, with ``requirements`` as the app's dependencies."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tools").mkdir(exist_ok=True)
    shutil.copy(BOOTSTRAP, folder / "tools" / "bootstrap.py")
    set_requirements(folder, requirements)
    (folder / "emulator").mkdir(exist_ok=True)
    (folder / "emulator" / "pyproject.toml").write_text(pyproject("probe-emulator", []))
    return folder


def pyproject(name: str, requirements: list[str]) -> str:
    listed = ", ".join(f'"{r}"' for r in requirements)
    return (
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        f'\n[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{listed}]\n'
        "\n[project.optional-dependencies]\ndev = []\n"
        "\n[tool.setuptools]\npackages = []\n"
    )


def set_requirements(project: Path, requirements: list[str]) -> None:
    (project / "pyproject.toml").write_text(pyproject("probe-app", requirements))


def bootstrap(project: Path, cache: Path, wheels: Path) -> str:
    """Run the project's copy of bootstrap.py (``app``); its output, after checking it worked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    env.update(
        IVR_CACHE_DIR=str(cache),
        PIP_CONFIG_FILE=os.devnull,  # not this machine's index settings
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    done = subprocess.run(
        [sys.executable, str(project / "tools" / "bootstrap.py"), "app"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def probe_version(project: Path) -> str:
    python = project / ".venv" / "bin" / "python"
    code = f"import {PROBE}; print({PROBE}.VERSION)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout


def stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


@pytest.mark.slow
def test_the_app_environment_is_built_once_cached_by_its_requirements(
    tmp_path: Path, wheelhouse: Path
) -> None:
    cache = tmp_path / "cache"
    wheel_1 = next(wheelhouse.glob(f"{PROBE}-1-*.whl")).as_uri()
    project = make_project(tmp_path / "project", [f"{PROBE} @ {wheel_1}"])

    # Built: the checkout's .venv is a link into the cache, marked ready.
    first = bootstrap(project, cache, wheelhouse)
    assert "creating" in first and "installing 1 requirements" in first
    link = project / ".venv"
    assert link.is_symlink()
    target = link.resolve()
    assert target.parent == cache / "envs" and target.name.startswith("app-py3.")
    assert (target / ".ready").is_file()
    assert probe_version(project) == "1\n"
    ready = stamp(target / ".ready")

    # Again: reported as cached, the same folder, nothing rebuilt.
    second = bootstrap(project, cache, wheelhouse)
    assert f"bootstrap: app environment cached ({target.name})" in second
    assert "creating" not in second and "installing" not in second
    assert link.resolve() == target
    assert stamp(target / ".ready") == ready

    # Half-built (interrupted before the marker): thrown away and built again.
    (target / ".ready").unlink()
    (target / "left-by-an-interrupted-build").write_text("")
    third = bootstrap(project, cache, wheelhouse)
    assert "creating" in third
    assert (target / ".ready").is_file() and link.resolve() == target
    assert not (target / "left-by-an-interrupted-build").exists()

    # Other requirements: a new cache entry, and the old one is kept for checkouts using it.
    wheel_2 = next(wheelhouse.glob(f"{PROBE}-2-*.whl")).as_uri()
    set_requirements(project, [f"{PROBE} @ {wheel_2}"])
    fourth = bootstrap(project, cache, wheelhouse)
    assert "creating" in fourth
    changed = link.resolve()
    assert changed != target and changed.parent == cache / "envs"
    assert (changed / ".ready").is_file() and (target / ".ready").is_file()
    assert probe_version(project) == "2\n"


def test_the_cache_key_follows_the_interpreter_and_requirements_only() -> None:
    spec = importlib.util.spec_from_file_location("tools_bootstrap", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    key = tool.env_key("app", "3.11", ["b>=1", "a==2"])
    assert key.startswith("app-py3.11-")
    assert tool.env_key("app", "3.11", ["a==2", "b>=1"]) == key  # order does not matter
    assert tool.env_key("app", "3.12", ["a==2", "b>=1"]) != key
    assert tool.env_key("app", "3.11", ["a==3", "b>=1"]) != key
    assert tool.env_key("nlu", "3.11", ["a==2", "b>=1"]) != key
