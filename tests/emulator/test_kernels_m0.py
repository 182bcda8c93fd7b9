"""The ARMv6-M kernel paths on the rp2040 (Cortex-M0+) twin: the Thumb-1 assembly inner loops
(targets/kernels/th_dot_1x4_m0_s8.S, th_dot_4x1_m0_s8.S, th_requant4_m0_s8.S) and the 16x16-multiply requantization, byte-compared
with the portable C reference kernels (th_conv2d_s8, th_fully_connected_s8) run on the host.

One twin run checks a three-operator graph built for the awkward corners of the assembly: a 3x3 SAME conv with
5 input channels (K = 45: the four-at-a-time loop plus a one-value tail), 25 output pixels (groups of four plus
a lone pixel) and left-shifting multipliers, a second conv (K = 63) whose right shifts take the four-value
requantization (th_requant4_m0_s8.S), then a FULLY_CONNECTED over its output's 25 rows x 6 values into 7
outputs (four rows through the assembly, three left over).  The host builds of the
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


def _conv_conv_fc_graph() -> Graph:
    """CONV_2D (1,5,5,5) -> (1,5,5,7) with left shifts, CONV_2D -> (1,5,5,6) with right shifts of 2 or more
    (the four-value Thumb-1 requantization; K = 63: a three-value tail), then FULLY_CONNECTED with accum_depth 6:
    25 rows -> (25, 7)."""
    rng = np.random.default_rng(11)
    first = conv_graph(rng, "CONV_2D", (5, 5, 5), 7, act="RELU6", ratio=3.7)
    second = conv_graph(rng, "CONV_2D", (5, 5, 7), 6, ratio=0.02)
    x, w1, b1, y1 = first.tensors
    _, w2, b2, y2 = second.tensors
    w2 = Tensor(4, "w2", w2.shape, w2.dtype, w2.quant, w2.data)
    b2 = Tensor(5, "b2", b2.shape, b2.dtype, None, b2.data)
    y2_scale = y1.quant.scale[0] * max(w2.quant.scale) / 0.02  # the second conv reads the first one's output
    y2 = Tensor(6, "y2", y2.shape, "int8", QuantParams((y2_scale,), y2.quant.zero_point, 0))
    fc_w = rng.integers(-127, 128, (7, 6)).astype(np.int8)
    fc_scale = tuple(float(s) for s in rng.uniform(0.5, 2.0, 7) * 0.01)
    z_scale = y2.quant.scale[0] * max(fc_scale) / 0.003
    tensors = (x, w1, b1, y1, w2, b2, y2,
               Tensor(7, "fc_w", (7, 6), "int8", QuantParams(fc_scale, (0,) * 7, 0), fc_w),
               Tensor(8, "fc_b", (7,), "int32", None, rng.integers(-5000, 5000, 7).astype(np.int32)),
               Tensor(9, "z", (25, 7), "int8", QuantParams((z_scale,), (3,), 0)))
    conv2 = Operator(1, "CONV_2D", (3, 4, 5), (6,), second.operators[0].options)
    fc = Operator(2, "FULLY_CONNECTED", (6, 7, 8), (9,), {"fused_activation_function": "NONE"})
    return Graph(tensors, (first.operators[0], conv2, fc), (0,), (9,))


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
    graph = _conv_conv_fc_graph()
    compiled = _compiled(graph, False, "m0_conv_conv_fc")
    assert [c.function for c in compiled.calls] == ["th_conv2d_im2col_pair_s8"] * 2 + ["th_fully_connected_x4_s8"]
    shifts = [list(c.params["shift"].values) for c in compiled.calls]
    assert max(shifts[0]) > 0 and max(shifts[1]) <= -2  # left shifts (C path), right shifts (assembly)
    reference = HostModel(_compiled(graph, True, "m0_conv_conv_fc_ref"))
    firmware = prepare(compiled, get_board("rp2040").target(True), BuildOptions())
    with open(firmware.image.elf, "rb") as fh:  # the assembly, not the C twins, is linked
        symbols = ELFFile(fh).get_section_by_name(".symtab")
        sizes = {s.name: s["st_size"] for s in symbols.iter_symbols() if s.name.endswith("_m0_s8")}
    assert all(sizes.get(f, 0) > 0 for f in ("th_dot_1x4_m0_s8", "th_dot_4x1_m0_s8", "th_requant4_m0_s8")), sizes
    rng = np.random.default_rng(3)
    with connect(firmware, run_dir=tmp_path) as dut:
        for trial in range(3):
            x = rng.integers(-128, 128, (1, 5, 5, 5), dtype=np.int8)
            out, _count = dut.infer(x)
            want = reference.run(x)
            diff = np.flatnonzero(out.reshape(-1) != want.reshape(-1))
            assert diff.size == 0, f"trial {trial}: {diff.size} of {out.size} values differ, first at {diff[0]}"
            assert len(np.unique(want)) > 8  # not a saturated, near-constant output
