"""Conv + MAX_POOL_2D fusion (harness/codegen/fuse.py, targets/kernels/th_fused_conv_maxpool_s8.c): the fused
step must equal the unfused pair byte for byte (the unfused kernels are checked against TFLM in tests/kernels),
on awkward geometries built here as graphs (SAME/VALID, strides, dilation, clipped pool windows, dropped
trailing rows, depthwise, 1-D column strips), and on the real models against the TFLM host interpreter."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from harness.codegen import fuse
from harness.codegen.compiler import CompiledModel, compile_model
from harness.codegen.emitter import emit_model
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.host import HostModel
from harness.codegen.planner import check_plan, plan_arena
from harness.codegen.quant import output_size
from harness.reference.tflm import ReferenceInterpreter
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")


def conv_pool_graph(in_hwc, out_c, filt, conv_opts, pool_opts, depthwise=False, seed=0) -> Graph:
    """input -> CONV_2D (or DEPTHWISE_CONV_2D, relu) -> MAX_POOL_2D, int8, per-channel weights."""
    rng = np.random.default_rng(seed)
    h, w, c = in_hwc
    fh, fw = filt
    sh, sw = conv_opts.get("stride_h", 1), conv_opts.get("stride_w", 1)
    dh, dw = conv_opts.get("dilation_h_factor", 1), conv_opts.get("dilation_w_factor", 1)
    pad = conv_opts.get("padding", "VALID")
    oh, ow = output_size(pad, h, fh, sh, dh), output_size(pad, w, fw, sw, dw)
    ppad = pool_opts.get("padding", "VALID")
    ph = output_size(ppad, oh, pool_opts["filter_height"], pool_opts["stride_h"])
    pw = output_size(ppad, ow, pool_opts["filter_width"], pool_opts["stride_w"])
    wshape = (1, fh, fw, out_c) if depthwise else (out_c, fh, fw, c)
    q_in = QuantParams((0.05,), (3,))
    q_out = QuantParams((0.07,), (-20,))
    q_w = QuantParams(tuple(float(s) for s in rng.uniform(0.002, 0.02, out_c)), (0,) * out_c,
                      3 if depthwise else 0)
    tensors = (
        Tensor(0, "in", (1, h, w, c), "int8", q_in),
        Tensor(1, "w", wshape, "int8", q_w, rng.integers(-127, 128, wshape, dtype=np.int8)),
        Tensor(2, "b", (out_c,), "int32", None, rng.integers(-3000, 3000, out_c).astype(np.int32)),
        Tensor(3, "conv", (1, oh, ow, out_c), "int8", q_out),
        Tensor(4, "pool", (1, ph, pw, out_c), "int8", q_out),
    )
    opts = {"fused_activation_function": "RELU", **conv_opts}
    if depthwise:
        opts["depth_multiplier"] = out_c // c
    conv = Operator(0, "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", (0, 1, 2), (3,), opts)
    pool = Operator(1, "MAX_POOL_2D", (3,), (4,), {"fused_activation_function": "NONE", **pool_opts})
    return Graph(tensors, (conv, pool), (0,), (4,))


def compile_graph(graph: Graph, fusion: bool) -> CompiledModel:
    """compile_model's pipeline on an in-memory graph."""
    steps = fuse.schedule(graph) if fusion else graph
    calls = tuple(fuse.lower(op, steps) for op in steps.operators)
    scratch = {i: c.scratch_bytes for i, c in enumerate(calls) if c.scratch_bytes}
    plan = plan_arena(steps, scratch, keep_inputs=True, share=fuse.in_place(steps) if fusion else None)
    check_plan(plan, steps, scratch, keep_inputs=True)
    sources = emit_model(steps, plan, list(calls), f"synthetic-{fusion}")
    return CompiledModel(Path(f"synthetic-{fusion}.tflite"), "", graph, calls, plan, sources, steps)


CASES = {
    "same3x3_pool2x2_odd": ((7, 9, 3), 5, (3, 3), {"padding": "SAME"},
                            {"filter_height": 2, "filter_width": 2, "stride_h": 2, "stride_w": 2}),
    "s2_same_pool_same_3x3s3": ((11, 10, 4), 7, (3, 3), {"padding": "SAME", "stride_h": 2, "stride_w": 2},
                                {"filter_height": 3, "filter_width": 3, "stride_h": 3, "stride_w": 3,
                                 "padding": "SAME"}),
    "valid_dilated_pool_skips_rows": ((12, 12, 2), 3, (3, 2), {"dilation_h_factor": 2, "dilation_w_factor": 2},
                                      {"filter_height": 2, "filter_width": 1, "stride_h": 3, "stride_w": 2}),
    "one_d_same_columns": ((1, 301, 3), 8, (1, 5), {"padding": "SAME", "stride_w": 2},
                           {"filter_height": 1, "filter_width": 6, "stride_h": 1, "stride_w": 6}),
    "pool_relu6_c9_lanes_and_rest": ((6, 8, 9), 9, (3, 3), {"padding": "SAME"},
                                     {"filter_height": 2, "filter_width": 2, "stride_h": 2, "stride_w": 2,
                                      "fused_activation_function": "RELU6"}),
    "one_d_valid_acdnet_like": ((1, 523, 4), 32, (1, 5), {"stride_w": 2},
                                {"filter_height": 1, "filter_width": 50, "stride_h": 1, "stride_w": 50}),
}


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_step_equals_the_unfused_pair(case, depthwise, monkeypatch):
    in_hwc, out_c, filt, conv_opts, pool_opts = CASES[case]
    if depthwise:
        out_c = in_hwc[2] * 2
    monkeypatch.setattr(fuse, "STRIP_BUDGET_BYTES", 1)  # 1-D cases: one pool window per strip, many strips
    graph = conv_pool_graph(in_hwc, out_c, filt, conv_opts, pool_opts, depthwise)
    fused, plain = compile_graph(graph, True), compile_graph(graph, False)
    assert [op.opcode for op in fused.steps.operators] == [f"{graph.operators[0].opcode}+MAX_POOL_2D"]
    assert 3 not in {b.key for b in fused.plan.buffers}  # the conv output is never materialized
    rng = np.random.default_rng(1)
    a, b = HostModel(fused), HostModel(plain)
    for _ in range(3):
        x = rng.integers(-128, 128, graph.tensors[0].shape, dtype=np.int8)
        assert a.run(x).tobytes() == b.run(x).tobytes()


def test_overlapping_pool_windows_are_not_fused():
    graph = conv_pool_graph((8, 8, 2), 4, (3, 3), {"padding": "SAME"},
                            {"filter_height": 3, "filter_width": 3, "stride_h": 2, "stride_w": 2})
    assert [op.opcode for op in fuse.schedule(graph).operators] == ["CONV_2D", "MAX_POOL_2D"]


def rerun_without_reload(host: HostModel, x: np.ndarray, times: int) -> list[bytes]:
    """Load x once, invoke ``times`` times, return each output (what `infer N W` does on the device)."""
    inp, out = host.compiled.input_tensor, host.compiled.output_tensor
    data = np.ascontiguousarray(x, dtype=inp.dtype)
    ctypes.memmove(host._input, data.ctypes.data, data.nbytes)
    outs = []
    for _ in range(times):
        host._lib.th_model_invoke()
        outs.append(bytes((ctypes.c_uint8 * out.nbytes).from_address(host._output)))
    return outs


def test_raw_mini_fused_matches_tflm_and_keeps_its_input():
    path = FIXTURES / "raw_mini_int8.tflite"
    compiled = compile_model(path)
    assert [op.opcode for op in compiled.steps.operators][:2] == ["CONV_2D+MAX_POOL_2D"] * 2
    assert len(compiled.calls) == len(compiled.steps.operators)
    host, ref = HostModel(compiled), ReferenceInterpreter(path)
    x = np.random.default_rng(5).integers(-128, 128, compiled.input_tensor.shape, dtype=np.int8)
    want = ref.run(x).tobytes()
    assert rerun_without_reload(host, x, 3) == [want] * 3


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")
def test_acdnet_arena_with_fusion():
    compiled = compile_model(ACDNET)
    names = [op.opcode for op in compiled.steps.operators]
    assert names.count("CONV_2D+MAX_POOL_2D") == 6 and len(names) == 23 - 6
    assert compiled.plan.arena_bytes < 100_000  # was 302,144 B; TFLM needs 309,268 B
    sizes = {b.nbytes for b in compiled.plan.buffers}
    assert 241_696 not in sizes  # conv2's output is never materialized
    inp = next(b for b in compiled.plan.buffers if b.key == compiled.graph.inputs[0])
    assert (inp.first, inp.last) == (0, len(names) - 1)
    host = HostModel(compiled)
    x = np.random.default_rng(2).integers(-128, 128, compiled.input_tensor.shape, dtype=np.int8)
    outs = rerun_without_reload(host, x, 2)
    assert outs[0] == outs[1] == ReferenceInterpreter(ACDNET).run(x).tobytes()


def test_profile_rows_name_a_fused_step_after_both_operators():
    from harness.boards import get_board
    from harness.metrics.profile import build_profile

    compiled = compile_model(FIXTURES / "raw_mini_int8.tflite")
    steps, ops = len(compiled.steps.operators), len(compiled.graph.operators)
    board = get_board("stm32f746")
    ours = build_profile(compiled, board, "twin", "instructions", (110,) * steps, 10, 100 * steps)
    assert [r.operator for r in ours.rows][:3] == ["CONV_2D+MAX_POOL_2D", "CONV_2D+MAX_POOL_2D", "CONV_2D"]
    assert ours.rows[0].shape == "1x1x1888x4" and ours.rows[0].macs == compiled.calls[0].macs > 0
    tflm = build_profile(compiled, board, "twin", "instructions", (110,) * ops, 10, 100 * ops)  # TFLM: per op
    assert [r.operator for r in tflm.rows][:3] == ["CONV_2D", "MAX_POOL_2D", "CONV_2D"]
    assert sum(r.macs for r in tflm.rows) == sum(r.macs for r in ours.rows) == compiled.macs
