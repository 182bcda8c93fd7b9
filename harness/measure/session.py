"""One measurement session of a model on a board or its twin: per-operator profile, whole-inference count,
peak stack, memory by component.

Two firmwares of the same model are built: the headline one (no hooks) and a ``TH_PROFILE_OPS`` one.  The
profile firmware gives the per-operator counts, the headline firmware the whole inference and the peak stack
(``stack%``), on the same input tensor.  Used by ``tinyhil profile`` and by the tests.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.boards import get_board
from harness.build import build_firmware
from harness.errors import CatalogError
from harness.measure.memory import ComponentUse, memory_components
from harness.measure.profile import Profile, build_profile
from harness.metrics import MemoryUse, memory_use
from harness.protocol.client import StackUse

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Session:
    """Results of :func:`measure_session`: the profile, the headline firmware's per-inference counts (two
    back-to-back inferences), its peak stack, its memory (sections and components) and the arena (bytes)."""

    profile: Profile
    whole_counts: tuple[int, ...]
    stack: StackUse
    memory: MemoryUse
    components: ComponentUse | None
    arena_bytes: int
    elf: Path


def demo_input(tensor, seed: int = 0) -> np.ndarray:
    """A deterministic input for ``tensor`` (shape, dtype): uniform over the int8 range (or N(0,1) floats)."""
    rng = np.random.default_rng(seed)
    if np.dtype(tensor.dtype).kind == "f":
        return rng.standard_normal(tensor.shape).astype(tensor.dtype)
    info = np.iinfo(tensor.dtype)
    return rng.integers(info.min, info.max + 1, size=tensor.shape).astype(tensor.dtype)


def measure_session(model: str | Path, board_name: str, *, emulate: bool, x: np.ndarray | None = None,
                    port: str | None = None, probe: str | None = None, catalog: Path | None = None,
                    build_root: Path = REPO / ".tinyhil" / "build", log_dir: Path | None = None) -> Session:
    """Build both firmwares, run them on the board (its twin when ``emulate``), return a :class:`Session`.

    Raises CatalogError (no twin), ModelError, BuildError/MemoryOverflowError, FlashError, TransportError,
    ProtocolError (e.g. the stack overflowed), MeasurementError (the profile does not add up)."""
    from harness.codegen.compiler import compile_model  # noqa: PLC0415
    from harness.dut import open_dut  # noqa: PLC0415

    board = get_board(board_name, catalog)
    if emulate and board.twin is None:
        raise CatalogError(f"{board.name} has no emulated twin; drop --emulate and attach the board")
    compiled = compile_model(model)
    model_dir = compiled.write(Path(build_root) / "models" / compiled.sha256[:16])
    headline = build_firmware(board, model_dir, twin=emulate, build_root=build_root)
    profiled = build_firmware(board, model_dir, twin=emulate, build_root=build_root, defines={"TH_PROFILE_OPS": None})
    x = demo_input(compiled.input_tensor) if x is None else x
    data = np.ascontiguousarray(x, dtype=compiled.input_tensor.dtype).tobytes()
    logs = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="tinyhil-profile-"))
    args = dict(emulate=emulate, port=port, probe=probe)
    with open_dut(board, profiled.elf, compiled.input_tensor, compiled.output_tensor,
                  run_dir=_mk(logs / "profile"), **args) as dut:
        dut.client.load_input(data)
        overhead = int(dut.client.profile()["timer_overhead"])
        ops = dut.client.profile_ops()
    with open_dut(board, headline.elf, compiled.input_tensor, compiled.output_tensor,
                  run_dir=_mk(logs / "headline"), **args) as dut:
        dut.client.load_input(data)
        laps = dut.client.infer(2, 0)
        stack = dut.client.stack()
    prof = build_profile(compiled, board, "twin" if emulate else "hardware", ops.unit, ops.counts, overhead,
                         laps.counts[0])
    return Session(prof, laps.counts, stack, memory_use(headline.elf), memory_components(headline.elf),
                   compiled.plan.arena_bytes, headline.elf)


def _mk(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d
