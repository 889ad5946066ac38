"""The linters are part of the suite: a change that breaks ruff (lint or format) or mypy --strict
fails the build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return found


def _passes(tool: str, *args: str) -> None:
    """Run ``tool`` from the virtualenv at the repo root; fail with its output unless it exits 0."""
    result = subprocess.run([_tool(tool), *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing() -> None:
    _passes("ruff", "check", "--no-cache", "src", "tests", "bench", "examples")


def test_ruff_format_would_change_nothing() -> None:
    _passes("ruff", "format", "--check", "--no-cache", "src", "tests", "bench", "examples")


def test_mypy_strict_passes_on_the_package() -> None:
    _passes("mypy", "--strict", "src/sessiondb")
