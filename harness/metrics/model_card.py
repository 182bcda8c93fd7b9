"""Model card: parameters, MACs, operator counts, weight bytes, tensor-arena plan and peak, board fit.

``parameters`` counts every element of every constant tensor of the .tflite (weights, biases, and the small
shape/permutation operands of RESHAPE and TRANSPOSE), which is what TFLite's own analyzers count as the
model's constant data; ACDNet-20 (int8, fold 4) has 130,875 and 17,466,660 MACs (17.47 M).

Board fit is checked against each board's RAM and flash from ``boards.yaml`` with the firmware's fixed costs
(stack and heap reservations of harness/build.py, and runtime code/data measured on the twin builds); it
is a pre-build check, the linker remains the authority (``tinyhil bench`` refuses a model that does not link).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.boards import Board
from harness.build import DEFAULT_HEAP_BYTES, DEFAULT_STACK_BYTES

# Fixed costs of the tinyhil firmware besides the model (bytes), from the Cortex-M7 twin build of ACDNet-20
# (harness.metrics.memory components: kernels + runtime + startup + libc + alignment), rounded up.
RUNTIME_FLASH_BYTES = 16 * 1024
RUNTIME_RAM_BYTES = 1024
# TFLM's runtime in flash (interpreter, resolver, kernels; bytes): measured on the twins with the fixture models
# (raw_mini, DS-CNN, ACDNet-20: firmware flash less the flatbuffer, 77-81 KB reference, 110-121 KB CMSIS-NN),
# rounded up.  Their RAM besides the arena is within RUNTIME_RAM_BYTES.
TFLM_RUNTIME_FLASH_BYTES = {"tflm": 96 * 1024, "tflm-cmsis-nn": 128 * 1024}


@dataclass(frozen=True)
class Fit:
    """Whether a model fits a board with a deployment backend: bytes needed and available in RAM and flash."""

    board: str
    ram_needed: int
    ram_bytes: int
    flash_needed: int
    flash_bytes: int
    backend: str = "tinyhil"

    @property
    def fits(self) -> bool:
        return self.ram_needed <= self.ram_bytes and self.flash_needed <= self.flash_bytes


@dataclass(frozen=True)
class ModelCard:
    """What ``tinyhil inspect`` prints (sizes in bytes)."""

    name: str
    sha256: str
    parameters: int
    macs: int
    operators: dict[str, int]
    weight_bytes: int
    arena_bytes: int
    live_peak_bytes: int
    input: str
    output: str
    buffers: tuple
    fits: tuple[Fit, ...]

    def as_dict(self) -> dict:
        return {"model": self.name, "sha256": self.sha256, "parameters": self.parameters, "macs": self.macs,
                "operators": dict(self.operators), "weight_bytes": self.weight_bytes, "arena_bytes": self.arena_bytes,
                "live_peak_bytes": self.live_peak_bytes, "input": self.input, "output": self.output,
                "fits": {f.board: f.fits for f in self.fits}}


def fit(board: Board, arena_bytes: int, weight_bytes: int, backend: str = "tinyhil") -> Fit:
    """RAM = arena + stack + heap + runtime data; flash = constants (tinyhil: weights; TFLM: the whole
    flatbuffer) + the backend's runtime code (bytes)."""
    runtime = TFLM_RUNTIME_FLASH_BYTES.get(backend, RUNTIME_FLASH_BYTES)
    return Fit(board.name, arena_bytes + DEFAULT_STACK_BYTES + DEFAULT_HEAP_BYTES + RUNTIME_RAM_BYTES, board.ram_bytes,
               weight_bytes + runtime, board.flash_bytes, backend)


def model_card(path: str | Path, boards: dict[str, Board], backends: tuple[str, ...] = ("tinyhil",)) -> ModelCard:
    """Compile ``path`` (no firmware build) and describe it, with the board fit of each of ``backends``
    (TFLM's arena from its host interpreter, harness.backends.tflm_model).  Raises ModelError /
    UnsupportedOperatorError."""
    from harness.codegen.compiler import compile_model  # noqa: PLC0415

    c = compile_model(path)
    g = c.graph
    consts = [t for t in g.tensors if t.is_constant]

    def describe(t):
        return f"{t.dtype}[{'x'.join(str(d) for d in t.shape)}]"

    return ModelCard(
        name=Path(path).name, sha256=c.sha256, parameters=sum(t.size for t in consts), macs=c.macs,
        operators=dict(Counter(op.opcode for op in g.operators).most_common()), weight_bytes=c.weight_bytes,
        arena_bytes=c.plan.arena_bytes, live_peak_bytes=c.plan.live_peak_bytes(),
        input=describe(c.input_tensor), output=describe(c.output_tensor), buffers=c.plan.buffers,
        fits=tuple(_fit(c, b, backend) for backend in backends for b in boards.values()))


def _fit(compiled, board: Board, backend: str) -> Fit:
    if backend == "tinyhil":
        return fit(board, compiled.plan.arena_bytes, compiled.weight_bytes)
    from harness.backends.tflm_model import host_arena_bytes  # noqa: PLC0415

    raw = Path(compiled.path).read_bytes()
    return fit(board, host_arena_bytes(raw), len(raw), backend)
