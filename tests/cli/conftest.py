"""Run directories and a CLI runner for the console-output tests (no emulator: the runs are the realistic
selection of tests/report/realistic.py, written with the pipeline's own run-directory writer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.report.realistic import write_selection


@pytest.fixture(scope="session")
def selection(tmp_path_factory) -> Path:
    """A results folder of 16 run directories (5 models x 3 twins + one that does not fit)."""
    out = tmp_path_factory.mktemp("cli-selection")
    write_selection(out)
    return out


@pytest.fixture
def cli(tmp_path):
    """``cli(*args, columns=120)`` -> click Result of ``tinyhil ARGS`` in process, at ``columns`` console columns
    ($COLUMNS), with its own cache folder (remembered results folders) under ``tmp_path``."""
    runner = CliRunner()

    def run(*args: str, columns: int = 120, env: dict | None = None):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False,
                             env={"COLUMNS": str(columns), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                                  "TINYHIL_DB": None, **(env or {})})

    return run

