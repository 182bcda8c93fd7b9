"""Study wall times on the twins and the labgrid path's overhead per inference.

    python benchmarks/study.py [--study examples/studies/mini-twins.yaml] [--skip-study] [--skip-farm]

1. The example study (default: raw_mini x {tinyhil, tflm, tflm-cmsis-nn} x the stm32f746, nrf52840, rp2040 twins,
   9 cells) run from scratch (fresh results folder and build directories; the TFLM libraries stay cached) with
   ``--jobs 1`` and ``--jobs 2``: wall seconds and the speed-up.
2. Resume: the study with ``--jobs 2`` is SIGKILLed once half its cells are done, then run again: the cells the
   second run ran (only the unfinished ones) and its wall seconds.
3. The labgrid path: the same firmware driven directly on a twin (QEMU's TCP socket) and through a local farm
   place (coordinator, exporter, ser2net RFC 2217, socat pty): milliseconds per inference, median of N.

Wall times depend on the machine's load (it is shared): the script prints the load average with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.study.schema import load_study  # noqa: E402


def study_cmd(study: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "study", "run", str(study), "--jobs", str(jobs), "--out", str(out)]


def env_for(build: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'models'}", "TINYHIL_BUILD_ROOT": str(build)}
    env.setdefault("TINYHIL_LOCAL_DIR", str(REPO.parent / "shared"))  # the TFLM source tree, as `make test` sets
    return env


def timed_study(study: Path, root: Path, jobs: int) -> float:
    out = root / f"jobs{jobs}"
    t0 = time.monotonic()
    proc = subprocess.run(study_cmd(study, out, jobs), cwd=REPO, env=env_for(root / f"build{jobs}"),
                          capture_output=True, text=True)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:])
        raise SystemExit(f"study --jobs {jobs} failed (status {proc.returncode})")
    return wall


def done_cells(state_dir: Path) -> int:
    n = 0
    for f in state_dir.glob("*.json"):
        try:
            n += json.loads(f.read_text()).get("status") == "done"
        except ValueError:
            pass
    return n


def resume(study: Path, root: Path, n_cells: int) -> tuple[int, int, float]:
    """Kill the study (SIGKILL) once half its cells are done; returns (done at the kill, cells the rerun ran,
    rerun wall seconds)."""
    out, name = root / "resume", load_study(study).name
    env = env_for(root / "build-resume")
    proc = subprocess.Popen(study_cmd(study, out, 2), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state_dir = out / ".study" / name
    while done_cells(state_dir) < n_cells // 2:
        if proc.poll() is not None:
            raise SystemExit("the study ended before it could be killed halfway")
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = done_cells(state_dir)
    t0 = time.monotonic()
    rerun = subprocess.run(study_cmd(study, out, 2), cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    ran = next((int(line.split(":")[1].split("cells ran")[0]) for line in rerun.stdout.splitlines()
                if "cells ran" in line), -1)
    return at_kill, ran, wall


def per_inference(n: int) -> tuple[float, float]:
    """ms per inference (median of ``n``) on a twin directly and through a local labgrid place."""
    from harness.boards import get_board  # noqa: PLC0415
    from harness.farm import PlaceSession, place_connect  # noqa: PLC0415
    from harness.farm.localfarm import LocalFarm  # noqa: PLC0415
    from harness.orchestrate import connect, prepare  # noqa: PLC0415

    target = get_board("stm32f746").target(True)
    fw = prepare(REPO / "tests/fixtures/models/raw_mini_int8.tflite", target)
    x = np.random.default_rng(0).integers(-128, 128, fw.compiled.input_tensor.shape, dtype=np.int8)

    def times(dut) -> tuple[float, bytes]:
        dut.infer(x)  # warm-up
        laps = []
        for _ in range(n):
            t0 = time.perf_counter()
            out, _ = dut.infer(x)
            laps.append(time.perf_counter() - t0)
        return 1e3 * statistics.median(laps), out.tobytes()

    with tempfile.TemporaryDirectory() as tmp:
        with connect(fw, run_dir=Path(tmp) / "direct") as dut:
            direct, out_direct = times(dut)
        with LocalFarm() as farm:
            farm.add_twin_place("bench-twin", target, fw.elf)
            with PlaceSession("bench-twin", coordinator=farm.address) as s, \
                    place_connect(s, fw, run_dir=Path(tmp) / "place") as dut:
                place, out_place = times(dut)
    assert out_direct == out_place, "outputs differ between the direct twin and the place"
    return direct, place


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", type=Path, default=REPO / "examples/studies/mini-twins.yaml")
    ap.add_argument("--inferences", type=int, default=20)
    ap.add_argument("--skip-study", action="store_true")
    ap.add_argument("--skip-farm", action="store_true")
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f}")
    if not a.skip_study:
        study = load_study(a.study)
        with tempfile.TemporaryDirectory(prefix="tinyhil-bench-study-") as tmp:
            from harness.study.plan import plan_cells  # noqa: PLC0415

            n = len(plan_cells(study, study.boards, None, produce=False, log=lambda m: None))
            w1 = timed_study(a.study, Path(tmp), 1)
            print(f"study {study.name}: {n} cells, --jobs 1: {w1:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
            w2 = timed_study(a.study, Path(tmp), 2)
            print(f"study {study.name}: {n} cells, --jobs 2: {w2:.1f} s (load {os.getloadavg()[0]:.1f}); "
                  f"speed-up {w1 / w2:.2f}x", flush=True)
            at_kill, ran, wr = resume(a.study, Path(tmp), n)
            print(f"resume: killed (SIGKILL) with {at_kill} of {n} cells done; the rerun ran {ran} cells "
                  f"(expected {n - at_kill}) in {wr:.1f} s", flush=True)
    if not a.skip_farm:
        direct, place = per_inference(a.inferences)
        print(f"per inference (raw_mini, stm32f746 twin, median of {a.inferences}): direct {direct:.1f} ms, "
              f"through the labgrid place (RFC 2217 + ser2net + socat) {place:.1f} ms; overhead "
              f"{place - direct:+.1f} ms", flush=True)


if __name__ == "__main__":
    main()
