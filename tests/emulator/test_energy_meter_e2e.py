"""`tinyhil bench --energy-meter ppk2:PORT` end to end: a twin run whose energy comes from a power monitor.

The monitor is the PPK2 wire-protocol simulator (harness/metrics/energy/simulators.py) on a pseudo-terminal, driven by
the real ``ppk2_api`` package inside the bench subprocess.  The twin has no timestamp GPIO, so the simulator
plays the wired DUT's side too: each time the monitor starts streaming it sends one MLPerf energy window (idle,
timestamp pulse, the inference at a known current, pulse, idle).  The run must record that window's energy,
labelled as measured by the PPK2, never the datasheet estimate; without a meter the estimate stays labelled.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.metrics.energy.simulators import Ppk2Sim, dut_trace

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"
FS, T_INFERENCE_S, I_ACTIVE_A, I_IDLE_A, VOLTS = 100_000, 0.004, 0.020, 0.001, 3.3

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(importlib.util.find_spec("ppk2_api") is None,
                       reason="ppk2-api not installed (pip install '.[energy]')"),
]


class WiredPpk2Sim(Ppk2Sim):
    """A PPK2 whose logic input D0 is wired to a DUT: every stream start carries one window of one inference."""

    def handle(self, data: bytes) -> None:
        was = self.streaming
        super().handle(data)
        if self.streaming and not was:
            current, level = dut_trace(FS, 1, T_INFERENCE_S, I_ACTIVE_A, I_IDLE_A)
            self.feed(current, level, channel=0)


def bench(tmp_path: Path, *extra: str) -> dict:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    np.save(data / "x0.npy", np.random.default_rng(7).integers(-128, 128, (1, 1, 30225, 1), dtype=np.int8))
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--model", str(SMALL), "--data", str(data),
                           "--board", "stm32f746", "--emulate", "--out", str(out), *extra], cwd=REPO,
                          capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200",
                                                                            "TINYHIL_DB": str(tmp_path / "h.db")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {"summary": json.loads((run / "summary.json").read_text()),
            "manifest": json.loads((run / "manifest.json").read_text())}


def test_bench_energy_comes_from_the_power_monitor(tmp_path):
    sim = WiredPpk2Sim()
    try:
        run = bench(tmp_path, "--energy-meter", f"ppk2:{sim.port}")
    finally:
        sim.close()
    energy = run["summary"]["energy"]
    assert energy["estimate"] is False and energy["source"].startswith(f"PPK2 {sim.port}")
    want_uj = I_ACTIVE_A * VOLTS * T_INFERENCE_S * 1e6  # the simulated inference: 20 mA x 3.3 V x 4 ms
    assert energy["per_inference"] == pytest.approx(want_uj, rel=0.02)  # PPK2 ADC steps
    assert energy["inferences"] == 1 and run["manifest"]["energy_meter"] == f"ppk2:{sim.port}"
    starts = [c for c in sim.commands if c[0] == 0x06]
    assert len(starts) == 5  # one monitor window per latency window (MLPerf run rules: 5)


def test_without_a_meter_the_estimate_stays_labelled(tmp_path):
    run = bench(tmp_path)
    energy = run["summary"]["energy"]
    assert energy["estimate"] is True and energy["source"].startswith("ESTIMATE: power model")
    assert run["manifest"]["energy_meter"] is None


def test_unknown_meter_is_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--model", str(SMALL), "--board",
                           "stm32f746", "--emulate", "--energy-meter", "fluke", "--out", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "unknown power monitor 'fluke'; use one of js220, js110, ppk2, lpm01a" in proc.stderr
