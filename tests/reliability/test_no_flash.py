"""`tinyhil bench --port URL --no-flash`: a twin started by hand (as a farm's proxy or a board flashed some other
way) is benchmarked without flashing; one running another model is refused by its firmware's model hash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.boards import get_board
from harness.flash.qemu import QemuTwin
from harness.orchestrate import prepare

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "fixtures" / "models"

pytestmark = pytest.mark.emulator


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "bench", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=900, env={**os.environ, "COLUMNS": "200"})


def test_running_twin_is_benchmarked_and_another_model_refused(tmp_path):
    target = get_board("stm32f746").target(True)
    firmware = prepare(MODELS / "kws_dscnn_int8.tflite", target)
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "x.npy", np.random.default_rng(3).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8))
    with QemuTwin(target, firmware.elf, log_dir=tmp_path / "q1") as twin:
        ok = bench("--model", str(MODELS / "kws_dscnn_int8.tflite"), "--data", str(data), "--board", "stm32f746",
                   "--emulate", "--port", twin.url, "--no-flash", "--out", str(tmp_path / "out"))
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "bit-exact" in ok.stdout and "yes" in ok.stdout
    other = tmp_path / "other"
    other.mkdir()
    np.save(other / "x.npy", np.zeros((1, 640), dtype=np.int8))  # the autoencoder's input
    with QemuTwin(target, firmware.elf, log_dir=tmp_path / "q2") as twin:
        wrong = bench("--model", str(MODELS / "ad_autoencoder_int8.tflite"), "--data", str(other), "--board",
                      "stm32f746", "--emulate", "--port", twin.url, "--no-flash", "--out", str(tmp_path / "out2"))
    message = wrong.stderr.strip()
    assert wrong.returncode == 4 and "Traceback" not in message, message  # a DUT error (README: exit statuses)
    assert "runs model 'kws_dscnn_int8" in " ".join(message.split()) and "ad_autoencoder_int8.tflite" in message
    assert not [p for p in (tmp_path / "out2").iterdir() if not p.name.startswith(".")]  # nothing recorded
