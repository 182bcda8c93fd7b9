"""On-device counts recorded through pytest-benchmark (one round per inference, 1 ns = 1 instruction/cycle),
so that nightly runs can use `--benchmark-autosave --benchmark-compare --benchmark-compare-fail=median:2%`."""

from __future__ import annotations

from harness.data.layouts import iter_samples
from harness.report.benchmark import record_counts


def test_clip_inference_counts(benchmark, dut, clips):
    """All crops of the first real clip, each bit-exact with TFLM; their counts become the benchmark's rounds."""
    (sample,) = iter_samples(clips, dut.input_tensor, limit=1)
    counts = [dut.check(x)[1] for x in sample.inputs]
    record_counts(benchmark, [c.value for c in counts], counts[0].unit, board=dut.board.name,
                  target=dut.target.kind.value, model=dut.compiled.path.name, clip=sample.id)
    assert benchmark.extra_info["count_unit"] == dut.device_info["timer_unit"]
    if benchmark.enabled:
        assert benchmark.stats.stats.rounds == len(counts)
        assert round(benchmark.stats.stats.min * 1e9) == min(c.value for c in counts)
