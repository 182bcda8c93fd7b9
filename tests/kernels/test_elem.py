"""SOFTMAX, ADD, MUL, QUANTIZE, DEQUANTIZE kernels vs the TFLM host interpreter (fixtures elem_*.tflite).

int8 outputs must match byte for byte; float32 outputs within the helper's relative tolerance.
"""

from __future__ import annotations

import pytest

from harness.codegen.compiler import compile_model
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.ops import elementwise, quantize, softmax
from harness.errors import UnsupportedOperatorError

from tests.kernels.conftest import assert_matches_reference, fixture_models

MODELS = fixture_models("elem_")


def test_fixtures_present():
    assert len(MODELS) >= 18


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_matches_tflm(path):
    assert_matches_reference(path, trials=8)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_lowers_to_elem_kernels(path):
    compiled = compile_model(path)
    assert all(c.function.startswith(("th_softmax_", "th_add_", "th_mul_", "th_quantize_", "th_dequantize_"))
               for c in compiled.calls)


def test_softmax_params_match_tflite_formulas():
    # beta * scale * 2^26 = 2^26 / 16 -> multiplier 2^30, left shift 23; radius floor(31 * 2^26 / 2^23) = 248
    assert softmax.softmax_int8_params(1.0, 1.0 / 16) == (1 << 30, 23, -248)
    # capped at 2^31 - 1: shift 31 (not capped at 30 as single rounding would), diff_min 0
    mult, shift, diff_min = softmax.softmax_int8_params(1.0, 64.0)
    assert (mult, shift, diff_min) == ((1 << 31) - 1, 31, 0)


def test_broadcast_geometry():
    g = elementwise.broadcast_geometry((1, 4, 4, 8), (1, 4, 4, 1), (1, 4, 4, 8))
    assert g["broadcast"] == 1 and g["in1_strides"] == (0, 32, 8, 1) and g["in2_strides"] == (0, 4, 1, 0)
    g = elementwise.broadcast_geometry((1, 6, 10), (6, 10), (1, 6, 10))
    assert g["broadcast"] == 0 and g["size"] == 60
    with pytest.raises(ValueError):
        elementwise.broadcast_geometry((2, 3, 4, 5, 6), (6,), (2, 3, 4, 5, 6))


def _graph(dtypes, shapes, quants, opcode, options=None):
    tensors = tuple(Tensor(i, f"t{i}", s, d, q) for i, (d, s, q) in enumerate(zip(dtypes, shapes, quants)))
    n = len(tensors)
    op = Operator(0, opcode, tuple(range(n - 1)), (n - 1,), options or {})
    return Graph(tensors, (op,), (0,), (n - 1,)), op


def test_refusals():
    q = QuantParams((0.1,), (0,))
    g, op = _graph(("int16", "int16"), ((1, 8), (1, 8)), (q, q), "SOFTMAX", {"beta": 1.0})
    with pytest.raises(UnsupportedOperatorError):
        softmax.lower(op, g)
    g, op = _graph(("int8", "int8"), ((1, 8), (1, 8)), (q, QuantParams((1 / 128,), (0,))), "SOFTMAX",
                   {"beta": 1.0})
    with pytest.raises(UnsupportedOperatorError, match="1/256"):
        softmax.lower(op, g)
    g, op = _graph(("int8", "int8", "int8"), ((1, 8), (1, 8), (1, 8)), (q, q, q), "ADD",
                   {"fused_activation_function": "TANH"})
    with pytest.raises(UnsupportedOperatorError, match="TANH"):
        elementwise.lower(op, g)
    g, op = _graph(("int16", "int16", "int16"), ((1, 8), (1, 8), (1, 8)), (q, q, q), "MUL",
                   {"fused_activation_function": "NONE"})
    with pytest.raises(UnsupportedOperatorError):
        elementwise.lower(op, g)
    g, op = _graph(("float32", "int16"), ((1, 8), (1, 8)), (None, q), "QUANTIZE")
    with pytest.raises(UnsupportedOperatorError):
        quantize.lower(op, g)
