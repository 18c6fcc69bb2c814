"""The code base stays ruff-clean; run as a test so the one test command covers it."""

from __future__ import annotations

import subprocess
import sys

from core.config import PROJECT_ROOT


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
