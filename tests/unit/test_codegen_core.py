"""Reader, quantization arithmetic, arena planner and compile-time refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.codegen.compiler import compile_model
from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.planner import plan_arena
from harness.codegen.quant import (activation_range_quantized, output_size, padding_before, quantize_multiplier,
                                   tflite_round)
from harness.codegen.reader import read_tflite
from harness.errors import ModelError, UnsupportedOperatorError
from tests.conftest import shared_path

SHARED = shared_path()
ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")


def test_tflite_round_is_half_away_from_zero():
    assert [tflite_round(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5, 2.49)] == [1, 2, 3, -1, -3, 2]


@pytest.mark.parametrize("real", [0.5, 0.75, 1e-3, 0.0123456, 1.9999999, 3.0, 2.0 ** -30])
def test_quantize_multiplier_reconstructs_the_real_value(real):
    mult, shift = quantize_multiplier(real)
    assert (1 << 30) <= mult < (1 << 31)
    assert math.isclose(mult * 2.0 ** (shift - 31), real, rel_tol=2 ** -30)


def test_quantize_multiplier_edge_cases():
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(2.0 ** -40) == (0, 0)            # below 2^-31: flushed to zero as TFLite does
    assert quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)  # rounds up to 2^31, renormalised


def test_activation_range_and_padding():
    assert activation_range_quantized("RELU", 0.1, -5) == (-5, 127)
    assert activation_range_quantized("RELU6", 0.1, -128) == (-128, -68)
    assert activation_range_quantized("NONE", 0.1, 3) == (-128, 127)
    # SAME, input 8, filter 3, stride 2: out 4, total padding 1 -> 0 before, 1 after (partial window)
    assert output_size("SAME", 8, 3, 2) == 4 and padding_before("SAME", 8, 3, 2) == 0
    assert output_size("SAME", 7, 3, 1) == 7 and padding_before("SAME", 7, 3, 1) == 1
    assert output_size("VALID", 30225, 9, 2) == 15109 and padding_before("VALID", 30225, 9, 2) == 0


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")
def test_reader_reads_acdnet():
    g = read_tflite(ACDNET)
    assert [op.opcode for op in g.operators].count("CONV_2D") == 12
    assert g.tensors[g.inputs[0]].shape == (1, 1, 30225, 1)
    assert g.operators[0].options["stride_w"] == 2 and g.operators[0].options["padding"] == "VALID"
    weights = {i for op in g.operators if op.opcode in ("CONV_2D", "FULLY_CONNECTED") for i in op.inputs[1:]}
    assert sum(g.tensors[i].size for i in weights) == 130_869   # weights + biases (README: 130,875 incl. BN)


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")
def test_planner_reaches_the_live_tensor_bound_on_acdnet():
    plan = plan_arena(read_tflite(ACDNET))
    assert plan.live_peak_bytes() == 302_132          # conv2's input + output, as the model README states
    assert plan.live_peak_bytes() <= plan.arena_bytes < plan.live_peak_bytes() + 64


def _tensor(i, shape, data=None):
    return Tensor(i, f"t{i}", shape, "int8", None, data)


def test_planner_never_overlaps_live_buffers():
    rng = np.random.default_rng(1)
    tensors = [_tensor(i, (int(rng.integers(1, 500)),)) for i in range(12)]
    ops = tuple(Operator(i, "ADD", (i, max(0, i - 3)), (i + 1,)) for i in range(11))
    g = Graph(tuple(tensors), ops, (0,), (11,))
    plan = plan_arena(g)
    for a in plan.buffers:
        for b in plan.buffers:
            if a is not b and a.overlaps_in_time(b):
                assert a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset
    assert plan.arena_bytes >= plan.live_peak_bytes()


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")
def test_corrupt_and_missing_models_give_one_line_errors(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="not a TFLite flatbuffer"):
        read_tflite(bad)
    truncated = tmp_path / "trunc.tflite"
    truncated.write_bytes(ACDNET.read_bytes()[:5000])
    with pytest.raises(ModelError):
        compile_model(truncated)
    with pytest.raises(ModelError, match="cannot read model"):
        read_tflite(tmp_path / "missing.tflite")


def test_unsupported_operator_is_refused_with_name_and_position():
    t = (_tensor(0, (4,)), _tensor(1, (4,)))
    g = Graph(t, (Operator(0, "TANH", (0,), (1,)),), (0,), (1,))
    from harness.codegen import ops
    with pytest.raises(UnsupportedOperatorError, match="TANH at position 0"):
        ops.lower(g.operators[0], g)
