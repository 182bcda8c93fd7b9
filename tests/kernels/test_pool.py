"""MAX_POOL_2D, AVERAGE_POOL_2D and MEAN: our C kernels vs the TFLM host interpreter, and refusals.

int8 fixtures must match byte for byte, float32 ones within the helper's tolerance.  Fixtures:
tests/fixtures/models/pool_*.tflite (generator: tests/fixtures/generators/pool.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.ops import pool, reduce, shape
from harness.errors import UnsupportedOperatorError
from tests.kernels.conftest import assert_matches_reference, fixture_models

MODELS = fixture_models("pool_")
Q = QuantParams((0.05,), (3,))


def test_fixtures_exist():
    assert len(MODELS) >= 30


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_pool_matches_tflm(path):
    assert_matches_reference(path, trials=6)


def _unary(opcode: str, dtype: str, out_shape: tuple[int, ...], options: dict,
           operand: np.ndarray | None = None, in_shape: tuple[int, ...] = (1, 4, 4, 2)) -> tuple[Operator, Graph]:
    q = Q if dtype == "int8" else None
    tensors = [Tensor(0, "in", in_shape, dtype, q), Tensor(1, "out", out_shape, dtype, q)]
    inputs = (0,)
    if operand is not None:
        tensors.append(Tensor(2, "operand", operand.shape, "int32", None, operand))
        inputs = (0, 2)
    op = Operator(0, opcode, inputs, (1,), options)
    return op, Graph(tuple(tensors), (op,), (0,), (1,))


POOL_OPTS = {"padding": "SAME", "filter_height": 2, "filter_width": 2, "stride_h": 2, "stride_w": 2}


def test_pool_lowering_and_refusals():
    op, g = _unary("AVERAGE_POOL_2D", "int8", (1, 2, 2, 2), {**POOL_OPTS, "fused_activation_function": "RELU"})
    call = pool.lower(op, g)
    assert call.function == "th_avg_pool2d_s8"
    assert (call.params["act_min"], call.params["act_max"]) == (3, 127)
    op, g = _unary("MAX_POOL_2D", "int8", (1, 2, 2, 2), {**POOL_OPTS, "fused_activation_function": "TANH"})
    with pytest.raises(UnsupportedOperatorError, match="TANH"):
        pool.lower(op, g)
    op, g = _unary("MAX_POOL_2D", "int16", (1, 2, 2, 2), POOL_OPTS)
    with pytest.raises(UnsupportedOperatorError, match="MAX_POOL_2D at position 0"):
        pool.lower(op, g)


def test_mean_lowering():
    op, g = _unary("MEAN", "int8", (1, 2), {"keep_dims": False}, np.array([-3, 2], np.int32))
    call = reduce.lower(op, g)
    assert call.function == "th_mean_s8"
    assert call.params["count"] == 16 and call.params["red_size"] == [1, 1, 16]
    # identical quantization: multiplier 1.0 = 2^30 * 2^(1-31), folded with 1/16 (s = 4)
    assert (call.params["multiplier"], call.params["shift"]) == (1 << 30, 1 - 4)
    op = Operator(0, "MEAN", (0, 0), (1,), {})
    with pytest.raises(UnsupportedOperatorError, match="axis tensor must be constant"):
        reduce.lower(op, g)


def test_mean_dimension_groups():
    kept, red = reduce.split_dims((1, 4, 6, 5, 3), [1, 3])
    assert kept == [(6, 15), (3, 1)] and red == [(4, 90), (5, 3)]
    kept, red = reduce.split_dims((2, 3, 4), [1, 2])
    assert kept == [(2, 12)] and red == [(12, 1)]
    assert reduce.fold_count(1 << 30, -5, 35) == (((1 << 30) << 5) // 35, -10)
    assert reduce.fold_count(1 << 30, -30, 1 << 20)[1] == -31  # shift clamped at 31 + shift


def test_shape_refusals():
    op, g = _unary("TRANSPOSE", "float32", (1, 4, 4, 2), {}, None)
    with pytest.raises(UnsupportedOperatorError, match="perm tensor must be constant"):
        shape.lower(Operator(0, "TRANSPOSE", (0, 0), (1,), {}), g)
    op, g = _unary("CONCATENATION", "int8", (1, 4, 4, 2), {"axis": -1, "fused_activation_function": "RELU"})
    with pytest.raises(UnsupportedOperatorError, match="RELU"):
        shape.lower(op, g)
    op, g = _unary("RESHAPE", "int16", (1, 32), {})
    with pytest.raises(UnsupportedOperatorError, match="int8 or float32"):
        shape.lower(op, g)
