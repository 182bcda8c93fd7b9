"""A board added to the catalog with a twin runs with no Python change: a catalog file of our own (a Cortex-M4
board with 128 KB of RAM at 80 MHz that tinyhil has never heard of), `tinyhil bench --catalog` on its twin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"

pytestmark = pytest.mark.emulator

NEW_BOARD = {
    "title": "Example-L4 board", "mcu": "EXL476", "core": "cortex-m4f", "arch": "armv7e-m", "clock_hz": 80_000_000,
    "flash_bytes": 1_048_576, "ram_bytes": 131_072,
    "memory": {"flash_origin": 0x08000000, "ram_origin": 0x20000000},
    "compiler": {"cpu": "cortex-m4", "fpu": "fpv4-sp-d16", "float_abi": "hard"},
    "platformio_env": "exl476", "flasher": {"kind": "pyocd", "target": "stm32l476rg"},
    "serial": {"baudrate": 115200, "uart": "USART2"},
    "cpi": {"value": 1.3, "source": "test catalog: the Cortex-M4 value of the repository's nrf52840 entry"},
    "twin": {"machine": "mps2-an386", "cpu": "cortex-m4", "uart": "cmsdk-uart0@0x40004000",
             "flash_origin": 0, "ram_origin": 0x20000000, "platformio_env": "any_twin"},
}


def test_a_new_catalog_board_runs_on_its_twin_without_code(tmp_path):
    catalog = tmp_path / "boards.yaml"
    catalog.write_text(yaml.safe_dump({"boards": {"exl476": NEW_BOARD}}))
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "x0.npy", np.random.default_rng(11).integers(-128, 128, (1, 1, 30225, 1), dtype=np.int8))
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--catalog", str(catalog), "--board", "exl476",
                           "--emulate", "--model", str(SMALL), "--data", str(data), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "COLUMNS": "200", "TINYHIL_DB": str(tmp_path / "h.db")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    summary = json.loads((run / "summary.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert summary["board"] == "exl476" and summary["target"] == "twin" and summary["bit_exact"] is True
    assert manifest["clock_hz"] == 80_000_000 and manifest["firmware"]["platformio_env"] == "any_twin"
    assert summary["memory"]["ram_bytes"] <= 131_072  # linked against the new board's own RAM size
    assert summary["latency"]["estimate"] is True  # instructions x CPI 1.3 / 80 MHz
    assert summary["latency"]["median"] == pytest.approx(summary["counts"]["median"] * 1.3 / 80, rel=1e-6)
