"""A study on the twins, killed halfway and resumed: the small fixture model on three twins, real QEMU runs.

One study run per step, checking several things each (the whole test is a few cell runs):
1. ``tinyhil study run --jobs 1`` in a subprocess, SIGKILLed once its first cell is done: the worker of the
   running cell and its QEMU die with it; ``study status`` shows 1 done and the rest pending.
2. The same study again with ``--jobs 2``: only the unfinished cells run (two at once), all bit-exact; the
   history database holds every run exactly once; the report is written.
3. Once more: nothing runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.history import RunStore
from harness.study.plan import run_study, states_of
from harness.study.schema import load_study

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"
BOARDS = ["stm32f746", "nrf52840", "rp2040"]

pytestmark = [pytest.mark.emulator, pytest.mark.needs_shared("audio/esc50-cc0/meta/esc50.csv")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _states(state_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in state_dir.glob("*.json")]


def test_a_killed_study_resumes_only_its_unfinished_cells(tmp_path, shared_dir):
    study_file = tmp_path / "study.yaml"
    study_file.write_text(f"name: killed\nmodels: [{{path: {MINI}}}]\nboards: [{', '.join(BOARDS)}]\n"
                          f"data: {shared_dir / 'audio' / 'esc50-cc0'}\nlimit: 1\nout: results\nreport: report\n")
    study = load_study(study_file)
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'models'}"}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "study", "run", str(study_file), "--jobs", "1"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not any(s["status"] == "done" for s in _states(study.state_dir)):
        assert proc.poll() is None, "the study ended before it could be killed"
        assert time.monotonic() < deadline, "no cell finished within 10 minutes"
        time.sleep(0.2)
    running = []
    while not running and proc.poll() is None and time.monotonic() < deadline:  # the next cell's worker
        running = [s["pid"] for s in _states(study.state_dir) if s["status"] == "running"]
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # a nightly killed at 3 a.m.
    proc.wait()
    time.sleep(1.0)
    assert running and not any(_alive(pid) for pid in running), "the worker outlived the killed study"
    qemu = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert not qemu, f"processes of the killed study still run: {qemu}"

    status = subprocess.run([sys.executable, "-m", "harness.cli", "study", "status", str(study_file)],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    assert "1 done" in status.stdout and "2 pending" in status.stdout, status.stdout
    assert "stale" in status.stdout  # the cell that was running when the study was killed

    lines: list[str] = []
    second = run_study(study, jobs=2, log=lines.append)
    assert len(second.outcome.skipped) == 1 and len(second.outcome.ran) == 2, lines
    assert all(rec["status"] == "done" and rec["bit_exact"] is True for _, rec in second.outcome.ran), lines
    assert second.report is not None and (second.report / "tradeoffs.md").is_file()
    with RunStore(study.out_dir / "history.sqlite") as store:
        ids = store.run_ids()
    run_dirs = [s["run_dir"] for s in _states(study.state_dir)]
    assert sorted(ids) == sorted(Path(p).name for p in run_dirs) and len(ids) == 3  # every run exactly once
    assert {Path(p).name.rsplit("-", 2)[-2] for p in run_dirs} == set(BOARDS)

    third = run_study(study, jobs=2, log=lines.append)
    assert not third.outcome.ran and len(third.outcome.skipped) == 3
    assert len(list(states_of(study).dir.glob("*.json"))) == 3
