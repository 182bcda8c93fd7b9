"""Lowering of SOFTMAX to ``th_softmax_s8`` / ``th_softmax_f32`` (targets/kernels/th_softmax.h).

The softmax runs over the last axis of a tensor of any rank: ``outer_size`` rows of ``depth`` values.  For int8
this module computes what TFLM computes at prepare time (``kernels/softmax_common.cc`` CalculateSoftmaxParams,
``kernels/internal/quantization_util.cc`` PreprocessSoftmaxScaling and CalculateInputRadius):

* ``input_multiplier``/``input_left_shift``: QuantizeMultiplierGreaterThanOne of
  min(beta * input_scale * 2^(31 - 5), 2^31 - 1), i.e. input differences rescaled into Q5.26;
* ``diff_min`` = -floor((2^5 - 1) * 2^(31 - 5) / 2^input_left_shift): differences below it give exp = 0.

Supported: int8 input with int8 output quantized at scale 1/256, zero point -128 (what the TFLite converter
emits and the only int8 output TFLM accepts besides int16), and float32.  Refused: int16 input or output,
uint8, an int8 output with other quantization, a multiplier beta * input_scale * 2^26 <= 1 (TFLM aborts).
"""

from __future__ import annotations

import math

import numpy as np

from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.codegen.quant import tflite_round
from harness.errors import UnsupportedOperatorError

#: Integer bits of the Q5.26 fixed-point format of the rescaled input differences (TFLite kScaledDiffIntegerBits).
SCALED_DIFF_INTEGER_BITS = 5


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """(significand in [2^30, 2^31), left shift >= 0) with real = significand * 2^(shift - 31).

    TFLite QuantizeMultiplierGreaterThanOne with the default double rounding: unlike
    :func:`harness.codegen.quant.quantize_multiplier` the shift is not capped at 30 (the softmax multiplier
    is capped at 2^31 - 1, whose shift is 31).  Raises ValueError for real <= 1.
    """
    if not real > 1.0:
        raise ValueError(f"multiplier {real} is not greater than one")
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    return int(q_fixed), int(shift)


def softmax_int8_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) of TFLite's int8 softmax for float32 beta and scale.

    PreprocessSoftmaxScaling(beta, input_scale, 5) and -CalculateInputRadius(5, left_shift), in double from
    the float32 values as TFLM does.
    """
    beta_d = float(np.float32(beta))
    scale_d = float(np.float32(input_scale))
    real = min(beta_d * scale_d * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier_greater_than_one(real)
    max_input_rescaled = (1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
                          * float(1 << (31 - SCALED_DIFF_INTEGER_BITS)) / float(1 << left_shift))
    diff_min = -int(math.floor(max_input_rescaled))
    return multiplier, left_shift, diff_min


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one SOFTMAX operator (int8 or float32, softmax over the last axis)."""
    inp, out = graph.input(op, 0), graph.output(op)
    if inp is None:
        raise UnsupportedOperatorError(op.opcode, op.index, "missing input")
    beta = float(op.options.get("beta", 1.0))
    shape = inp.shape or (1,)
    depth = int(shape[-1])
    outer = int(inp.size // depth) if depth else 0
    if inp.dtype == out.dtype == "float32":
        return KernelCall(
            function="th_softmax_f32",
            params_type="th_softmax_f32_params",
            params={"outer_size": outer, "depth": depth, "beta": beta},
            args=(inp.index, out.index),
            macs=inp.size,
        )
    if inp.dtype == out.dtype == "int8":
        if inp.quant is None or out.quant is None:
            raise UnsupportedOperatorError(op.opcode, op.index, "int8 tensors without quantization parameters")
        # TFLM requires zero point -128 and exactly scale 1/256 (float32 compare) for an int8 output.
        if out.zero_point != -128 or np.float32(out.scale) != np.float32(1.0 / 256):
            raise UnsupportedOperatorError(
                op.opcode, op.index,
                f"int8 output scale {out.scale} zero point {out.zero_point}; TFLM needs 1/256 and -128")
        try:
            multiplier, left_shift, diff_min = softmax_int8_params(beta, inp.scale)
        except ValueError:
            raise UnsupportedOperatorError(
                op.opcode, op.index, f"beta * input scale {beta * inp.scale:g} too small for int8 softmax") from None
        return KernelCall(
            function="th_softmax_s8",
            params_type="th_softmax_s8_params",
            params={"outer_size": outer, "depth": depth, "input_multiplier": multiplier,
                    "input_left_shift": left_shift, "diff_min": diff_min},
            args=(inp.index, out.index),
            macs=inp.size,
        )
    raise UnsupportedOperatorError(
        op.opcode, op.index, f"input {inp.dtype}, output {out.dtype}; int8->int8 and float32 are supported")
