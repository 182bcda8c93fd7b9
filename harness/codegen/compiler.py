"""The model compiler's front door: .tflite -> graph -> kernel calls -> arena plan -> C sources on disk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.codegen import fuse
from harness.codegen.emitter import ModelSources, emit_model
from harness.codegen.graph import Graph
from harness.codegen.kernel import KernelCall
from harness.codegen.planner import ArenaPlan, check_plan, plan_arena
from harness.codegen.reader import read_tflite
from harness.errors import ModelError

KERNELS_DIR = Path(__file__).resolve().parents[2] / "targets" / "kernels"


@dataclass(frozen=True)
class CompiledModel:
    """A compiled model: its graph, one kernel call per operator, the arena plan and the C sources.

    ``sha256`` is the .tflite file's hash; ``macs`` the multiply-accumulates of one inference;
    ``weight_bytes`` the bytes of all constant tensors (they go to flash).
    """

    path: Path
    sha256: str
    graph: Graph
    calls: tuple[KernelCall, ...]
    plan: ArenaPlan
    sources: ModelSources
    schedule: Graph | None = None

    @property
    def steps(self) -> Graph:
        """The graph of kernel calls the firmware runs (``calls[i]`` is step i): ``graph`` with fused pairs as
        one operator each (harness/codegen/fuse.py); the arena plan's operator indices are step indices."""
        return self.schedule if self.schedule is not None else self.graph

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.calls)

    @property
    def weight_bytes(self) -> int:
        return sum(t.nbytes for t in self.graph.tensors if t.is_constant)

    @property
    def input_tensor(self):
        return self.graph.tensors[self.graph.inputs[0]]

    @property
    def output_tensor(self):
        return self.graph.tensors[self.graph.outputs[0]]

    def write(self, out_dir: str | Path) -> Path:
        """Write model.h and model.c into ``out_dir`` (created); returns the directory."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in (("model.h", self.sources.header), ("model.c", self.sources.source)):
            target = out / name
            if not target.exists() or target.read_text() != text:  # keep mtimes for build caching
                target.write_text(text)
        return out


def compile_model(path: str | Path, name: str | None = None, *, fusion: bool = True) -> CompiledModel:
    """Compile a .tflite file to C.

    The input tensor stays alive (unshared) for the whole inference.  ``fusion`` (default) fuses conv +
    MAX_POOL_2D pairs and shares bytes in place (RESHAPE, element-wise ops); ``fusion=False`` runs every
    operator as its own kernel call with its own buffers (the reference for tests).  Every plan is proven
    by planner.check_plan (PlanError otherwise).

    Raises ModelError (unreadable or corrupt file, not one input and one output) and
    UnsupportedOperatorError (an operator, dtype or option without a kernel, naming its position).
    """
    path = Path(path)
    graph = read_tflite(path)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ModelError(
            f"{path.name} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
            "tinyhil compiles models with one input and one output tensor"
        )
    if not graph.operators:
        raise ModelError(f"{path.name} has no operators; export a model with at least one operator")
    steps = fuse.schedule(graph) if fusion else graph
    calls = tuple(fuse.lower(op, steps) for op in steps.operators)
    scratch = {i: c.scratch_bytes for i, c in enumerate(calls) if c.scratch_bytes}
    plan = plan_arena(steps, scratch, keep_inputs=True, share=fuse.in_place(steps) if fusion else None)
    check_plan(plan, steps, scratch, keep_inputs=True)
    sources = emit_model(steps, plan, list(calls), name or path.name)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return CompiledModel(path, sha, graph, calls, plan, sources, steps)
