"""On-device numbers in pytest-benchmark, so that ``--benchmark-compare`` works across nights.

pytest-benchmark times a Python callable with a host clock. For a DUT the numbers that matter are the
device's own per-inference counts (exact instructions on a twin, cycles on hardware), so these helpers feed
those counts into the ``benchmark`` fixture as its rounds: one round per inference, **1 count = 1 ns** in
pytest-benchmark's tables and JSON (so "103.59 ms" reads as 103.59 M instructions). ``extra_info`` records
the unit, board, target, model, and the run's summary metrics (accuracy, memory, estimated latency flagged as
estimate), so the saved JSON is self-describing. Then, across nights::

    pytest --board stm32f746 --emulate --benchmark-autosave --benchmark-compare --benchmark-compare-fail=median:2%

Usage in a test (with the ``dut`` fixture of harness/pytest_plugin.py)::

    def test_acdnet_speed(benchmark, dut, clips):
        counts = [dut.check(x)[1] for x in clips]          # Counts(value, unit) per inference
        record_counts(benchmark, [c.value for c in counts], counts[0].unit, board=dut.board.name)

Implementation note: pytest-benchmark (4.x, 5.x) has no public hook for an external clock; the helper sets
the fixture's timer (``BenchmarkFixture._timer``) to a clock that advances by the recorded counts, and fails
with a clear error if a future pytest-benchmark drops that attribute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

NS_PER_COUNT = 1e-9  # seconds per count in pytest-benchmark's statistics


class _CountClock:
    """A clock for pytest-benchmark that advances by one recorded count per call of :meth:`tick`."""

    def __init__(self, counts: Sequence[int]) -> None:
        self._counts = list(counts)
        self._next = 0
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self._counts[self._next] * NS_PER_COUNT
        self._next += 1


def record_counts(benchmark: Any, counts: Sequence[int], unit: str, **info: Any) -> None:
    """Record per-inference device ``counts`` (ints, in ``unit``: "instructions" or "cycles") as the rounds of
    the pytest-benchmark fixture ``benchmark``; ``info`` (board, target, model, ...) goes into extra_info.
    Raises ValueError for no counts; RuntimeError when pytest-benchmark's fixture has changed shape."""
    if not counts:
        raise ValueError("no inference counts to record")
    if not hasattr(benchmark, "_timer"):
        raise RuntimeError("this pytest-benchmark has no BenchmarkFixture._timer; pin pytest-benchmark>=4,<6")
    clock = _CountClock(counts)
    benchmark._timer = clock
    benchmark.extra_info.update({"count_unit": unit, "stats_unit": f"1 ns = 1 {unit[:-1]} (device count)",
                                 "inferences": len(counts), **info})
    benchmark.pedantic(clock.tick, rounds=len(counts), iterations=1, warmup_rounds=0)


def record_run(benchmark: Any, run_dir: str | Path) -> None:
    """Record a finished run directory's per-inference counts (inferences.csv) with its summary metrics
    (accuracy, flash/RAM/arena bytes, bit-exactness, latency/energy with their estimate flags; None when not
    measured) in extra_info. Raises ResultsError for a directory that is not a complete run, or without counts
    or their unit."""
    from harness.errors import ResultsError
    from harness.rundir import Memory, read_run

    run = read_run(run_dir)
    s, mem = run.summary, run.summary.memory or Memory()
    counts = [r.count for r in run.inferences or () if r.count is not None]
    if not counts:
        raise ResultsError(f"{run_dir}/inferences.csv has no per-inference counts; rerun `tinyhil bench`")
    info = {"run_id": run.run_id, "board": run.board, "target": run.target, "model": run.model,
            "variant": run.variant.name, "accuracy": s.accuracy, "bit_exact": s.bit_exact,
            "flash_bytes": mem.flash_bytes, "ram_bytes": mem.ram_bytes, "arena_bytes": s.arena_bytes,
            "latency": s.latency.model_dump(mode="json") if s.latency else None,
            "energy": s.energy.model_dump(mode="json") if s.energy else None}
    unit = run.inferences[0].count_unit or (s.counts.unit if s.counts else None)
    if unit is None:
        raise ResultsError(f"{run_dir} does not say what its counts count (no count_unit); rerun `tinyhil bench`")
    record_counts(benchmark, counts, unit, **info)
