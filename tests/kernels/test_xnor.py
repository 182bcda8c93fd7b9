"""The binary convolution kernel th_xnor_conv2d_s8 (host build) against the numpy reference of the same
integer arithmetic (harness/reference/xnor.py): byte for byte, over shapes that exercise padding,
strides, partial words and thresholds.  TFLM has no binary operator, so the reference is ours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.codegen import ops
from harness.reference import xnor as ref
from harness.codegen.compiler import CompiledModel
from harness.codegen.emitter import emit_model
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.host import HostModel
from harness.codegen.planner import plan_arena
from harness.errors import UnsupportedOperatorError


def one_op_graph(rng, in_hw, cin, cout, k, stride, padding, activation, options=None):
    n_taps = k[0] * k[1] * cin
    signs = rng.choice([-1, 1], size=(cout, k[0], k[1], cin))
    q = lambda s, z: QuantParams((s,), (z,))  # noqa: E731
    oh, ow = (-(-in_hw[0] // stride[0]), -(-in_hw[1] // stride[1])) if padding == "SAME" else (
        (in_hw[0] - k[0]) // stride[0] + 1, (in_hw[1] - k[1]) // stride[1] + 1)
    tensors = (
        Tensor(0, "x", (1, *in_hw, cin), "int8", q(0.05, int(rng.integers(-20, 20)))),
        Tensor(1, "w", (cout, (n_taps + 31) // 32), "int32", None, ref.pack_signs(signs)),
        Tensor(2, "thr", (cin,), "int32", None, rng.integers(-40, 40, cin).astype(np.int32)),
        Tensor(3, "scale", (cout,), "float32", None, rng.uniform(0.01, 0.3, cout).astype(np.float32)),
        Tensor(4, "bias", (cout,), "float32", None, rng.normal(0, 1.0, cout).astype(np.float32)),
        Tensor(5, "y", (1, oh, ow, cout), "int8", q(0.07, int(rng.integers(-10, 10)))),
    )
    raw = options if options is not None else ref.pack_options(*k, *stride, padding, activation)
    op = Operator(0, ref.OPCODE, (0, 1, 2, 3, 4), (5,), {"custom_options": raw})
    return Graph(tensors, (op,), (0,), (5,)), signs


def compiled_of(graph: Graph, tmp: Path) -> CompiledModel:
    calls = tuple(ops.lower(op, graph) for op in graph.operators)
    plan = plan_arena(graph, {i: c.scratch_bytes for i, c in enumerate(calls) if c.scratch_bytes})
    return CompiledModel(tmp / "xnor.tflite", "0" * 64, graph, calls, plan, emit_model(graph, plan, list(calls), "xnor"))


CASES = [((5, 7), 3, 4, (3, 3), (1, 1), "SAME", "RELU"), ((6, 9), 33, 5, (3, 3), (1, 1), "SAME", "NONE"),
         ((8, 8), 12, 7, (3, 3), (2, 2), "SAME", "RELU"), ((7, 6), 40, 3, (2, 3), (1, 2), "VALID", "NONE"),
         ((4, 4), 64, 9, (3, 3), (1, 1), "SAME", "RELU")]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}-{c[5]}-s{c[4][0]}{c[4][1]}" for c in CASES])
def test_c_kernel_matches_the_reference_bit_for_bit(case, tmp_path):
    rng = np.random.default_rng(len(tmp_path.name))
    graph, _ = one_op_graph(rng, *case)
    compiled = compiled_of(graph, tmp_path)
    host = HostModel(compiled)
    p = ops.xnor.params_of(graph.operators[0], graph)
    for _ in range(4):
        x = rng.integers(-128, 128, graph.tensors[0].shape).astype(np.int8)
        want = ref.xnor_conv2d_s8(x, p)
        got = host.run(x)
        np.testing.assert_array_equal(got, want)
        assert len(np.unique(want)) > 2  # the case is not degenerate (all clamped)


def test_reference_dot_product_is_the_signed_sum_over_in_image_taps():
    rng = np.random.default_rng(3)
    graph, signs = one_op_graph(rng, (4, 5), 6, 2, (3, 3), (1, 1), "SAME", "NONE")
    p = ops.xnor.params_of(graph.operators[0], graph)
    x = rng.integers(-128, 128, (1, 4, 5, 6)).astype(np.int8)
    s = np.where(x[0] >= p.threshold, 1, -1)
    padded = np.pad(s, ((1, 1), (1, 1), (0, 0)))  # padded taps are 0
    direct = np.array([[np.sum(padded[y:y + 3, xx:xx + 3] * signs[c]) for c in range(2)]
                       for y in range(4) for xx in range(5)])
    np.testing.assert_array_equal(ref.binary_dot(x, p), direct)


def test_pack_and_unpack_are_inverse():
    rng = np.random.default_rng(1)
    signs = rng.choice([-1, 1], size=(5, 3, 3, 7))
    np.testing.assert_array_equal(ref.unpack_signs(ref.pack_signs(signs), 63), signs.reshape(5, -1))


def test_malformed_options_are_refused_with_the_operator_position():
    graph, _ = one_op_graph(np.random.default_rng(0), (4, 4), 3, 2, (3, 3), (1, 1), "SAME", "RELU",
                            options=b"\x01\x02")
    with pytest.raises(UnsupportedOperatorError, match="TH_XNOR_CONV_2D at position 0.*custom options"):
        ops.lower(graph.operators[0], graph)
