"""Configuration in one place: defaults, overridden by ``IVR_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The checkout this code runs from (the project is installed editable).
ROOT = Path(__file__).resolve().parent.parent


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "ivr")


#: Every setting, its default, and (by name) the environment variable that overrides it.
DEFAULTS: Mapping[str, Any] = {
    "FLOWS": str(ROOT / "flows"),  # IVR_FLOWS: the folder of flow YAML files
    "CACHE_DIR": _cache_dir(),  # IVR_CACHE_DIR: environments, trained models, TTS
    "NLU_URL": "",  # IVR_NLU_URL: a running Rasa server; empty = start one ourselves
    "NLU_TOKEN": "",  # IVR_NLU_TOKEN: Rasa --auth-token; empty = generate one per server
    "NLU_HOST": "127.0.0.1",  # IVR_NLU_HOST: where a server we start listens
    "NLU_PORT": 5005,  # IVR_NLU_PORT
    "NLU_TIMEOUT": 1.0,  # IVR_NLU_TIMEOUT: seconds a parse may take before we give up
    "NLU_VENV": str(ROOT / ".venv-nlu"),  # IVR_NLU_VENV: the Python 3.10 + Rasa environment
    "LOG_FORMAT": "text",  # IVR_LOG_FORMAT: text | json
    "LOG_LEVEL": "INFO",  # IVR_LOG_LEVEL
}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then ``IVR_<KEY>`` from the environment, then ``overrides``."""
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"IVR_{key}")
        if raw is not None and raw != "":
            try:
                config[key] = _coerce(default, raw)
            except ValueError as error:
                raise SystemExit(f"IVR_{key}={raw!r} is not valid: {error}") from error
    config.update(overrides or {})
    return config
