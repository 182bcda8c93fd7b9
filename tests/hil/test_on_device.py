"""On-device tests: run unchanged on a twin (--emulate) and on the real board (--probe/--port).

Outputs are compared byte for byte with the TFLM host interpreter; counts are per model invocation, in
instructions on twins (exact, QEMU -icount) and in cycles on hardware.
"""

from __future__ import annotations

import numpy as np

from harness.data.layouts import iter_samples


def test_firmware_identifies_board_model_and_timer(dut, board, tinyhil_options):
    profile = dut.device_info
    assert profile["board"] == board.name
    assert profile["kind"] == dut.target.kind.value == ("twin" if tinyhil_options.emulate else "board")
    assert profile["timer_unit"] == ("instructions" if tinyhil_options.emulate else "cycles")
    assert profile["input_bytes"] == dut.input_tensor.nbytes and profile["output_bytes"] == dut.output_tensor.nbytes
    assert profile["arena_bytes"] == dut.firmware.arena_bytes  # the backend's own arena


def test_image_fits_the_real_boards_memory(dut, board):
    sizes = dut.firmware.image.sizes
    assert dut.firmware.image.board == board.name and dut.firmware.image.kind == dut.target.kind
    assert 0 < sizes["flash"] <= board.flash_bytes
    assert dut.compiled.plan.arena_bytes < sizes["ram"] <= board.ram_bytes


def test_real_clips_are_bit_exact_with_tflm(dut, clips):
    """The middle crop of two real ESC-50 recordings (all clips and crops run in `tinyhil bench`)."""
    samples = list(iter_samples(clips, dut.input_tensor, limit=2))
    assert len(samples) == 2
    for sample in samples:
        out, counts = dut.check(sample.inputs[len(sample.inputs) // 2])
        assert out.shape == tuple(dut.output_tensor.shape) and counts.value > 0


def test_extreme_inputs_are_bit_exact_with_tflm(dut):
    shape, dtype = tuple(dut.input_tensor.shape), dut.input_tensor.dtype
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    for x in (np.full(shape, info.min, dtype), np.full(shape, info.max, dtype),
              rng.integers(info.min, info.max + 1, shape, dtype=dtype)):
        dut.check(x)


def test_counts_are_repeatable_and_plausible(dut, tinyhil_options):
    x = np.random.default_rng(3).integers(-128, 128, tuple(dut.input_tensor.shape), dtype=np.int8)
    (out1, c1), (out2, c2) = dut.infer(x), dut.infer(x)
    assert np.array_equal(out1, out2)
    assert c1.unit == c2.unit == dut.device_info["timer_unit"]
    if tinyhil_options.emulate:
        assert c1.value == c2.value  # a twin counts instructions exactly
    else:
        assert abs(c1.value - c2.value) <= 0.02 * c1.value  # cycles: caches and bus contention vary a little
    macs = dut.compiled.macs
    per_mac = 160 if dut.firmware.backend.value == "tflm" else 40  # TFLM's reference kernels: ~70-120 per MAC
    assert macs / 4 < c1.value < per_mac * macs, f"{c1.value:,} {c1.unit} for {macs:,} MACs"


def test_state_does_not_leak_between_inferences(dut):
    rng = np.random.default_rng(11)
    a, b = (rng.integers(-128, 128, tuple(dut.input_tensor.shape), dtype=np.int8) for _ in range(2))
    first, _ = dut.infer(a)
    dut.infer(b)
    again, _ = dut.infer(a)
    assert np.array_equal(first, again)
