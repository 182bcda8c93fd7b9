"""The optimized requantization (th_requant.h: TFLite's SaturatingRoundingDoublingHighMul + RoundingDivideByPOT
folded into one 64-bit sum) equals the portable two-step form (th_math.h) bit for bit, on 2 million random and
edge accumulators, multipliers (0, 2^30, INT32_MAX, random significands) and shifts (-31..30)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.codegen.compiler import KERNELS_DIR

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("defines", [[], ["-DTH_REQUANT_SPLIT16"]], ids=["smlal", "armv6m_split16"])
def test_requant_fast_form_equals_tflite_two_step(tmp_path, defines):
    """The fast form (and its ARMv6-M form with 16x16 multiplies, TH_REQUANT_SPLIT16) equals TFLite's two steps."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    exe = tmp_path / "requant_check"
    subprocess.run([cc, "-O2", "-std=c99", "-Wall", "-Werror", "-fsanitize=undefined",
                    "-fno-sanitize-recover=undefined", *defines, f"-I{KERNELS_DIR}", str(HERE / "requant_check.c"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    proc = subprocess.run([str(exe), "2000000"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().startswith("0 mismatches"), proc.stdout
