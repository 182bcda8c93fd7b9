"""libFuzzer + ASan/UBSan on the DUT's command parser and frame receiver, host build (targets/host, make fuzz):
a bounded, seeded run finds no crash and no sanitizer report; a planted overflow (TH_FUZZ_CANARY) is reported,
so the check can fail.  The long run: benchmarks/fuzz_protocol.py (1,000,000 inputs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from protocol_seeds import write_seeds

HOST = Path(__file__).resolve().parents[2] / "targets" / "host"
RUNS = 50_000  # a few seconds with the sanitizers (the model is bounded, see fuzz_protocol.c)
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: libFuzzer", "runtime error:", "ERROR: UndefinedBehavior",
                     "SUMMARY: ")

pytestmark = pytest.mark.skipif(shutil.which("clang") is None,
                                reason="needs clang with libFuzzer (scripts/setup.sh installs it)")


def _make(tmp_path: Path, *extra: str, runs: int = RUNS) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(HOST), "fuzz", f"FUZZ_RUNS={runs}", "FUZZ_SEED=13",
                           f"FUZZ_BIN={tmp_path / 'fuzz_protocol'}", f"FUZZ_CORPUS={tmp_path / 'corpus'}",
                           f"FUZZ_ARTIFACTS={tmp_path}/crash-", *extra],
                          capture_output=True, text=True, timeout=600)


def test_bounded_protocol_fuzz_finds_no_crash_or_sanitizer_report(tmp_path):
    write_seeds(tmp_path / "corpus")
    proc = _make(tmp_path)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert f"Done {RUNS} runs" in log, log[-2000:]
    assert not [m for m in SANITIZER_MARKERS if m in log], log[-3000:]
    assert int(log.split("stat::number_of_executed_units:")[1].split()[0]) >= RUNS


def test_a_planted_overflow_is_reported(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "seed").write_bytes(b"canary!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")
    proc = _make(tmp_path, "FUZZ_DEFINES=-DTH_FUZZ_CANARY", runs=1000)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Sanitizer" in log and "fuzz_protocol.c" in log, log[-3000:]
    assert list(tmp_path.glob("crash-*"))  # the crashing input is kept for reproduction
