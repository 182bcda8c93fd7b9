"""Per-operator profile: type, shape, MACs, instructions (twin) or cycles (hardware), share, MACs per count.

The firmware built with ``TH_PROFILE_OPS`` reads the board timer around each kernel call
(targets/kernels/th_profile.h, ``profile-ops%``); every operator's delta includes one timer read, so the
``timer_overhead`` of ``profile%`` is subtracted.  The profile's operators must add up to the whole
inference of the headline firmware (built without the hooks) within ``tolerance`` (default 1%): a profile
that does not add up is refused, never shown.  On twins the per-operator latency column is an ESTIMATE
(instructions x CPI / clock) and is named ``latency_us_est``.

:func:`run_profile` is ``tinyhil profile``: two firmwares of the same model are built (the headline one without
hooks and a ``TH_PROFILE_OPS`` one); the profile firmware gives the per-operator counts, the headline firmware
the whole inference and the peak stack (``stack%``), on the same input tensor.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from harness.boards import Board
from harness.metrics import MeasurementError
from harness.metrics.latency import conversion
from harness.target import Target


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

    def save(self, out_dir: str | Path, backend: str = "tinyhil") -> tuple[Path, Path]:
        """Write ``profile.csv`` and ``profile.json`` into ``out_dir``; returns their paths. profile.json also
        names the deployment ``backend`` and the UTC date it was ``recorded`` (the history database keys a
        profile to its run by model, board, target and backend: :meth:`harness.history.RunStore.record_profile`)."""
        from datetime import datetime, timezone  # noqa: PLC0415

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "profile.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns())
            w.writerows(self.table())
        doc = {k: v for k, v in asdict(self).items() if k != "rows"}
        doc.update(backend=backend, recorded=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   total=self.total, deviation=self.deviation, columns=self.columns(),
                   operators=[dict(zip(self.columns(), row)) for row in self.table()])
        (out / "profile.json").write_text(json.dumps(doc, indent=2) + "\n")
        return out / "profile.csv", out / "profile.json"


def _rows_for(compiled, n_counts: int) -> tuple[list, list[int]]:
    """The operators a profile of ``n_counts`` rows is about, with their MACs: tinyhil's steps (a fused conv +
    pool is ONE row named "CONV_2D+MAX_POOL_2D", harness/codegen/fuse.py) or, for a TFLM firmware, the
    TFLite operators (a fused step's MACs go to its conv).  Raises MeasurementError for any other count."""
    steps = getattr(compiled, "steps", compiled.graph).operators
    if n_counts == len(steps):
        return list(steps), [c.macs for c in compiled.calls]
    ops = compiled.graph.operators
    if n_counts != len(ops):
        raise MeasurementError(f"profile has {n_counts} operators, {compiled.path.name} has {len(ops)} "
                               f"({len(steps)} kernel calls); the firmware was built for another model: rebuild")
    macs, k = [0] * len(ops), 0
    for step, call in zip(steps, compiled.calls):  # steps cover the TFLite operators in order
        macs[k] = call.macs
        k += len(step.options.get("fused", (step,)))
    return list(ops), macs


def build_profile(compiled, board: Board, target: str, unit: str, counts: tuple[int, ...], timer_overhead: int,
                  whole: int, tolerance: float = 0.01) -> Profile:
    """Combine the compiled model (opcodes, shapes, MACs) with per-operator ``counts`` from ``profile-ops%``.

    Raises MeasurementError when the operator count does not match the model or the operators do not sum to
    ``whole`` (the headline build's count of the same inference) within ``tolerance``."""
    ops, macs = _rows_for(compiled, len(counts))
    conv = conversion(unit, board)
    net = [max(c - timer_overhead, 0) for c in counts]
    total = sum(net) or 1
    rows = []
    for op, m, c in zip(ops, macs, net):
        shape = "x".join(str(d) for d in compiled.graph.output(op).shape)
        rows.append(OperatorRow(op.index, op.opcode, shape, m, c, c / total, m / c if c else 0.0,
                                c * conv.us_per_count))
    prof = Profile(compiled.path.name, board.name, target, unit, conv.estimate, conv.source, tuple(rows), whole,
                   timer_overhead)
    if abs(prof.deviation) > tolerance:
        raise MeasurementError(f"per-operator {unit} sum to {prof.total:,}, the whole inference is {whole:,} "
                               f"({100 * prof.deviation:+.2f}%, more than {100 * tolerance:g}%); the profile is not "
                               "trustworthy: check the timer port and rebuild both firmwares")
    return prof


@dataclass(frozen=True)
class ProfileRun:
    """Results of :func:`run_profile`: the profile, the headline firmware's per-inference counts (two
    back-to-back inferences), its peak stack, its memory (sections and components, bytes) and the arena
    (bytes)."""

    profile: Profile
    whole_counts: tuple[int, ...]
    stack: object  # harness.protocol.client.StackUse (bytes)
    memory: object  # harness.metrics.accuracy.MemoryUse
    components: object  # harness.metrics.memory.ComponentUse | None
    arena_bytes: int
    elf: Path


def demo_input(tensor, seed: int = 0) -> np.ndarray:
    """A deterministic input for ``tensor`` (shape, dtype): uniform over the int8 range (or N(0,1) floats)."""
    rng = np.random.default_rng(seed)
    if np.dtype(tensor.dtype).kind == "f":
        return rng.standard_normal(tensor.shape).astype(tensor.dtype)
    info = np.iinfo(tensor.dtype)
    return rng.integers(info.min, info.max + 1, size=tensor.shape).astype(tensor.dtype)


def run_profile(model: str | Path, target: Target, *, x: np.ndarray | None = None, build_root: Path | None = None,
                log_dir: Path | None = None, backend=None) -> ProfileRun:
    """Build both firmwares for ``target`` with ``backend`` (harness.backends.Backend, default tinyhil), run
    them, return a :class:`ProfileRun`.

    Raises ModelError, BuildError/MemoryOverflowError, FlashError, TransportError, ProtocolError (e.g. the
    stack overflowed), MeasurementError (the profile does not add up)."""
    import tempfile  # noqa: PLC0415

    from harness.metrics.memory import memory_components  # noqa: PLC0415
    from harness.metrics.memory import memory_use  # noqa: PLC0415
    from harness.orchestrate import BUILD_ROOT, BuildOptions, connect, prepare  # noqa: PLC0415

    from harness.backends import Backend  # noqa: PLC0415

    root, backend = build_root or BUILD_ROOT, backend or Backend.TINYHIL
    headline = prepare(model, target, BuildOptions(backend=backend), build_root=root)
    profiled = prepare(headline.compiled, target, BuildOptions(backend=backend, defines={"TH_PROFILE_OPS": None}),
                       build_root=root)
    compiled = headline.compiled
    x = demo_input(compiled.input_tensor) if x is None else x
    data = np.ascontiguousarray(x, dtype=compiled.input_tensor.dtype).tobytes()
    logs = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="tinyhil-profile-"))
    with connect(profiled, run_dir=logs / "profile") as dut:
        dut.client.load_input(data)
        overhead = int(dut.client.device_info()["timer_overhead"])
        ops = dut.client.profile_ops()
    with connect(headline, run_dir=logs / "headline") as dut:
        dut.client.load_input(data)
        laps = dut.client.infer(2, 0)
        stack = dut.client.stack()
    prof = build_profile(compiled, target.board, target.kind.value, ops.unit, ops.counts, overhead, laps.counts[0])
    return ProfileRun(prof, laps.counts, stack, memory_use(headline.elf), memory_components(headline.elf),
                      headline.arena_bytes, headline.elf)
