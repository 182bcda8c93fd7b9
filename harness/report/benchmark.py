"""On-device numbers in pytest-benchmark, so that ``--benchmark-compare`` works across nights.

pytest-benchmark times a Python callable with a host clock and prints seconds.  For a DUT the numbers that
matter are the device's own per-inference counts (exact instructions on a twin, cycles on hardware).  These
helpers turn each count into the **device time of that inference** with the board's clock, the same
conversion as ``bench`` (harness.metrics.latency.conversion: ``cycles / clock_hz`` on hardware, a measurement;
``instructions x CPI / clock_hz`` on a twin, an ESTIMATE) and feed those times to the ``benchmark`` fixture as
its rounds: one round per inference, so pytest-benchmark's "time" columns are device time in its own units.
``extra_info`` records the raw counts with their unit (``count_unit``, ``counts``), whether the time is an
estimate and how it was computed (``time_source``), plus board, target, model and the run's summary metrics,
so the saved JSON is self-describing and the exact counts are never lost.  Then, across nights::

    pytest --board stm32f746 --tinyhil-emulate --benchmark-autosave --benchmark-compare \
           --benchmark-compare-fail=median:2%

(on one board the conversion is a constant factor, so a 2 % change of the median time is a 2 % change of the
median count).  Usage in a test (with the ``tinyhil_dut`` fixture of harness/pytest_plugin.py)::

    def test_acdnet_speed(benchmark, tinyhil_dut, clips):
        counts = [tinyhil_dut.check(x)[1] for x in clips]          # Counts(value, unit) per inference
        record_counts(benchmark, [c.value for c in counts], counts[0].unit, tinyhil_dut.board)

Implementation note: pytest-benchmark (4.x, 5.x) has no public hook for an external clock; the helper sets
the fixture's timer (``BenchmarkFixture._timer``) to a clock that advances by the recorded device times, and
fails with a clear error if a future pytest-benchmark drops that attribute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


class _DeviceClock:
    """A clock for pytest-benchmark that advances by one recorded device time (s) per call of :meth:`tick`."""

    def __init__(self, seconds: Sequence[float]) -> None:
        self._seconds = list(seconds)
        self._next = 0
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self._seconds[self._next]
        self._next += 1


def record_counts(benchmark: Any, counts: Sequence[int], unit: str, board: Any, **info: Any) -> None:
    """Record per-inference device ``counts`` (ints, in ``unit``: "instructions" or "cycles") on ``board``
    (harness.boards.Board: its clock and CPI convert counts to seconds) as the rounds of the pytest-benchmark
    fixture ``benchmark``; ``info`` (target, model, ...) goes into extra_info with the raw counts.
    Raises ValueError for no counts; MeasurementError when the unit cannot be converted (no CPI for a twin);
    RuntimeError when pytest-benchmark's fixture has changed shape."""
    from harness.metrics.latency import conversion  # noqa: PLC0415

    if not counts:
        raise ValueError("no inference counts to record")
    if not hasattr(benchmark, "_timer"):
        raise RuntimeError("this pytest-benchmark has no BenchmarkFixture._timer; pin pytest-benchmark>=4,<6")
    conv = conversion(unit, board)
    clock = _DeviceClock([c * conv.us_per_count * 1e-6 for c in counts])
    benchmark._timer = clock
    benchmark.extra_info.update({"count_unit": unit, "counts": [int(c) for c in counts], "board": board.name,
                                 "time_source": conv.source, "time_estimate": conv.estimate,
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
    info = {"run_id": run.run_id, "target": run.target, "model": run.model,
            "variant": run.variant.name, "accuracy": s.accuracy, "bit_exact": s.bit_exact,
            "flash_bytes": mem.flash_bytes, "ram_bytes": mem.ram_bytes, "arena_bytes": s.arena_bytes,
            "latency": s.latency.model_dump(mode="json") if s.latency else None,
            "energy": s.energy.model_dump(mode="json") if s.energy else None}
    unit = run.inferences[0].count_unit or (s.counts.unit if s.counts else None)
    if unit is None:
        raise ResultsError(f"{run_dir} does not say what its counts count (no count_unit); rerun `tinyhil bench`")
    from harness.boards import get_board  # noqa: PLC0415

    record_counts(benchmark, counts, unit, get_board(run.board), **info)
