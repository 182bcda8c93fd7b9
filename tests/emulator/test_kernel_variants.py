"""tinyhil's optimized kernel variants on the M7, M4 and M0+ twins: kernels_mixed_int8.tflite (im2col conv with
partial windows and odd channels, depthwise 4-channel path with a left-over channel, 4-channel max pool,
pointwise conv, depthwise with depth multiplier 2, 4-row fully connected with 2 left-over rows, softmax) built
for each twin and byte-compared with the host TFLM interpreter on several random inputs.  The M7 and M4 run
the SXTB16/SMLAD/SSUB8 paths, the M0+ (ARMv6-M) the plain C paths of the same variants (th_simd.h)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.orchestrate import BuildOptions, connect, prepare

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(1800)]

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "kernels_mixed_int8.tflite"


@pytest.mark.parametrize("twin", ["stm32f746", "nrf52840", "rp2040"])
def test_kernel_variants_are_bit_exact_on_every_core(twin, tmp_path):
    # unfused: each variant is its own step (with conv + max-pool fusion the pool variant would not run at all;
    # fused steps are checked on the twins by tests/emulator/test_acdnet_boards.py)
    firmware = prepare(compile_model(MODEL, fusion=False), get_board(twin).target(True), BuildOptions())
    functions = {c.function for c in firmware.compiled.calls}
    assert {"th_conv2d_im2col_pair_s8", "th_depthwise_conv2d_ch4_s8", "th_max_pool2d_ch4_s8",
            "th_fully_connected_x4_s8"} <= functions
    rng = np.random.default_rng(5)
    shape = tuple(firmware.compiled.input_tensor.shape)
    with connect(firmware, run_dir=tmp_path) as dut:
        for _ in range(4):
            x = rng.integers(-128, 128, shape, dtype=np.int8)
            out, _count = dut.infer(x)
            expected = dut.reference(x)
            assert np.array_equal(out, expected), f"{twin}: {out.reshape(-1)} != tflm {expected.reshape(-1)}"
