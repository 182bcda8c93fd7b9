"""The ARMv6-M kernel paths on the rp2040 (Cortex-M0+) twin: the Thumb-1 assembly inner loops
(targets/kernels/th_dot_1x4_m0_s8.S, th_dot_4x1_m0_s8.S) and the 16x16-multiply requantization, byte-compared
with the portable C reference kernels (th_conv2d_s8, th_fully_connected_s8) run on the host.

One twin run checks a two-operator graph built for the awkward corners of the assembly: a 3x3 SAME conv with
5 input channels (K = 45: the four-at-a-time loop plus a one-value tail), 25 output pixels (groups of four plus
a lone pixel), a left-shifting multiplier on some channels, then a FULLY_CONNECTED over the conv output's
25 rows x 7 values into 7 outputs (four rows through the assembly, three left over).  The host builds of the
same C twins are checked on many more shapes by tests/kernels/test_variants.py (TH_FORCE_NO_DSP cases)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from harness.boards import get_board
from harness.codegen import ops
from harness.codegen.compiler import CompiledModel
from harness.codegen.emitter import emit_model
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.host import HostModel
from harness.codegen.planner import plan_arena
from harness.orchestrate import BuildOptions, connect, prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernels"))
from test_variants import REFERENCES, conv_graph  # noqa: E402

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(1200)]


def _conv_fc_graph() -> Graph:
    """CONV_2D (1,5,5,5) -> (1,5,5,7), then FULLY_CONNECTED with accum_depth 7: 25 rows -> (25, 7)."""
    rng = np.random.default_rng(11)
    conv = conv_graph(rng, "CONV_2D", (5, 5, 5), 7, act="RELU6", ratio=3.7)
    x, w, b, y = conv.tensors
    fc_w = rng.integers(-127, 128, (7, 7)).astype(np.int8)
    fc_scale = tuple(float(s) for s in rng.uniform(0.5, 2.0, 7) * 0.01)
    z_scale = y.quant.scale[0] * max(fc_scale) / 0.003
    tensors = (x, w, b, y,
               Tensor(4, "fc_w", (7, 7), "int8", QuantParams(fc_scale, (0,) * 7, 0), fc_w),
               Tensor(5, "fc_b", (7,), "int32", None, rng.integers(-5000, 5000, 7).astype(np.int32)),
               Tensor(6, "z", (25, 7), "int8", QuantParams((z_scale,), (3,), 0)))
    fc = Operator(1, "FULLY_CONNECTED", (3, 4, 5), (6,), {"fused_activation_function": "NONE"})
    return Graph(tensors, (conv.operators[0], fc), (0,), (6,))


def _compiled(graph: Graph, reference: bool, name: str) -> CompiledModel:
    calls = [ops.lower(op, graph) for op in graph.operators]
    if reference:
        calls = [c.__class__(**{**c.__dict__, "function": REFERENCES[c.function][0],
                                "scratch_bytes": REFERENCES[c.function][1](c.params)}) for c in calls]
    plan = plan_arena(graph, {i: c.scratch_bytes for i, c in enumerate(calls) if c.scratch_bytes})
    sources = emit_model(graph, plan, calls, name)
    digest = hashlib.sha256(repr((name, [(c.function, sorted(map(str, c.params.items()))) for c in calls])).encode())
    return CompiledModel(Path(name), digest.hexdigest(), graph, tuple(calls), plan, sources)


def test_armv6m_assembly_paths_are_bit_exact_on_the_rp2040_twin(tmp_path):
    graph = _conv_fc_graph()
    compiled = _compiled(graph, False, "m0_conv_fc")
    assert [c.function for c in compiled.calls] == ["th_conv2d_im2col_s8", "th_fully_connected_x4_s8"]
    reference = HostModel(_compiled(graph, True, "m0_conv_fc_ref"))
    firmware = prepare(compiled, get_board("rp2040").target(True), BuildOptions())
    with open(firmware.image.elf, "rb") as fh:  # the assembly, not the C twins, is linked
        symbols = ELFFile(fh).get_section_by_name(".symtab")
        sizes = {s.name: s["st_size"] for s in symbols.iter_symbols() if s.name.startswith("th_dot_")}
    assert sizes.get("th_dot_1x4_m0_s8", 0) > 0 and sizes.get("th_dot_4x1_m0_s8", 0) > 0, sizes
    rng = np.random.default_rng(3)
    with connect(firmware, run_dir=tmp_path) as dut:
        for trial in range(3):
            x = rng.integers(-128, 128, (1, 5, 5, 5), dtype=np.int8)
            out, _count = dut.infer(x)
            want = reference.run(x)
            diff = np.flatnonzero(out.reshape(-1) != want.reshape(-1))
            assert diff.size == 0, f"trial {trial}: {diff.size} of {out.size} values differ, first at {diff[0]}"
            assert len(np.unique(want)) > 8  # not a saturated, near-constant output
