"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: our C kernels vs the TFLM host interpreter.

int8 fixtures must match byte for byte, float32 ones within the helper's tolerance.  The fixtures are
tests/fixtures/models/conv*.tflite (generator: tests/fixtures/generators/conv.py).
"""

from __future__ import annotations

import pytest

from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.ops import conv, fully_connected
from harness.errors import UnsupportedOperatorError
from tests.kernels.conftest import assert_matches_reference, fixture_models

import numpy as np

MODELS = fixture_models("conv")


def test_fixtures_exist():
    assert len(MODELS) >= 20


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_matches_tflm(path):
    assert_matches_reference(path, trials=4)


def _graph(opcode: str, inp_dtype: str, w_dtype: str, options: dict) -> tuple[Operator, Graph]:
    q = QuantParams((0.1,), (0,))
    tensors = (
        Tensor(0, "in", (1, 4, 4, 2), inp_dtype, q if inp_dtype == "int8" else None),
        Tensor(1, "w", (3, 3, 3, 2), w_dtype, q if w_dtype == "int8" else None,
               np.zeros((3, 3, 3, 2), w_dtype)),
        Tensor(2, "out", (1, 4, 4, 3), inp_dtype, q if inp_dtype == "int8" else None),
    )
    op = Operator(0, opcode, (0, 1, -1), (2,), options)
    return op, Graph(tensors, (op,), (0,), (2,))


def test_refuses_hybrid_and_tanh():
    op, g = _graph("CONV_2D", "float32", "int8", {"padding": "SAME"})
    with pytest.raises(UnsupportedOperatorError, match="CONV_2D"):
        conv.lower(op, g)
    op, g = _graph("CONV_2D", "int8", "int8", {"padding": "SAME", "fused_activation_function": "TANH"})
    with pytest.raises(UnsupportedOperatorError, match="TANH"):
        conv.lower(op, g)


def test_lowering_no_bias_folds_input_offset():
    op, g = _graph("CONV_2D", "int8", "int8", {"padding": "SAME", "stride_h": 1, "stride_w": 1})
    call = conv.lower(op, g)
    assert call.function == "th_conv2d_im2col_pair_s8"
    # the larger need: two int16 columns of 3*3*2 = 18 values rounded up to 20 (DSP), four int32 columns (ARMv6-M)
    assert call.scratch_bytes == max(2 * 2 * 20, 4 * 4 * 18)
    assert call.params["pad_top"] == 1 and call.params["pad_left"] == 1
    assert list(call.params["bias_eff"].values) == [0, 0, 0]
    assert call.macs == 4 * 4 * 3 * 3 * 3 * 2
    with pytest.raises(UnsupportedOperatorError, match="FULLY_CONNECTED"):
        fully_connected.lower(Operator(0, "FULLY_CONNECTED", (0, 1, -1), (2,), {}), g)
