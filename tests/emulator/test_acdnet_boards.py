"""ACDNet-20 on the small boards, and the loaded input surviving any number of inferences (issue 11 memory,
issue 12 item 3).

With conv + pool fusion ACDNet-20's arena is under 100 KB, so it runs on the RP2040 twin (264 KB of RAM): one
firmware, a real clip's crop and a random input, each output byte-compared with the TFLM host interpreter.
`infer 10 5` on one load must give the single inference's output and ten equal counts, with tinyhil's code
(the planner keeps the input alive) and with both TFLM backends (their seam restores the input before each
inference, untimed), here on the small raw-waveform fixture to keep the TFLM runs short.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.backends import Backend
from harness.boards import get_board
from harness.data.layouts import iter_samples
from harness.orchestrate import BuildOptions, connect, prepare
from harness.reference.tflm import ReferenceInterpreter
from tests.conftest import require_shared, shared_path, shared_root

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(3600)]

ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
CLIPS = shared_path("audio", "esc50-cc0")
RAW_MINI = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "raw_mini_int8.tflite"


def check_repeated_inference(dut, x: np.ndarray, want: bytes, n: int, warmup: int) -> int:
    """One load of x, `infer 1 0`, then `infer n warmup` on the same load: every output equals ``want`` and
    every count equals the first.  Returns the count."""
    out, counts = dut.infer(x)
    assert out.tobytes() == want
    laps = dut.client.infer(n, warmup)
    assert dut.client.results() == want
    assert set(laps.counts) == {counts.value}, f"counts within one call differ: {laps.counts}"
    return counts.value


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite", "audio/esc50-cc0")
def test_acdnet20_runs_bit_exact_on_the_rp2040_twin(tmp_path):
    firmware = prepare(ACDNET, get_board("rp2040").target(True))
    assert firmware.arena_bytes < 100_000 and firmware.image.sizes["ram"] <= get_board("rp2040").ram_bytes
    ref = ReferenceInterpreter(ACDNET)
    crop = next(iter(iter_samples(CLIPS, firmware.compiled.input_tensor))).inputs[0]
    noise = np.random.default_rng(11).integers(-128, 128, crop.shape, dtype=np.int8)
    with connect(firmware, run_dir=tmp_path) as dut:
        count = check_repeated_inference(dut, crop, ref.run(crop).tobytes(), n=2, warmup=1)
        out, _ = dut.check(noise)
    assert out.tobytes() == ref.run(noise).tobytes()
    print(f"\nACDNet-20 on the rp2040 twin: {count:,} instructions, arena {firmware.arena_bytes:,} B, "
          f"RAM {firmware.image.sizes['ram']:,} B of {get_board('rp2040').ram_bytes:,}")


@pytest.mark.parametrize("stack", list(Backend), ids=[b.value for b in Backend])
def test_infer_n_w_reuses_the_loaded_input(stack, tmp_path):
    if stack is not Backend.TINYHIL:
        require_shared("third_party/tflm/tflm-cmsis-nn")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYHIL_LOCAL_DIR", str(shared_root()))
        firmware = prepare(RAW_MINI, get_board("stm32f746").target(True), BuildOptions(backend=stack))
    x = np.random.default_rng(4).integers(-128, 128, firmware.compiled.input_tensor.shape, dtype=np.int8)
    with connect(firmware, run_dir=tmp_path) as dut:
        check_repeated_inference(dut, x, ReferenceInterpreter(RAW_MINI).run(x).tobytes(), n=10, warmup=5)
