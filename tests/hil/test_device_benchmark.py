"""On-device counts recorded through pytest-benchmark (one round per inference, as device seconds),
so that nightly runs can use `--benchmark-autosave --benchmark-compare --benchmark-compare-fail=median:2%`."""

from __future__ import annotations

from harness.data.layouts import iter_samples
from harness.report.benchmark import record_counts


def test_clip_inference_counts(benchmark, tinyhil_dut, clips):
    """All crops of the first real clip, each bit-exact with TFLM; their counts become the benchmark's rounds."""
    (sample,) = iter_samples(clips, tinyhil_dut.input_tensor, limit=1)
    counts = [tinyhil_dut.check(x)[1] for x in sample.inputs]
    record_counts(benchmark, [c.value for c in counts], counts[0].unit, tinyhil_dut.board,
                  target=tinyhil_dut.target.kind.value, model=tinyhil_dut.compiled.path.name, clip=sample.id)
    info = benchmark.extra_info
    assert info["count_unit"] == tinyhil_dut.device_info["timer_unit"]
    assert info["counts"] == [c.value for c in counts]
    assert info["time_estimate"] == (counts[0].unit == "instructions")
    if benchmark.enabled:  # the statistics are device seconds: count x (CPI) / clock
        assert benchmark.stats.stats.rounds == len(counts)
        per_count = benchmark.stats.stats.min / min(c.value for c in counts)
        clock_s = 1 / tinyhil_dut.board.clock_hz
        cpi = tinyhil_dut.board.cpi.value if info["time_estimate"] else 1.0
        assert abs(per_count - cpi * clock_s) < 1e-6 * clock_s
