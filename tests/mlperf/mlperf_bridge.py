"""Test helpers for running the official MLPerf Tiny runner against a twin: a socat bridge from the twin's UART
(QEMU's TCP serial server) to a pseudo-terminal, the runner's dataset format, and one runner run.

Nothing of the runner is copied: it runs in place from ``../shared/third_party/mlperf-tiny-runner`` through
``runner_shim.py`` (port listing supplied from outside); its session folder and the dataset go to a tmp dir.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import yaml

SHIM = Path(__file__).resolve().parent / "runner_shim.py"


@contextlib.contextmanager
def pty_bridge(tcp_port: int, directory: Path, timeout_s: float = 10.0) -> Iterator[Path]:
    """``socat`` between ``127.0.0.1:tcp_port`` and a new pseudo-terminal; yields the pty's path (a symlink in
    ``directory``).  One slave descriptor is held open meanwhile, so the runner may close and reopen the port
    (it does, between identifying the DUT and running the test) without socat seeing the pty hang up."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    link = Path(directory) / "ttyDUT"
    log = (Path(directory) / "socat.log").open("wb")
    proc = subprocess.Popen(["socat", "-d", "-d", f"PTY,link={link},raw,echo=0",
                             f"TCP:127.0.0.1:{tcp_port},nodelay"], stdout=log, stderr=log, start_new_session=True)
    hold = None
    try:
        deadline = time.monotonic() + timeout_s
        while not link.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"socat did not create {link}: see {log.name}")
            time.sleep(0.02)
        hold = os.open(link, os.O_RDWR | os.O_NOCTTY)
        yield link
    finally:
        if hold is not None:
            os.close(hold)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        log.close()


def write_dataset(root: Path, benchmark: str, input_shape: tuple[int, ...], classes: int, per_class: int,
                  seed: int) -> list[tuple[str, int, bytes]]:
    """The runner's dataset format (``datasets.py``): ``root/<benchmark>/y_labels.csv`` without a header, rows
    ``file, classes, class``, and each file the raw int8 input tensor.  Random inputs (``seed``), ``per_class``
    files labelled with each class.  Returns (file name, label, bytes) per file."""
    folder = Path(root) / benchmark
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = []
    for i in range(classes * per_class):
        data = rng.integers(-128, 128, size=input_shape, dtype=np.int8).tobytes()
        name = f"rand_{i:03d}.bin"
        (folder / name).write_bytes(data)
        files.append((name, i % classes, data))
    with (folder / "y_labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows((name, classes, label) for name, label, _ in files)
    return files


@dataclass
class RunnerSession:
    """One finished runner run: its exit status, the session folder (``log.txt``, ``results.txt``,
    ``results.json``) and their text."""

    returncode: int
    folder: Path | None
    log: str
    results_txt: str
    results: list

    def summary(self) -> str:
        """The lines the runner prints with ``ulp-mlperf:`` (its results), for reports and failure messages."""
        return "\n".join(line for line in self.log.splitlines() if "ulp-mlperf:" in line and "Loading" not in line
                         and "Load complete" not in line)


def run_runner(runner_dir: Path, port: Path, vid_pid: str, mode: str, dataset: Path, devices: Path,
               tests: Path, cwd: Path, timeout_s: float) -> RunnerSession:
    """Run the runner's ``main.py`` (through ``runner_shim.py``) in ``cwd`` with ``--mode mode``; the devices
    and tests files are the runner's own, passed by path.  Returns the :class:`RunnerSession`."""
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(SHIM), str(runner_dir), str(port), vid_pid, f"--mode={mode}",
           f"--dataset_path={dataset}", f"--device_list={devices}", f"--test_script={tests}"]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    sessions = sorted((cwd / "sessions").glob("*/log.txt"))
    folder = sessions[-1].parent if sessions else None
    log = folder.joinpath("log.txt").read_text() if folder else proc.stdout + proc.stderr
    results_txt = folder.joinpath("results.txt").read_text() if folder and (folder / "results.txt").exists() else ""
    results = json.loads(folder.joinpath("results.json").read_text()) if folder and (folder / "results.json").exists() else []
    return RunnerSession(proc.returncode, folder, log, results_txt, results)


def dut_vid_pid(devices: Path) -> str:
    """``VID:PID`` (hex) of the DUT entry of a runner devices file (the first USB id it lists)."""
    entries = yaml.safe_load(Path(devices).read_text())
    dut = next(d for d in entries if d.get("type") == "dut")
    vid, pids = next(iter(dut["usb"].items()))
    pid = pids[0] if isinstance(pids, list) else pids
    return f"{vid:04X}:{pid:04X}"


def have_socat() -> bool:
    return shutil.which("socat") is not None
