"""Tests of the benchmarks' own logic (what they parse and the text they write).

The scripts in ``bench/`` import each other as top-level modules (``common``, ``phone``);
:func:`load` imports one without leaving ``bench/`` on ``sys.path`` (``bench/nlu.py`` would
hide the repository's ``nlu/`` folder).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from ivr.config import ROOT

BENCH = str(ROOT / "bench")


def load(name: str) -> ModuleType:
    """Import ``bench/<name>.py`` as the module ``name``."""
    sys.path.insert(0, BENCH)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(BENCH)
