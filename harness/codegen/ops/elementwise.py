"""Lowering of ADD and MUL to ``th_add_*`` / ``th_mul_*`` (targets/kernels/th_elementwise.h).

Compile-time work, as TFLM does it at prepare time:

* broadcasting (TFLite ``NdArrayDescsForElementwiseBroadcast``): both input shapes are right-aligned against
  the output shape, padded to 4-D, and given element strides that are 0 along the dimensions they are
  broadcast over, so the C kernel is one generic 4-D loop; same shapes use a flat loop;
* int8 ADD (``kernels/add_common.cc`` CalculateOpDataAdd): left_shift 20, per-input multipliers
  s_k / (2 * max(s1, s2)) and output multiplier 2 * max(s1, s2) / (2^20 * s_out), each through
  QuantizeMultiplierSmallerThanOneExp (computed in double from the float32 scales);
* int8 MUL (``kernels/mul_common.cc`` CalculateOpDataMul): QuantizeMultiplier(s1 * s2 / s_out);
* the fused activation's clamp range (CalculateActivationRangeQuantized / CalculateActivationRange).

Supported: all-int8 (per-tensor quantization) and all-float32 operands, fused NONE/RELU/RELU6/RELU_N1_TO_1,
any shapes whose broadcast needs at most 4 dimensions (leading 1s do not count), constant or activation
operands.  Refused: other dtypes (int16, int32, uint8, mixed), per-channel quantized operands, other fused
activations, broadcasts over more than 4 dimensions, int8 ADD scales whose multipliers are not below one.
"""

from __future__ import annotations

import numpy as np

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.kernel import KernelCall
from harness.errors import UnsupportedOperatorError

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
#: TFLM's left shift of int8 ADD inputs before rescaling (add_common.cc; 15 for int16).
ADD_LEFT_SHIFT_S8 = 20


def _strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    dims = list(shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    return tuple(dims)


def broadcast_geometry(shape1: tuple[int, ...], shape2: tuple[int, ...],
                       out_shape: tuple[int, ...]) -> dict[str, object]:
    """The TH_BROADCAST_FIELDS of th_elementwise.h for inputs ``shape1``/``shape2`` and output ``out_shape``.

    Returns {"size", "broadcast", "out_shape", "in1_strides", "in2_strides"}: ``broadcast`` 0 when the three
    shapes are equal up to leading 1s (flat loop), else 1 with the output padded to 4-D and each input's
    row-major element strides, 0 along dimensions where the input has extent 1 (numpy broadcasting,
    right-aligned).  Raises ValueError when the shapes do not broadcast to ``out_shape`` or need more than
    4 dimensions.
    """
    s1, s2, so = (_strip_leading_ones(tuple(int(d) for d in s)) for s in (shape1, shape2, out_shape))
    if tuple(np.broadcast_shapes(s1, s2)) != so:
        raise ValueError(f"shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}")
    size = int(np.prod(so, dtype=np.int64)) if so else 1
    if s1 == s2 == so:
        zeros = (0, 0, 0, 0)
        return {"size": size, "broadcast": 0, "out_shape": (1, 1, 1, size) if size else zeros,
                "in1_strides": zeros, "in2_strides": zeros}
    if len(so) > 4:
        raise ValueError(f"broadcast over {len(so)} dimensions (at most 4 supported)")
    out4 = (1,) * (4 - len(so)) + so

    def strides(shape: tuple[int, ...]) -> tuple[int, ...]:
        in4 = (1,) * (4 - len(shape)) + shape
        result, step = [0, 0, 0, 0], 1
        for axis in range(3, -1, -1):
            result[axis] = step if in4[axis] != 1 else 0
            step *= in4[axis]
        return tuple(result)

    return {"size": size, "broadcast": 1, "out_shape": out4, "in1_strides": strides(s1), "in2_strides": strides(s2)}


def _refuse(op: Operator, detail: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(op.opcode, op.index, detail)


def _operands(op: Operator, graph: Graph) -> tuple[Tensor, Tensor, Tensor, str]:
    """(input1, input2, output, "s8" | "f32") after dtype checks."""
    a, b, out = graph.input(op, 0), graph.input(op, 1), graph.output(op)
    if a is None or b is None:
        raise _refuse(op, "missing input")
    if a.dtype == b.dtype == out.dtype == "float32":
        return a, b, out, "f32"
    if a.dtype == b.dtype == out.dtype == "int8":
        for t in (a, b, out):
            if t.quant is None:
                raise _refuse(op, f"int8 tensor {t.name} without quantization parameters")
            if t.quant.per_channel:
                raise _refuse(op, f"per-channel quantized operand {t.name}")
        return a, b, out, "s8"
    raise _refuse(op, f"dtypes {a.dtype}, {b.dtype} -> {out.dtype}; int8 and float32 are supported")


def _activation(op: Operator) -> str:
    act = op.options.get("fused_activation_function", "NONE")
    if act not in _ACTIVATIONS:
        raise _refuse(op, f"fused activation {act}")
    return act


def add_s8_params(s1: float, s2: float, s_out: float) -> dict[str, int]:
    """The int8 ADD rescaling of TFLM's CalculateOpDataAdd for float32 scales (input1/2 and output
    multipliers/shifts, left_shift), computed in double; raises ValueError when a multiplier is not in (0, 1)."""
    s1d, s2d, sod = (float(np.float32(s)) for s in (s1, s2, s_out))
    twice_max = 2.0 * max(s1d, s2d)
    reals = (s1d / twice_max, s2d / twice_max, twice_max / (float(1 << ADD_LEFT_SHIFT_S8) * sod))
    for name, real in zip(("input1", "input2", "output"), reals):
        if not 0.0 < real < 1.0:
            raise ValueError(f"{name} multiplier {real:g} is not in (0, 1)")
    (m1, sh1), (m2, sh2), (mo, sho) = (quant.quantize_multiplier(r) for r in reals)
    return {"left_shift": ADD_LEFT_SHIFT_S8, "input1_multiplier": m1, "input1_shift": sh1,
            "input2_multiplier": m2, "input2_shift": sh2, "output_multiplier": mo, "output_shift": sho}


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one ADD or MUL operator (int8 or float32, with broadcasting and a fused activation)."""
    if op.opcode not in ("ADD", "MUL"):
        raise _refuse(op, "not an element-wise operator of this module")
    a, b, out, kind = _operands(op, graph)
    act = _activation(op)
    try:
        geometry = broadcast_geometry(a.shape, b.shape, out.shape)
    except ValueError as exc:
        raise _refuse(op, str(exc)) from None
    name = op.opcode.lower()
    args = (a.index, b.index, out.index)
    macs = int(geometry["size"])
    if kind == "f32":
        lo, hi = quant.activation_range_float(act)
        return KernelCall(f"th_{name}_f32", "th_elementwise_f32_params",
                          {**geometry, "act_min": lo, "act_max": hi}, args, macs)
    act_min, act_max = quant.activation_range_quantized(act, out.scale, out.zero_point)
    common = {"input1_offset": -a.zero_point, "input2_offset": -b.zero_point, "output_offset": out.zero_point}
    if op.opcode == "ADD":
        try:
            rescale = add_s8_params(a.scale, b.scale, out.scale)
        except ValueError as exc:
            raise _refuse(op, str(exc)) from None
        params = {**geometry, **common, **rescale, "act_min": act_min, "act_max": act_max}
        # same shapes: th_add_flat_s8 (SMLAL rescaling on ARMv7(E)-M, th_add_s8 on ARMv6-M); broadcasts: th_add_s8
        function = "th_add_s8" if geometry["broadcast"] else "th_add_flat_s8"
        return KernelCall(function, "th_add_s8_params", params, args, macs)
    real = float(np.float32(a.scale)) * float(np.float32(b.scale)) / float(np.float32(out.scale))
    multiplier, shift = quant.quantize_multiplier(real)
    params = {**geometry, **common, "output_multiplier": multiplier, "output_shift": shift,
              "act_min": act_min, "act_max": act_max}
    return KernelCall("th_mul_s8", "th_mul_s8_params", params, args, macs)
