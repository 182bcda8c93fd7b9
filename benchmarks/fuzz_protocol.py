"""Protocol fuzzing, the long run of issue 13: libFuzzer with ASan/UBSan on the DUT's command parser and frame
receiver (targets/common, host build: targets/host/fuzz_protocol.c, `make -C targets/host fuzz`).

    python benchmarks/fuzz_protocol.py [--runs 1000000] [--seed 13] [--keep DIR]

Prints inputs executed, crashes (inputs libFuzzer saved as crash-/leak-/timeout- artifacts), sanitizer
reports (ASan, UBSan, libFuzzer deadly signals in the log), coverage, exec/s and wall time.  Target: 0 crashes,
0 sanitizer reports over 1,000,000 inputs.  Exit status 1 when the target is missed.  Needs clang with libFuzzer.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fuzz"))

from protocol_seeds import write_seeds  # noqa: E402
HOST = REPO / "targets" / "host"
REPORTS = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", type=Path, help="folder for the binary, corpus and any crash inputs (default: temp)")
    args = ap.parse_args()
    if shutil.which("clang") is None:
        print("clang not found: run scripts/setup.sh (installs clang with libFuzzer)", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="tinyhil-fuzz-protocol-"))
    work.mkdir(parents=True, exist_ok=True)
    write_seeds(work / "corpus")  # valid sessions (correct CRCs) to start from
    started = time.monotonic()
    proc = subprocess.run(["make", "-s", "-C", str(HOST), "fuzz", f"FUZZ_RUNS={args.runs}", f"FUZZ_SEED={args.seed}",
                           f"FUZZ_BIN={work / 'fuzz_protocol'}", f"FUZZ_CORPUS={work / 'corpus'}",
                           f"FUZZ_ARTIFACTS={work}/"], capture_output=True, text=True)
    wall = time.monotonic() - started
    log = proc.stdout + proc.stderr
    (work / "fuzz.log").write_text(log)
    stat = dict(re.findall(r"stat::(\w+):\s+(\d+)", log))
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    crashes = sorted(p.name for p in work.iterdir() if p.name.startswith(("crash-", "leak-", "timeout-", "oom-")))
    reports = len(REPORTS.findall(log))
    executed = int(stat.get("number_of_executed_units", 0))
    print(f"protocol fuzz: libFuzzer + ASan/UBSan, seed {args.seed}, {args.runs:,} inputs requested "
          f"(targets/common without main.c, host build)")
    print(f"  {'inputs executed':26s} {executed:>12,}")
    print(f"  {'crashes (saved inputs)':26s} {len(crashes):>12,}   target 0")
    print(f"  {'sanitizer reports':26s} {reports:>12,}   target 0")
    print(f"  {'coverage (edges, features)':26s} {(cov[-1][0] + ', ' + cov[-1][1]) if cov else '?':>12}")
    print(f"  {'corpus inputs':26s} {len(list((work / 'corpus').glob('*'))):>12,}")
    print(f"  {'exec/s':26s} {int(stat.get('average_exec_per_sec', 0)):>12,}")
    print(f"  {'wall time s':26s} {wall:>12.0f}")
    print(f"  log: {work / 'fuzz.log'}" + (f"; crash inputs: {', '.join(crashes)}" if crashes else ""))
    if proc.returncode != 0 and not crashes and not reports:
        print(log[-2000:], file=sys.stderr)  # a build failure, say
    missed = crashes or reports or proc.returncode != 0 or executed < args.runs
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
