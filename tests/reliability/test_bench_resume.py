"""`tinyhil bench` on a twin, interrupted: SIGTERM keeps the evidence and `--resume` finishes the run with the
same records as an uninterrupted one; QEMU killed mid-run is restarted and the run completes unchanged.

One small model (the KWS fixture, 490-byte inputs) and six input tensors keep each run to seconds.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
KWS = REPO / "tests" / "fixtures" / "models" / "kws_dscnn_int8.tflite"
N = 6

pytestmark = pytest.mark.emulator


def bench(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "bench", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def journal_rows(out: Path) -> int:
    for work in out.glob(".*.work"):
        path = work / "inferences.partial.csv"
        if path.exists():
            return max(0, len(path.read_text().splitlines()) - 1)
    return 0


def wait_for_rows(out: Path, proc: subprocess.Popen, rows: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while journal_rows(out) < rows:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not start inferring"
        time.sleep(0.05)


def records(run: Path) -> list[tuple]:
    with open(run / "inferences.csv") as f:
        return [(r["input_id"], r["crop"], r["count"], r["output"], r["matches_reference"]) for r in csv.DictReader(f)]


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kws_data")
    rng = np.random.default_rng(7)
    for i in range(N):
        np.save(folder / f"x{i}.npy", rng.integers(-128, 128, (1, 49, 10, 1), dtype=np.int8))
    return folder


def args(data: Path, out: Path) -> list[str]:
    return ["--model", str(KWS), "--data", str(data), "--board", "stm32f746", "--emulate", "--out", str(out)]


@pytest.fixture(scope="module")
def clean_run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    proc = bench(*args(data, out))
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-2000:]
    return only_run(out)


def test_sigterm_keeps_evidence_and_resume_equals_the_uninterrupted_run(data, clean_run, tmp_path):
    out = tmp_path / "out"
    proc = bench(*args(data, out))
    wait_for_rows(out, proc, 2)
    emulators = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert not any(alive(pid) for pid in emulators)  # QEMU was stopped, not orphaned
    (work,) = out.glob(".*.work")
    message = " ".join(stderr.split())
    assert "interrupted by SIGTERM" in message and str(work) in message and "--resume" in message
    manifest = json.loads((work / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["inferences_journaled"] >= 2
    assert {"serial.log", "qemu.log", "inferences.partial.csv", "resume.json"} <= {p.name for p in work.iterdir()}
    assert not [p for p in out.iterdir() if not p.name.startswith(".")]  # nothing looks like a valid run

    resumed = bench("--resume", str(work))
    stdout, stderr = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, stderr[-2000:]
    assert "resuming" in stdout and not work.exists()
    run = only_run(out)
    assert records(run) == records(clean_run)  # outputs and counts, byte for byte
    assert json.loads((run / "summary.json").read_text())["bit_exact"] is True


def test_qemu_killed_mid_run_is_restarted_and_the_run_is_unchanged(data, clean_run, tmp_path):
    out = tmp_path / "out"
    proc = bench(*args(data, out))
    wait_for_rows(out, proc, 2)
    qemu = [pid for pid in children(proc.pid) if b"qemu" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert qemu
    os.kill(qemu[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-2000:]
    assert "'resets': 1" in stdout
    assert records(only_run(out)) == records(clean_run)
