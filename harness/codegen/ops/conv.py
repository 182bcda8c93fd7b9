"""Lowering of CONV_2D and DEPTHWISE_CONV_2D to ``th_conv2d_*`` / ``th_depthwise_conv2d_*`` (targets/kernels/th_conv.h).

Everything TFLM computes at prepare time (``kernels/conv_common.cc``, ``depthwise_conv_common.cc``) is computed
here: output geometry and SAME padding (TFLite ``padding.h``), per-channel requantization multipliers and
shifts (``PopulateConvolutionQuantizationParams``: input_scale * filter_scale[c] / output_scale in double,
``QuantizeMultiplier``), the fused-activation clamp range, plus one thing TFLM does not do: the bias folded
with ``input_offset * sum(filter of channel c)`` (``bias_eff``), the same zero-point folding CMSIS-NN uses
so the kernel's inner loop is a plain int8 dot product.

Supported: int8 (int8 filter, symmetric, per-channel or per-tensor scale; int32 bias or none) and float32;
fused NONE/RELU/RELU6/RELU_N1_TO_1; any stride, dilation, SAME/VALID padding; depthwise depth multiplier >= 1.
Refused: other dtypes (int16 activations, hybrid float-input/int8-weights), grouped convolution, non-constant
filters, filters with a nonzero zero point, other fused activations.
"""

from __future__ import annotations

import numpy as np

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.kernel import ConstArray, KernelCall
from harness.errors import UnsupportedOperatorError

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _refuse(op: Operator, detail: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(op.opcode, op.index, detail)


def check_dtypes(op: Operator, inp: Tensor, weights: Tensor, bias: Tensor | None, out: Tensor) -> str:
    """Validate the dtype combination of a conv-family operator; returns "s8" or "f32".

    Shared with FULLY_CONNECTED.  Raises UnsupportedOperatorError for anything but all-int8 (int32 bias,
    constant symmetric int8 weights) or all-float32.
    """
    if not weights.is_constant:
        raise _refuse(op, "non-constant weights")
    if bias is not None and not bias.is_constant:
        raise _refuse(op, "non-constant bias")
    if inp.dtype == "int8" and weights.dtype == "int8" and out.dtype == "int8":
        if bias is not None and bias.dtype != "int32":
            raise _refuse(op, f"int8 with {bias.dtype} bias")
        if inp.quant is None or weights.quant is None or out.quant is None:
            raise _refuse(op, "int8 tensors without quantization parameters")
        if any(z != 0 for z in weights.quant.zero_point):
            raise _refuse(op, "int8 weights with nonzero zero point")
        return "s8"
    if inp.dtype == out.dtype == weights.dtype == "float32" and (bias is None or bias.dtype == "float32"):
        return "f32"
    dt = f"input {inp.dtype}, weights {weights.dtype}, output {out.dtype}"
    raise _refuse(op, f"dtypes {dt}; int8 and float32 are supported")


def activation(op: Operator) -> str:
    """The fused activation name, refusing those without a clamp form."""
    act = op.options.get("fused_activation_function", "NONE")
    if act not in _ACTIVATIONS:
        raise _refuse(op, f"fused activation {act}")
    return act


def quantized_params(op: Operator, inp: Tensor, weights: Tensor, bias: Tensor | None, out: Tensor,
                     channels: int, channel_axis: int) -> dict[str, object]:
    """The int8 requantization fields shared by conv, depthwise and fully connected kernels.

    ``channels`` output channels lie along ``channel_axis`` of ``weights``.  bias_eff[c] = bias[c] +
    input_offset * sum(weights of channel c) (TFLM adds the offset to every input element instead; equal in
    exact integer arithmetic).
    """
    if weights.quant.per_channel and len(weights.quant.scale) != channels:
        raise _refuse(op, f"{len(weights.quant.scale)} weight scales for {channels} channels")
    mult, shift = quant.per_channel_multipliers(inp.scale, weights.quant.scale, out.scale, channels)
    act_min, act_max = quant.activation_range_quantized(activation(op), out.scale, out.zero_point)
    input_offset = -inp.zero_point
    w = np.moveaxis(weights.data.astype(np.int64), channel_axis, 0).reshape(channels, -1)
    b = bias.data.astype(np.int64) if bias is not None else np.zeros(channels, np.int64)
    bias_eff = b + input_offset * w.sum(axis=1)
    if np.any(bias_eff < -(1 << 31)) or np.any(bias_eff >= (1 << 31)):
        raise _refuse(op, "folded bias overflows int32")
    return {
        "input_offset": input_offset,
        "output_offset": out.zero_point,
        "act_min": act_min,
        "act_max": act_max,
        "multiplier": ConstArray("int32_t", mult),
        "shift": ConstArray("int32_t", shift),
        "bias_eff": ConstArray("int32_t", bias_eff.astype(np.int32)),
    }


def _geometry(op: Operator, inp: Tensor, filter_hw: tuple[int, int], out: Tensor, depth_multiplier: int
              ) -> dict[str, object]:
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise _refuse(op, f"input rank {len(inp.shape)}; NHWC 4-D expected")
    n, in_h, in_w, in_c = inp.shape
    _, out_h, out_w, out_c = out.shape
    fh, fw = filter_hw
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    padding = o.get("padding", "VALID")
    if padding not in ("SAME", "VALID"):
        raise _refuse(op, f"padding {padding}")
    expect = (quant.output_size(padding, in_h, fh, sh, dh), quant.output_size(padding, in_w, fw, sw, dw))
    if expect != (out_h, out_w):
        raise _refuse(op, f"output {out_h}x{out_w} does not match the computed {expect[0]}x{expect[1]}")
    return {
        "batches": n, "in_h": in_h, "in_w": in_w, "in_c": in_c,
        "out_h": out_h, "out_w": out_w, "out_c": out_c,
        "filter_h": fh, "filter_w": fw,
        "stride_h": sh, "stride_w": sw,
        "dilation_h": dh, "dilation_w": dw,
        "pad_top": quant.padding_before(padding, in_h, fh, sh, dh),
        "pad_left": quant.padding_before(padding, in_w, fw, sw, dw),
        "depth_multiplier": depth_multiplier,
    }


def select_s8_variant(params: dict[str, object], depthwise: bool) -> tuple[str, int]:
    """The int8 kernel variant for a conv geometry (``params`` as built by :func:`lower`) and its scratch bytes.

    Chosen at compile time from the shape; the core-specific code path (SXTB16/SMLAD on cores with the DSP
    extension; on ARMv6-M the th_*_m0_s8 kernels with Thumb-1 assembly inner loops, th_conv_m0.h) is picked
    inside the variant by the C preprocessor (th_simd.h), so the generated code is the same for every core.
    CONV_2D: th_conv2d_im2col_pair_s8 (scratch: two int16 columns of filter_h * filter_w * in_c values rounded
    up to 4 on DSP cores, th_conv2d_im2col_pair_s8_get_buffer_size; on cores without the DSP extension it runs
    th_conv2d_im2col_s8, whose ARMv6-M path needs four int32 columns: the request is the larger).
    DEPTHWISE_CONV_2D: th_depthwise_conv2d_ch4_s8 for depth multiplier 1 and windows up to 64 taps (no
    scratch), else th_depthwise_conv2d_s8 (scratch: one int32
    accumulator per output channel).
    """
    if depthwise:
        if int(params["depth_multiplier"]) == 1 and int(params["filter_h"]) * int(params["filter_w"]) <= 64:
            return "th_depthwise_conv2d_ch4_s8", 0
        return "th_depthwise_conv2d_s8", 4 * int(params["out_c"])
    k = int(params["filter_h"]) * int(params["filter_w"]) * int(params["in_c"])
    # the larger of the two core paths' needs: DSP two int16 columns, ARMv6-M four int32 columns
    # (th_conv2d_im2col_m0_s8_get_buffer_size); the generated code is the same for every core
    return "th_conv2d_im2col_pair_s8", max(2 * 2 * ((k + 3) & ~3), 16 * k)


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one CONV_2D or DEPTHWISE_CONV_2D operator to its th_conv.h kernel call."""
    inp, weights, bias, out = graph.input(op, 0), graph.input(op, 1), graph.input(op, 2), graph.output(op)
    kind = check_dtypes(op, inp, weights, bias, out)
    if len(weights.shape) != 4:
        raise _refuse(op, f"filter rank {len(weights.shape)}")
    depthwise = op.opcode == "DEPTHWISE_CONV_2D"
    in_c = inp.shape[-1]
    out_c = out.shape[-1]
    if depthwise:
        _, fh, fw, f_out = weights.shape
        if f_out != out_c or out_c % in_c:
            raise _refuse(op, f"filter {list(weights.shape)} for {in_c} input / {out_c} output channels")
        dm = out_c // in_c
        taps = fh * fw
        channel_axis = 3
    else:
        f_out, fh, fw, f_in = weights.shape
        if f_in != in_c:
            raise _refuse(op, f"grouped convolution ({in_c} input channels, filter depth {f_in})")
        if f_out != out_c:
            raise _refuse(op, f"filter {list(weights.shape)} for {out_c} output channels")
        dm = 1
        taps = fh * fw * in_c
        channel_axis = 0
    params = _geometry(op, inp, (fh, fw), out, dm)
    macs = out.size * taps
    scratch = 4 * out_c if depthwise else 0
    name = "th_depthwise_conv2d" if depthwise else "th_conv2d"
    if kind == "s8":
        params.update(quantized_params(op, inp, weights, bias, out, out_c, channel_axis))
        function, scratch = select_s8_variant(params, depthwise)
        return KernelCall(function, "th_conv_s8_params", params, (inp.index, weights.index, out.index),
                          macs=macs, scratch_bytes=scratch)
    params["act_min"], params["act_max"] = quant.activation_range_float(activation(op))
    bias_index = bias.index if bias is not None else -1
    return KernelCall(f"{name}_f32", "th_conv_f32_params", params,
                      (inp.index, weights.index, bias_index, out.index), macs=macs, scratch_bytes=scratch)
