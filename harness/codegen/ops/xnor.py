"""Lowering of tinyhil's binary convolution (CUSTOM operator ``TH_XNOR_CONV_2D``, XNOR-Net) to
``th_xnor_conv2d_s8`` (targets/kernels/th_xnor.h).

The operator's tensors, options and arithmetic are specified in :mod:`harness.reference.xnor`, which
also computes the compile-time parameters (:func:`~harness.reference.xnor.prepare`: requantization
multipliers, the bias in accumulator units) shared by this lowering and the Python reference.
Refused: batches other than 1, non-int8 input/output, non-constant weights/threshold/scale/bias, malformed
custom options.
"""

from __future__ import annotations

from harness.codegen.ops import xnor_format as ref
from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import ConstArray, KernelCall
from harness.errors import UnsupportedOperatorError


def params_of(op: Operator, graph: Graph) -> ref.XnorParams:
    """The prepared parameters of one ``TH_XNOR_CONV_2D`` operator; raises UnsupportedOperatorError."""
    def refuse(detail: str) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(op.opcode, op.index, detail)

    if len(op.inputs) != 5:
        raise refuse(f"{len(op.inputs)} inputs; x, weights, threshold, scale, bias expected")
    inp, w, thr, scale, bias = (graph.input(op, k) for k in range(5))
    out = graph.output(op)
    if inp is None or inp.dtype != "int8" or out.dtype != "int8" or inp.quant is None or out.quant is None:
        raise refuse("input and output must be quantized int8")
    for t, dt in ((w, "int32"), (thr, "int32"), (scale, "float32"), (bias, "float32")):
        if t is None or not t.is_constant or t.dtype != dt:
            raise refuse(f"tensor {t.name if t else '?'} must be a constant {dt}")
    if len(inp.shape) != 4 or len(out.shape) != 4 or inp.shape[0] != 1 or out.shape[0] != 1:
        raise refuse("NHWC input and output with batch 1 expected")
    try:
        options = ref.unpack_options(op.options.get("custom_options", b""))
        return ref.prepare(inp.shape, out.shape, options, w.data, thr.data, scale.data, bias.data,
                           out.scale, out.zero_point)
    except ValueError as exc:
        raise refuse(str(exc)) from None


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one ``TH_XNOR_CONV_2D`` operator; ``macs`` counts binary multiply-accumulates (one per tap)."""
    p = params_of(op, graph)
    fields = {k: getattr(p, k) for k in ("in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "filter_h",
                                         "filter_w", "stride_h", "stride_w", "pad_top", "pad_left", "words")}
    fields.update(dot_scale=ref.DOT_SCALE, output_offset=p.output_offset, act_min=p.act_min, act_max=p.act_max,
                  threshold=ConstArray("int32_t", p.threshold),
                  weights=ConstArray("uint32_t", p.weights.view("uint32")),
                  multiplier=ConstArray("int32_t", p.multiplier), shift=ConstArray("int32_t", p.shift),
                  bias=ConstArray("int32_t", p.bias))
    out = graph.output(op)
    return KernelCall("th_xnor_conv2d_s8", "th_xnor_conv_s8_params", fields, (op.inputs[0], op.outputs[0]),
                      macs=out.size * p.filter_h * p.filter_w * p.in_c, scratch_bytes=8 * p.words)
