"""pytest-benchmark carries on-device time and counts: a saved night, then `--benchmark-compare-fail=median:2%` fails on
a run 3% slower and passes on an identical one (pytest run as a subprocess, as CI runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from report_runs import REPO, derive_run

from harness.boards import get_board

TEST_FILE = '''
import os
from harness.report.benchmark import record_run

def test_device_counts(benchmark):
    record_run(benchmark, os.environ["RUN_DIR"])
'''


def night(tmp_path, run_dir, *args):
    env = {**os.environ, "RUN_DIR": str(run_dir), "PYTHONPATH": str(REPO)}
    # -p no:labgrid: with pytest-embedded also installed, labgrid's `target` fixture would skip every test
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:labgrid",
                           "--benchmark-storage", str(tmp_path / "storage"), *args, "test_night.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_benchmark_json_holds_device_counts_and_compare_fails_on_3_percent(real_runs, tmp_path):
    (tmp_path / "test_night.py").write_text(TEST_FILE)
    base = real_runs["stm32f746"]
    first = night(tmp_path, base, "--benchmark-autosave", "--benchmark-json", str(tmp_path / "night1.json"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    doc = json.loads((tmp_path / "night1.json").read_text())
    (bench,) = doc["benchmarks"]
    summary = json.loads((base / "summary.json").read_text())
    counts = summary["counts"]
    # statistics are device seconds (instructions x CPI / clock, an estimate on a twin), not host time;
    # the exact counts travel in extra_info with their unit
    board = get_board("stm32f746")
    s_per_count = board.cpi.value / board.clock_hz
    assert bench["stats"]["median"] == pytest.approx(counts["median"] * s_per_count, rel=1e-9)
    assert bench["stats"]["min"] == pytest.approx(counts["min"] * s_per_count, rel=1e-9)
    assert bench["stats"]["rounds"] == counts["n"] and min(bench["extra_info"]["counts"]) == counts["min"]
    info = bench["extra_info"]
    assert info["count_unit"] == "instructions" and info["board"] == "stm32f746" and info["time_estimate"] is True
    assert info["time_source"].startswith("ESTIMATE: instructions x CPI")
    assert bench["extra_info"]["flash_bytes"] == summary["memory"]["flash_bytes"]

    same = night(tmp_path, real_runs["stm32f746-rerun"], "--benchmark-compare", "--benchmark-compare-fail=median:2%")
    assert same.returncode == 0, same.stdout[-3000:]
    slower = derive_run(base, tmp_path / "runs", "slower", count_scale=1.03)
    worse = night(tmp_path, slower, "--benchmark-compare", "--benchmark-compare-fail=median:2%")
    assert worse.returncode != 0 and "Performance has regressed" in worse.stdout + worse.stderr
