"""Global CLI behaviour users expect from other tools: --version, -h, plain help text, fixed exit statuses."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tinyhil(*args: str, columns: int = 120) -> subprocess.CompletedProcess:
    env = {"COLUMNS": str(columns), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_version_and_short_help():
    proc = tinyhil("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"tinyhil {version('tinyhil')}"
    for args in (("-h",), ("bench", "-h"), ("compare", "-h")):
        proc = tinyhil(*args)
        assert proc.returncode == 0 and proc.stdout.startswith("Usage:"), args


def test_help_text_keeps_square_brackets_literal():
    text = " ".join(tinyhil("compare", "-h").stdout.split())
    assert "TOML file with [tool.tinyhil.compare] (default: the nearest pyproject.toml)" in text


def test_usage_error_is_status_2_and_a_misspelled_option_is_named():
    proc = tinyhil("bench", "--bord", "stm32f746")
    assert proc.returncode == 2 and "--bord" in proc.stderr


def test_a_misspelled_board_gets_a_suggestion():
    proc = tinyhil("bench", "--board", "stm32f764", "--emulate")
    assert proc.returncode == 2
    assert "unknown board 'stm32f764'; did you mean 'stm32f746'?" in " ".join(proc.stderr.split())
