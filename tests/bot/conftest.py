from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.bot.flow_helpers import VALID


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture flow."""
    shutil.copytree(VALID, tmp_path, dirs_exist_ok=True)
    return tmp_path
