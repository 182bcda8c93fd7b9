"""Per-operator profile: type, shape, MACs, instructions (twin) or cycles (hardware), share, MACs per count.

The firmware built with ``TH_PROFILE_OPS`` reads the board timer around each kernel call
(targets/kernels/th_profile.h, ``profile-ops%``); every operator's delta includes one timer read, so the
``timer_overhead`` of ``profile%`` is subtracted.  The profile's operators must add up to the whole
inference of the headline firmware (built without the hooks) within ``tolerance`` (default 1%): a profile
that does not add up is refused, never shown.  On twins the per-operator latency column is an ESTIMATE
(instructions x CPI / clock) and is named ``latency_us_est``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.boards import Board
from harness.measure import MeasurementError
from harness.measure.latency import conversion


@dataclass(frozen=True)
class OperatorRow:
    """One operator: index, TFLite opcode, output shape, MACs, count (unit of the profile, timer read removed),
    share of the operators' total (0..1), MACs per count, and µs (an estimate on twins)."""

    index: int
    operator: str
    shape: str
    macs: int
    count: int
    share: float
    macs_per_count: float
    us: float


@dataclass(frozen=True)
class Profile:
    """A model's per-operator profile on one board. ``unit``: instructions | cycles; ``whole``: the headline
    firmware's count for the same inference; ``estimate``: µs figures are estimates (twin)."""

    model: str
    board: str
    target: str
    unit: str
    estimate: bool
    source: str
    rows: tuple[OperatorRow, ...]
    whole: int
    timer_overhead: int

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rows)

    @property
    def deviation(self) -> float:
        """(sum of operators - whole inference) / whole inference."""
        return (self.total - self.whole) / self.whole

    def columns(self) -> list[str]:
        """Column names as saved: the count column is named by its unit, the µs column ends in _est on twins."""
        return ["index", "operator", "shape", "macs", self.unit, "share_pct", f"macs_per_{self.unit[:-1]}",
                "latency_us_est" if self.estimate else "latency_us"]

    def table(self) -> list[list]:
        return [[r.index, r.operator, r.shape, r.macs, r.count, round(100 * r.share, 3), round(r.macs_per_count, 4),
                 round(r.us, 3)] for r in self.rows]

    def top(self, k: int = 5) -> list[OperatorRow]:
        return sorted(self.rows, key=lambda r: -r.count)[:k]

    def save(self, out_dir: str | Path) -> tuple[Path, Path]:
        """Write ``profile.csv`` and ``profile.json`` into ``out_dir``; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "profile.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns())
            w.writerows(self.table())
        doc = {k: v for k, v in asdict(self).items() if k != "rows"}
        doc.update(total=self.total, deviation=self.deviation, columns=self.columns(),
                   operators=[dict(zip(self.columns(), row)) for row in self.table()])
        (out / "profile.json").write_text(json.dumps(doc, indent=2) + "\n")
        return out / "profile.csv", out / "profile.json"


def build_profile(compiled, board: Board, target: str, unit: str, counts: tuple[int, ...], timer_overhead: int,
                  whole: int, tolerance: float = 0.01) -> Profile:
    """Combine the compiled model (opcodes, shapes, MACs) with per-operator ``counts`` from ``profile-ops%``.

    Raises MeasurementError when the operator count does not match the model or the operators do not sum to
    ``whole`` (the headline build's count of the same inference) within ``tolerance``."""
    ops = compiled.graph.operators
    if len(counts) != len(ops):
        raise MeasurementError(f"profile has {len(counts)} operators, {compiled.path.name} has {len(ops)}; "
                               "the firmware was built for another model: rebuild")
    conv = conversion(unit, board)
    net = [max(c - timer_overhead, 0) for c in counts]
    total = sum(net) or 1
    rows = []
    for op, call, c in zip(ops, compiled.calls, net):
        shape = "x".join(str(d) for d in compiled.graph.output(op).shape)
        rows.append(OperatorRow(op.index, op.opcode, shape, call.macs, c, c / total, call.macs / c if c else 0.0,
                                c * conv.us_per_count))
    prof = Profile(compiled.path.name, board.name, target, unit, conv.estimate, conv.source, tuple(rows), whole,
                   timer_overhead)
    if abs(prof.deviation) > tolerance:
        raise MeasurementError(f"per-operator {unit} sum to {prof.total:,}, the whole inference is {whole:,} "
                               f"({100 * prof.deviation:+.2f}%, more than {100 * tolerance:g}%); the profile is not "
                               "trustworthy: check the timer port and rebuild both firmwares")
    return prof
