"""Lowering of QUANTIZE and DEQUANTIZE to ``th_quantize_*`` / ``th_dequantize_s8`` (targets/kernels/th_quantize.h).

As TFLM's prepare step (``kernels/quantize_common.cc`` PrepareQuantizeReference, ``dequantize_common.cc``):
float32 -> int8 keeps the output scale and zero point (the kernel divides by the float32 scale and rounds
half away from zero); int8 -> int8 requantization gets QuantizeMultiplier(input_scale / output_scale)
computed in double from the float32 scales; int8 -> float32 keeps the input scale and zero point.

Supported: QUANTIZE float32 -> int8 and int8 -> int8, DEQUANTIZE int8 -> float32, per-tensor quantization.
Refused: int16/uint8/int32 variants, per-channel (per-axis) quantization.
"""

from __future__ import annotations

import numpy as np

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.kernel import KernelCall
from harness.errors import UnsupportedOperatorError


def _quant_of(op: Operator, t: Tensor) -> tuple[float, int]:
    if t.quant is None:
        raise UnsupportedOperatorError(op.opcode, op.index, f"tensor {t.name} has no quantization parameters")
    if t.quant.per_channel:
        raise UnsupportedOperatorError(op.opcode, op.index, f"per-channel quantized tensor {t.name}")
    return t.scale, t.zero_point


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one QUANTIZE (float32/int8 -> int8) or DEQUANTIZE (int8 -> float32) operator."""
    inp, out = graph.input(op, 0), graph.output(op)
    if inp is None:
        raise UnsupportedOperatorError(op.opcode, op.index, "missing input")
    size = inp.size
    if op.opcode == "QUANTIZE" and inp.dtype == "float32" and out.dtype == "int8":
        scale, zero_point = _quant_of(op, out)
        return KernelCall("th_quantize_f32", "th_quantize_f32_params",
                          {"size": size, "scale": scale, "zero_point": zero_point}, (inp.index, out.index))
    if op.opcode == "QUANTIZE" and inp.dtype == "int8" and out.dtype == "int8":
        in_scale, in_zp = _quant_of(op, inp)
        out_scale, out_zp = _quant_of(op, out)
        multiplier, shift = quant.quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
        return KernelCall("th_quantize_s8", "th_quantize_s8_params",
                          {"size": size, "input_zero_point": in_zp, "output_zero_point": out_zp,
                           "multiplier": multiplier, "shift": shift}, (inp.index, out.index))
    if op.opcode == "DEQUANTIZE" and inp.dtype == "int8" and out.dtype == "float32":
        scale, zero_point = _quant_of(op, inp)
        return KernelCall("th_dequantize_s8", "th_dequantize_s8_params",
                          {"size": size, "scale": scale, "zero_point": zero_point}, (inp.index, out.index))
    raise UnsupportedOperatorError(
        op.opcode, op.index,
        f"{inp.dtype} -> {out.dtype}; supported: QUANTIZE float32->int8 and int8->int8, DEQUANTIZE int8->float32")
