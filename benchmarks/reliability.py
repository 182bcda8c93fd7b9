"""Reliability benchmark of the DUT link (issue 12's targets): runs inferences through a seeded byte-level fault
injector and prints, per error rate and direction, the trials, completed trials, wrong results accepted, lost
results, retries and the wall time against the clean link.

    python benchmarks/reliability.py                                   # host DUT, reduced scale
    python benchmarks/reliability.py --dut host --inferences 1000 --input-bytes 490 --rates 1e-3 1e-2
    python benchmarks/reliability.py --dut twin --model tests/fixtures/models/kws_dscnn_int8.tflite \\
        --inferences 1000 --rates 1e-3 1e-2                            # a small model on the M7 twin
    python benchmarks/reliability.py --dut twin --model ../shared/models/acdnet20_esc50_fold4_int8.tflite \\
        --inferences 70 --rates 1e-3                                   # ACDNet-20, 30 KB inputs
    python benchmarks/reliability.py --boots 100 --parallel 4          # concurrent twin starts
    python benchmarks/reliability.py --pause 30                        # a DUT frozen 30 s mid-load (host DUT)
    python benchmarks/reliability.py --pause 30 --dut twin             # a twin frozen 30 s (watchdog, reset)
    python benchmarks/reliability.py --kill-trials 20                  # SIGKILL at a random moment, then compare
    python benchmarks/reliability.py --dead                            # a frozen twin: quarantined within 2x W?

DUTs: ``host`` = the real protocol code (targets/common) built with gcc around a fake model whose output is a
checksum of its input (tests/fakes/hostdut.py); ``twin`` = the firmware of ``--model`` on the stm32f746 twin.
Faults (harness.transport.faults.RandomFaultTransport): flips, drops and duplicates, each rate/3 per byte, in
the direction given.  "wrong" = results accepted that differ from the clean run's (outputs or counts);
"lost" = inferences of a completed trial without a result; a trial that stops raises a one-line error (shown).
"""

from __future__ import annotations

import argparse
import functools
import concurrent.futures
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fakes"))  # hostdut

from harness.errors import TinyhilError  # noqa: E402
from harness.protocol.client import DeviceClient  # noqa: E402
from harness.transport.faults import FaultRates, RandomFaultTransport  # noqa: E402
from harness.transport.serial import SerialTransport  # noqa: E402

DIRECTIONS = ("to_dut", "to_host", "both")
print = functools.partial(print, flush=True)  # noqa: A001 - rows appear as they are measured


class HostRig:
    """Host DUT processes of ``input_bytes`` inputs; ``open()`` starts a fresh one and returns its transport.
    A local socket answers in microseconds: the client's ack floor and ping wait are set for that link."""

    ack_floor_s, ping_s = 0.05, 0.1

    def __init__(self, input_bytes: int, workdir: Path) -> None:
        from hostdut import build_host_dut  # noqa: PLC0415

        self.exe = build_host_dut(workdir, {"TH_FAKE_INPUT_BYTES": input_bytes})
        self.input_bytes = input_bytes
        self.live = []

    def open(self):
        from hostdut import HostDut  # noqa: PLC0415

        dut = HostDut(self.exe, "socket")
        self.live.append(dut)
        return dut.transport

    def close(self) -> None:
        for dut in self.live:
            dut.close()
        self.live.clear()


class TwinRig:
    """QEMU twins of ``model``'s firmware on stm32f746; ``open()`` starts a fresh one (client defaults)."""

    ack_floor_s, ping_s = 0.5, 0.5

    def __init__(self, model: Path, workdir: Path, board: str = "stm32f746") -> None:
        from harness.boards import get_board  # noqa: PLC0415
        from harness.orchestrate import prepare  # noqa: PLC0415

        self.target = get_board(board).target(True)
        self.firmware = prepare(model, self.target)
        self.input_bytes = self.firmware.compiled.input_tensor.nbytes
        self.workdir = workdir
        self.live = []

    def open(self):
        from harness.flash.qemu import QemuTwin  # noqa: PLC0415

        twin = QemuTwin(self.target, log_dir=Path(tempfile.mkdtemp(dir=self.workdir)))
        twin.load(self.firmware.image)
        self.live.append(twin)
        return SerialTransport(twin.url)

    def close(self) -> None:
        for twin in self.live:
            twin.stop()
        self.live.clear()


def client_for(transport, timeout: float) -> DeviceClient:
    client = DeviceClient(transport, "dut", timeout=timeout, retries=8, stall_s=40.0, ping_timeout=0.5)
    client.wait_ready(20.0, ping_interval=1.0)
    return client


def run_trial(rig, inputs: list[bytes], rates: tuple[FaultRates, FaultRates], seed: int, timeout: float,
              truth: list | None) -> dict:
    """One trial: every input once through a fresh DUT behind the fault injector."""
    transport = rig.open()
    link = RandomFaultTransport(transport, *rates, seed=seed)
    started = time.monotonic()
    results, error = [], ""
    client = None
    try:
        client = DeviceClient(link, "dut", timeout=timeout, retries=8, stall_s=40.0, ping_timeout=rig.ping_s,
                              ack_floor_s=rig.ack_floor_s)
        client.wait_ready(20.0, ping_interval=1.0)
        for data in inputs:
            output, laps = client.run_inference(data, timeout=timeout)
            results.append((output, laps.counts))
    except TinyhilError as exc:
        error = str(exc).splitlines()[0][:160]
    finally:
        link.close()
        rig.close()
    wall = time.monotonic() - started
    wrong = 0 if truth is None else sum(1 for got, want in zip(results, truth) if got != want)
    stats = client.stats if client else None
    retries = 0 if stats is None else stats.rerequests + stats.reruns + stats.frame_resends
    return {"completed": not error, "delivered": len(results), "wrong": wrong, "retries": retries,
            "resyncs": 0 if stats is None else stats.resyncs, "wall": wall, "error": error, "results": results}


def error_rate_table(rig, args) -> None:
    """The table.  With ``--clean-each`` a clean reference run goes right before each faulty row and that row's
    wall time is compared with it (on a shared, loaded machine the load drifts within minutes); every clean run
    must deliver the same results as the first (the truth)."""
    rng = random.Random(args.seed)
    inputs = [rng.randbytes(rig.input_bytes) for _ in range(args.inferences)]

    def clean_run() -> dict:
        clean = run_trial(rig, inputs, (FaultRates(), FaultRates()), args.seed, args.timeout, None)
        if not clean["completed"]:
            raise SystemExit(f"the clean run failed: {clean['error']}")
        return clean

    clean = clean_run()
    truth = clean["results"]
    print(f"clean link: {args.inferences} inferences of {rig.input_bytes} B inputs in {clean['wall']:.1f} s"
          + (" (and a clean run again before each row)" if args.clean_each else ""))
    header = f"{'byte error rate':>15} {'direction':>9} {'trials':>6} {'completed':>9} {'wrong accepted':>14} " \
             f"{'lost':>5} {'retries':>8} {'resyncs':>8} {'clean s':>8} {'faulty s':>8} {'wall vs clean':>13}"
    print(header)
    print("-" * len(header))
    first = True
    for rate in args.rates:
        for direction in args.directions:
            if args.clean_each and not first:
                clean = clean_run()
                if clean["results"] != truth:
                    raise SystemExit("a clean run gave other results than the first: the DUT is not deterministic")
            first = False
            noisy = FaultRates.uniform(rate)
            rates = (noisy if direction in ("to_dut", "both") else FaultRates(),
                     noisy if direction in ("to_host", "both") else FaultRates())
            trials = [run_trial(rig, inputs, rates, args.seed + 1000 * t + 1, args.timeout, truth)
                      for t in range(args.trials)]
            done = [t for t in trials if t["completed"]]
            lost = sum(args.inferences - t["delivered"] for t in done)
            faulty = sum(t["wall"] for t in done) / len(done) if done else float("nan")
            print(f"{rate:>15g} {direction:>9} {len(trials):>6} {len(done):>9} "
                  f"{sum(t['wrong'] for t in trials):>14} {lost:>5} {sum(t['retries'] for t in trials):>8} "
                  f"{sum(t['resyncs'] for t in trials):>8} {clean['wall']:>8.1f} {faulty:>8.1f} "
                  f"{faulty / clean['wall']:>12.2f}x")
            for t in trials:
                if t["error"]:
                    print(f"{'':>15} stopped after {t['delivered']} inferences: {t['error']}")


def concurrent_boots(args, workdir: Path) -> None:
    """``--boots`` twin starts, ``--parallel`` at a time, each waiting for m-ready (pinging) then name%."""
    rig = TwinRig(args.model, workdir)
    failures: list[str] = []
    lock = threading.Lock()

    def boot(i: int) -> None:
        from harness.flash.qemu import QemuTwin  # noqa: PLC0415

        twin = QemuTwin(rig.target, log_dir=Path(tempfile.mkdtemp(dir=workdir)))
        try:
            twin.load(rig.firmware.image)
            client = client_for(SerialTransport(twin.url), 5.0)
            client.name()
            client.close()
        except TinyhilError as exc:
            with lock:
                failures.append(f"boot {i}: {str(exc)[:160]}")
        finally:
            twin.stop()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        list(pool.map(boot, range(args.boots)))
    print(f"concurrent twin starts: {args.boots} ({args.parallel} at a time), boot failures: {len(failures)}, "
          f"{time.monotonic() - started:.1f} s")
    for line in failures:
        print("  " + line)


class _PauseAt:
    """A Transport wrapper that freezes the DUT (``pause()``) just after the ``at``-th write and wakes it
    ``seconds`` later: a DUT that stops in the middle of a bulk load (after the bload command and a few frames)."""

    def __init__(self, inner, dut, at: int, seconds: float) -> None:
        self.inner, self.dut, self.at, self.seconds, self.writes = inner, dut, at, seconds, 0
        self.timer: threading.Timer | None = None

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        self.writes += 1
        if self.writes == self.at:
            self.dut.pause()
            self.timer = threading.Timer(self.seconds, self.dut.resume)
            self.timer.start()

    def read(self, n: int, timeout: float) -> bytes:
        return self.inner.read(n, timeout)

    def close(self) -> None:
        if self.timer:
            self.timer.cancel()
        self.inner.close()


def paused_dut(args, workdir: Path) -> None:
    """A host DUT frozen (SIGSTOP) for ``--pause`` s in the middle of a bulk load (after the 4th frame of a
    30 KB input); the inference must complete with the right output."""
    from hostdut import HostDut, build_host_dut, fake_model_output  # noqa: PLC0415

    exe = build_host_dut(workdir, {"TH_FAKE_INPUT_BYTES": 30720})
    data = random.Random(args.seed).randbytes(30720)
    with HostDut(exe, "socket") as dut:
        link = _PauseAt(dut.transport, dut, at=6, seconds=args.pause)
        client = DeviceClient(link, "dut", timeout=5.0, stall_s=40.0)
        client.wait_ready(5.0)
        started = time.monotonic()
        try:
            output, _ = client.run_inference(data)
            ok = output == fake_model_output(data)
            print(f"DUT paused {args.pause:g} s mid-load (after write {link.at}): completed, output "
                  f"{'right' if ok else 'WRONG'}, {time.monotonic() - started:.1f} s, {client.resends} frame re-sends, "
                  f"{client.stats.resyncs} resyncs")
        except TinyhilError as exc:
            print(f"DUT paused {args.pause:g} s mid-load: FAILED after {time.monotonic() - started:.1f} s: {exc}")
        finally:
            dut.resume()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _records(out: Path) -> list[tuple] | None:
    import csv  # noqa: PLC0415

    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(runs) != 1:
        return None
    with open(runs[0] / "inferences.csv") as f:
        return [(r["input_id"], r["crop"], r["count"], r["output"]) for r in csv.DictReader(f)]


def kill_trials(args, workdir: Path) -> None:
    """``--kill-trials`` runs of `tinyhil bench` (``--model`` on the stm32f746 twin, ``--inferences`` tensors),
    each hit by SIGKILL at a random moment during its inferences: odd trials kill QEMU (during the inferences
    the run resets the twin and goes on; during the measurements after them it stops), even trials kill tinyhil
    itself; a stopped run is finished with ``--resume``.  Every finished run
    must equal an uninterrupted one, outputs and counts."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from harness.codegen.compiler import compile_model  # noqa: PLC0415

    tensor = compile_model(args.model).input_tensor
    data = workdir / "data"
    data.mkdir()
    rng = np.random.default_rng(args.seed)
    for i in range(args.inferences):
        np.save(data / f"x{i:04d}.npy", rng.integers(-128, 128, tensor.shape, dtype=np.int8))

    def bench(out: Path, *extra: str) -> subprocess.Popen:
        base = ["--model", str(args.model), "--data", str(data), "--board", "stm32f746", "--emulate",
                "--out", str(out)] if not extra else list(extra)
        return subprocess.Popen([sys.executable, "-m", "harness.cli", "bench", *base], cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    clean_out = workdir / "clean"
    proc = bench(clean_out)
    proc.communicate()
    truth = _records(clean_out)
    if proc.returncode != 0 or truth is None:
        raise SystemExit("the uninterrupted run failed")
    pick = random.Random(args.seed)
    rows = {"qemu": [0, 0, 0, 0], "tinyhil": [0, 0, 0, 0]}  # trials, completed, equal, resumed
    started = time.monotonic()
    for trial in range(args.kill_trials):
        victim = "qemu" if trial % 2 else "tinyhil"
        out = workdir / f"t{trial}"
        proc = bench(out)
        target_rows = pick.randint(1, max(1, args.inferences - 1))
        while proc.poll() is None:
            journals = list(out.glob(".*.work/inferences.partial.csv"))
            if journals and len(journals[0].read_text().splitlines()) - 1 >= target_rows:
                break
            time.sleep(0.02)
        time.sleep(pick.random() * 0.3)  # a random moment inside the next inference
        if proc.poll() is None:
            kids = [p for p in _children(proc.pid) if b"qemu" in Path(f"/proc/{p}/cmdline").read_bytes()]
            os.kill(kids[0] if victim == "qemu" and kids else proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        works = list(out.glob(".*.work"))
        if works:  # the run stopped (tinyhil killed, or QEMU killed outside the reset-protected inferences)
            rows[victim][3] += 1
            resumed = bench(out, "--resume", str(works[0]))
            _, err = resumed.communicate()
        got = _records(out)
        if got is None:
            print(f"  trial {trial} (kill {victim}) did not complete: {err.strip()[-300:]}")
        rows[victim][0] += 1
        rows[victim][1] += got is not None
        rows[victim][2] += got == truth
    print(f"SIGKILL at a random moment ({args.inferences} inferences per run, {time.monotonic() - started:.0f} s):")
    for victim, (n, done, equal, resumed) in rows.items():
        print(f"  kill {victim:8}: trials {n}, needed --resume {resumed}, completed {done}, "
              f"equal to the uninterrupted run (outputs and counts) {equal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dut", choices=("host", "twin"), default="host")
    parser.add_argument("--model", type=Path, default=REPO / "tests" / "fixtures" / "models" / "kws_dscnn_int8.tflite")
    parser.add_argument("--input-bytes", type=int, default=490, help="host DUT input size (490: KWS, 30720: ACDNet)")
    parser.add_argument("--inferences", type=int, default=100)
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--rates", type=float, nargs="+", default=[1e-3, 1e-2])
    parser.add_argument("--directions", nargs="+", choices=DIRECTIONS, default=list(DIRECTIONS))
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per inference (watchdog)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--clean-each", action="store_true",
                        help="run the clean reference again right before each faulty row (a loaded, shared machine)")
    parser.add_argument("--boots", type=int, default=0, help="concurrent twin starts instead of the error table")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.0, help="pause a host DUT this long mid-load instead")
    parser.add_argument("--kill-trials", type=int, default=0, help="SIGKILL trials of `tinyhil bench` instead")
    parser.add_argument("--dead", action="store_true",
                        help="time the quarantine of a frozen twin against 2x its watchdog instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyhil-reliab-") as tmp:
        workdir = Path(tmp)
        if args.boots:
            concurrent_boots(args, workdir)
            return
        if args.pause:
            from reliability_watchdog import paused_twin  # noqa: PLC0415

            (paused_twin if args.dut == "twin" else paused_dut)(args, workdir)
            return
        if args.dead:
            from reliability_watchdog import dead_dut  # noqa: PLC0415

            dead_dut(args, workdir)
            return
        if args.kill_trials:
            kill_trials(args, workdir)
            return
        rig = HostRig(args.input_bytes, workdir) if args.dut == "host" else TwinRig(args.model, workdir)
        error_rate_table(rig, args)


if __name__ == "__main__":
    main()
