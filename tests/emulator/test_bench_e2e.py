"""End to end: `tinyhil bench` of the real ACDNet-20 on the STM32F746 twin with the seven shared clips.

This is the README's demo, run as a user runs it (a subprocess of the CLI), then checked from the run
directory it wrote: every output byte equals the TFLM host interpreter's, counts are exact instructions,
memory fits the board.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.data.layouts import iter_samples
from harness.reference.tflm import ReferenceInterpreter
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_path()
MODEL = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
CLIPS = shared_path("audio", "esc50-cc0")

pytestmark = [pytest.mark.emulator,
              pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite", "audio/esc50-cc0")]


def tinyhil(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "TINYHIL_LOCAL_DIR": str(SHARED), "COLUMNS": "160"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("results")
    proc = tinyhil("bench", "--model", str(MODEL), "--data", str(CLIPS), "--board", "stm32f746", "--emulate",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(runs) == 1
    return proc, runs[0]


def test_demo_prints_a_table_and_writes_a_complete_run(demo_run):
    proc, run = demo_run
    assert "tinyhil results" in proc.stdout and "stm32f746" in proc.stdout
    assert sorted(p.name for p in run.iterdir()) == ["inferences.csv", "manifest.json", "qemu.log",
                                                     "serial.log", "summary.json"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["target"] == "twin" and manifest["twin"]["machine"] == "mps2-an500"
    assert manifest["model"]["sha256"].startswith("72f96b34")
    assert manifest["timer_source"] == "instructions"
    assert "-mcpu=cortex-m7" in manifest["firmware"]["flags"] and manifest["qemu"].startswith("QEMU")
    assert manifest["preprocessing"]["quantization"] == "model"


def test_every_output_byte_equals_the_tflm_reference(demo_run):
    """Recomputed here from the CSV, independently of the runner's own comparison."""
    _, run = demo_run
    summary = json.loads((run / "summary.json").read_text())
    assert summary["bit_exact"] is True and summary["mismatches"] == 0 and summary["inferences"] == 70
    compiled = compile_model(MODEL)
    ref = ReferenceInterpreter(MODEL)
    rows = list(csv.DictReader(open(run / "inferences.csv")))
    by_key = {(r["input_id"], int(r["crop"])): np.array(r["output"].split(), dtype=np.int8) for r in rows}
    for sample in iter_samples(CLIPS, compiled.input_tensor):
        for crop, x in enumerate(sample.inputs):
            assert np.array_equal(by_key[(sample.id, crop)], ref.run(x).reshape(-1)), (sample.id, crop)


def test_counts_are_instructions_and_memory_fits_the_board(demo_run):
    _, run = demo_run
    summary = json.loads((run / "summary.json").read_text())
    board = get_board("stm32f746")
    counts = summary["counts"]
    assert counts["unit"] == "instructions" and counts["n"] == 70
    # ACDNet-20 is 17.47 M MACs: an int8 Cortex-M7 build needs several instructions per MAC
    assert 17_466_660 < counts["min"] <= counts["median"] <= counts["max"] < 20 * 17_466_660
    assert summary["arena_bytes"] < 100_000  # conv + pool fusion (302,144 B unfused)
    assert summary["memory"]["ram_bytes"] <= board.ram_bytes
    mem = summary["memory"]  # peak RAM: linked RAM less the stack the painted-stack scan found untouched
    assert mem["ram_bytes"] - mem["stack_bytes"] < mem["peak_ram_bytes"] < mem["ram_bytes"]
    assert summary["weight_bytes"] < summary["memory"]["flash_bytes"] <= board.flash_bytes


def test_model_too_large_for_the_board_is_refused_at_link_time(tmp_path):
    """ACDNet-20 with TFLM + CMSIS-NN (309 KB arena) cannot fit the RP2040's 264 KB: one line naming region and
    bytes.  (tinyhil's own build fits since conv + pool fusion: tests/emulator/test_acdnet_boards.py.)"""
    proc = tinyhil("bench", "--model", str(MODEL), "--data", str(CLIPS), "--board", "rp2040", "--emulate",
                   "--backend", "tflm-cmsis-nn", "--out", str(tmp_path), "--limit", "1")
    assert proc.returncode == 3  # does not fit (README: exit statuses)
    message = proc.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1
    assert "does not fit rp2040: region RAM overflowed by" in message
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_corrupt_model_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(MODEL.read_bytes()[:4096])
    proc = tinyhil("bench", "--model", str(bad), "--data", str(CLIPS), "--board", "stm32f746", "--emulate",
                   "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "corrupt" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
