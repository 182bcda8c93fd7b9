"""Latency under the MLPerf Tiny run rules, timed on the device.

The DUT times each inference itself (``infer N W%``: W untimed warm-ups, then N laps read from its timer
around ``th_model_invoke()`` only; input download and printing are outside, targets/PROTOCOL.md).  A
*window* is one ``infer N W``; its latency per inference is the sum of its N laps / N.  As in MLPerf Tiny
(EEMBC EnergyRunner performance mode) at least 5 windows are run and the **median** window is reported
with min and max.  On hardware each window is made at least ``window_s`` seconds long (default 10 s: N is
chosen from a probe inference); on a twin, whose instruction count is exact and repeatable, each window is
a fixed number of inferences.

Conversion to µs (the clock belongs to the board, ``boards.yaml``):

* ``cycles`` (hardware): ``us = cycles / clock_hz * 1e6`` — a measurement;
* ``instructions`` (twin): ``us_est = instructions * CPI / clock_hz * 1e6`` with the core's CPI from
  ``boards.yaml`` (``cpi.value``, ``cpi.source``) — an ESTIMATE, flagged ``estimate: true``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

from harness.boards import Board
from harness.metrics import MeasurementError
from harness.target import RunRules, Target

@dataclass(frozen=True)
class Conversion:
    """How counts become µs: ``us_per_count``, whether that is an ``estimate``, and a human-readable ``source``."""

    us_per_count: float
    estimate: bool
    source: str


def conversion(unit: str, board: Board) -> Conversion:
    """The count -> µs conversion for timer ``unit`` on ``board``.

    ``cycles``: 1e6 / clock_hz (measured).  ``instructions``: CPI * 1e6 / clock_hz (estimate; needs
    ``board.cpi``).  ``ns`` (host test port): 1e-3.  Raises MeasurementError otherwise."""
    mhz = board.clock_hz / 1e6
    if unit == "cycles":
        return Conversion(1.0 / mhz, False, f"cycles / {mhz:g} MHz (board cycle counter)")
    if unit == "instructions":
        if board.cpi is None:
            raise MeasurementError(f"{board.name} ({board.core}) has no cpi in boards.yaml, so a twin's instruction "
                                   "count cannot be turned into an estimated latency; add cpi: {value, source}")
        return Conversion(board.cpi.value / mhz, True,
                          f"ESTIMATE: instructions x CPI {board.cpi.value:g} / {mhz:g} MHz (CPI: {board.cpi.source})")
    if unit == "ns":
        return Conversion(1e-3, False, "host nanosecond clock")
    raise MeasurementError(f"timer unit {unit!r} cannot be converted to microseconds; the port must count "
                           "cycles (hardware) or instructions (twin)")


@dataclass(frozen=True)
class Window:
    """One ``infer N W`` window: N inferences, the sum of their laps, per-inference count and µs."""

    inferences: int
    total_count: int
    per_inference_count: float
    per_inference_us: float


@dataclass(frozen=True)
class LatencyResult:
    """Median/min/max per-inference latency (µs) over the windows; ``estimate`` for twins."""

    median: float
    min: float
    max: float
    estimate: bool
    source: str
    count_unit: str
    warmup: int
    windows: tuple[Window, ...]

    def as_dict(self) -> dict:
        """The summary.json ``latency`` record: unit "us", median, min, max, estimate, source + window detail."""
        return {"unit": "us", "median": round(self.median, 3), "min": round(self.min, 3), "max": round(self.max, 3),
                "estimate": self.estimate, "source": self.source, "count_unit": self.count_unit,
                "count_median": float(median(w.per_inference_count for w in self.windows)),
                "windows": len(self.windows), "inferences_per_window": self.windows[0].inferences,
                "warmup": self.warmup}


def summarize(windows: list[tuple[int, list[int]]], unit: str, board: Board, warmup: int) -> LatencyResult:
    """Windows given as (inferences, laps) -> LatencyResult.  Raises MeasurementError on an empty window."""
    conv = conversion(unit, board)
    out = []
    for n, laps in windows:
        if n < 1 or len(laps) != n:
            raise MeasurementError(f"latency window with {len(laps)} laps for {n} inferences; firmware bug")
        total = sum(laps)
        out.append(Window(n, total, total / n, total / n * conv.us_per_count))
    us = [w.per_inference_us for w in out]
    return LatencyResult(float(median(us)), min(us), max(us), conv.estimate, conv.source, unit, warmup, tuple(out))


def inferences_per_window(unit: str, probe_count: int, board: Board, rules: RunRules) -> int:
    """N for each window: ``twin_inferences`` when the timer counts instructions (exact and repeatable); else
    the smallest N whose window lasts at least ``window_s`` by the probe inference's count."""
    if unit == "instructions":
        return rules.twin_inferences
    seconds = probe_count * conversion(unit, board).us_per_count / 1e6
    return max(1, math.ceil(rules.window_s / max(seconds, 1e-9)))


def measure_latency(client, target: Target, reload=None) -> LatencyResult:
    """Run the latency windows of ``target.rules`` on a connected DUT (``client``: a DeviceClient with the
    input loaded).

    One probe ``infer 1 W`` sizes the windows (:func:`inferences_per_window`), then ``rules.windows``
    windows of ``infer N W``.  ``reload`` (optional callable) reloads the input tensor before the probe and each
    window: the tensor arena reuses the input's bytes once the first operator has read it (as TFLM's planner
    does), so every inference after the first of a window runs on a clobbered input; on ACDNet-20 that changes
    the instruction count by 0.03%.  Twins therefore reload and time one inference per window.  Raises
    MeasurementError (bad rules, unknown unit, no CPI), ProtocolError/TransportError from the DUT."""
    rules, board = target.rules.check(), target.board
    if reload:
        reload()
    probe = client.infer(1, rules.warmup)
    us_per_count = conversion(probe.unit, board).us_per_count
    n = inferences_per_window(probe.unit, probe.counts[0], board, rules)
    per_inference_s = max(probe.counts[0] * us_per_count / 1e6, 1.0)
    windows = []
    for _ in range(rules.windows):
        if reload:
            reload()
        laps = client.infer(n, rules.warmup, timeout=per_inference_s * 4 + 30)
        if laps.unit != probe.unit:
            raise MeasurementError(f"timer unit changed from {probe.unit} to {laps.unit} between windows; firmware bug")
        windows.append((n, list(laps.counts)))
    return summarize(windows, probe.unit, board, rules.warmup)
