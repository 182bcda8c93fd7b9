"""On-device tests: run unchanged on a twin (--tinyhil-emulate) and on the real board (--tinyhil-probe/-port).

Outputs are compared byte for byte with the TFLM host interpreter; counts are per model invocation, in
instructions on twins (exact, QEMU -icount) and in cycles on hardware.
"""

from __future__ import annotations

import numpy as np

from harness.data.layouts import iter_samples


def test_firmware_identifies_board_model_and_timer(tinyhil_dut, tinyhil_board, tinyhil_options):
    profile = tinyhil_dut.device_info
    assert profile["board"] == tinyhil_board.name
    assert profile["kind"] == tinyhil_dut.target.kind.value == ("twin" if tinyhil_options.emulate else "board")
    assert profile["timer_unit"] == ("instructions" if tinyhil_options.emulate else "cycles")
    assert profile["input_bytes"] == tinyhil_dut.input_tensor.nbytes
    assert profile["output_bytes"] == tinyhil_dut.output_tensor.nbytes
    assert profile["arena_bytes"] == tinyhil_dut.firmware.arena_bytes  # the backend's own arena


def test_image_fits_the_real_boards_memory(tinyhil_dut, tinyhil_board):
    sizes = tinyhil_dut.firmware.image.sizes
    image = tinyhil_dut.firmware.image
    assert image.board == tinyhil_board.name and image.kind == tinyhil_dut.target.kind
    assert 0 < sizes["flash"] <= tinyhil_board.flash_bytes
    assert tinyhil_dut.compiled.plan.arena_bytes < sizes["ram"] <= tinyhil_board.ram_bytes


def test_real_clips_are_bit_exact_with_tflm(tinyhil_dut, clips):
    """The middle crop of two real ESC-50 recordings (all clips and crops run in `tinyhil bench`)."""
    samples = list(iter_samples(clips, tinyhil_dut.input_tensor, limit=2))
    assert len(samples) == 2
    for sample in samples:
        out, counts = tinyhil_dut.check(sample.inputs[len(sample.inputs) // 2])
        assert out.shape == tuple(tinyhil_dut.output_tensor.shape) and counts.value > 0


def test_extreme_inputs_are_bit_exact_with_tflm(tinyhil_dut):
    shape, dtype = tuple(tinyhil_dut.input_tensor.shape), tinyhil_dut.input_tensor.dtype
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    for x in (np.full(shape, info.min, dtype), np.full(shape, info.max, dtype),
              rng.integers(info.min, info.max + 1, shape, dtype=dtype)):
        tinyhil_dut.check(x)


def test_counts_are_repeatable_and_plausible(tinyhil_dut, tinyhil_options):
    x = np.random.default_rng(3).integers(-128, 128, tuple(tinyhil_dut.input_tensor.shape), dtype=np.int8)
    (out1, c1), (out2, c2) = tinyhil_dut.infer(x), tinyhil_dut.infer(x)
    assert np.array_equal(out1, out2)
    assert c1.unit == c2.unit == tinyhil_dut.device_info["timer_unit"]
    if tinyhil_options.emulate:
        assert c1.value == c2.value  # a twin counts instructions exactly
    else:
        assert abs(c1.value - c2.value) <= 0.02 * c1.value  # cycles: caches and bus contention vary a little
    macs = tinyhil_dut.compiled.macs
    per_mac = 160 if tinyhil_dut.firmware.backend.value == "tflm" else 40  # TFLM's reference kernels: ~70-120 per MAC
    assert macs / 4 < c1.value < per_mac * macs, f"{c1.value:,} {c1.unit} for {macs:,} MACs"


def test_state_does_not_leak_between_inferences(tinyhil_dut):
    rng = np.random.default_rng(11)
    a, b = (rng.integers(-128, 128, tuple(tinyhil_dut.input_tensor.shape), dtype=np.int8) for _ in range(2))
    first, _ = tinyhil_dut.infer(a)
    tinyhil_dut.infer(b)
    again, _ = tinyhil_dut.infer(a)
    assert np.array_equal(first, again)
