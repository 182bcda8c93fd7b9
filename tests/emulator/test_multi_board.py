"""`tinyhil bench` with several --board values: one run per board, then one comparison table.

One input tensor (a .npy folder) per board keeps it short: the small raw-waveform model on the M7 and M0+
twins, and the ESP32, which has no twin, listed as such.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"

pytestmark = pytest.mark.emulator


def test_several_boards_give_one_run_each_and_a_comparison_table(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "x0.npy", np.random.default_rng(5).integers(-128, 128, (1, 1, 30225, 1), dtype=np.int8))
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--model", str(SMALL), "--data", str(data),
                           "--board", "stm32f746", "--board", "rp2040", "--board", "esp32", "--emulate",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "220"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    summaries = {s["board"]: s for s in (json.loads((p / "summary.json").read_text())
                                         for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))}
    assert sorted(summaries) == ["rp2040", "stm32f746"]
    for s in summaries.values():
        assert s["bit_exact"] is True and s["inferences"] == 1 and s["counts"]["unit"] == "instructions"
    # the M0+ instruction stream (no SMLAD, no 32-bit Thumb-2 multiplies) is longer than the M7's
    assert summaries["rp2040"]["counts"]["median"] > summaries["stm32f746"]["counts"]["median"]
    table = proc.stdout[proc.stdout.index("tinyhil boards compared"):]
    rows = [line.split()[0] for line in table.splitlines() if line.split() and line.split()[0] in summaries | {
        "esp32": None}]  # the table's rows start with the board (column 1, never cut)
    assert rows == ["stm32f746", "rp2040", "esp32"]
    assert "cortex-m7" in table and "216" in table and "no twin" in table
    from harness.report import units

    assert units.count(summaries["stm32f746"]["counts"]["median"]) in table  # e.g. "5.45 M" (README: units)
