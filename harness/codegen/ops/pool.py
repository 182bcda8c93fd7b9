"""Lowering of MAX_POOL_2D and AVERAGE_POOL_2D (int8, float32) to th_pool.h kernels.

Geometry as TFLM ``kernels/pooling_common.cc`` (CalculateOpDataPooling): output size from the tensor,
padding from TFLite ComputePaddingHeightWidth (quant.padding_before), fused activation range from
CalculateActivationRangeQuantized (int8) or CalculateActivationRange (float).
"""

from __future__ import annotations

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.errors import ModelError, UnsupportedOperatorError

_FUNCTIONS = {
    ("MAX_POOL_2D", "int8"): "th_max_pool2d_ch4_s8",  # optimized; th_max_pool2d_s8 is its reference
    ("MAX_POOL_2D", "float32"): "th_max_pool2d_f32",
    ("AVERAGE_POOL_2D", "int8"): "th_avg_pool2d_s8",
    ("AVERAGE_POOL_2D", "float32"): "th_avg_pool2d_f32",
}


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower a 2-D pool over an NHWC tensor.

    Raises UnsupportedOperatorError for dtypes other than int8/float32, non-4-D tensors and fused
    activations other than NONE/RELU/RELU6/RELU_N1_TO_1; ModelError when the output shape contradicts
    the options.
    """
    inp, out = graph.input(op, 0), graph.output(op)
    function = _FUNCTIONS.get((op.opcode, inp.dtype))
    if function is None or out.dtype != inp.dtype:
        raise UnsupportedOperatorError(op.opcode, op.index, f"{inp.dtype} -> {out.dtype}; int8 or float32 only")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise UnsupportedOperatorError(op.opcode, op.index, f"input rank {len(inp.shape)}; NHWC 4-D only")
    o = op.options
    padding = o.get("padding", "VALID")
    fh, fw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o["stride_h"]), int(o["stride_w"])
    n, h, w, c = inp.shape
    out_h, out_w = quant.output_size(padding, h, fh, sh), quant.output_size(padding, w, fw, sw)
    if out.shape != (n, out_h, out_w, c):
        raise ModelError(f"{op.opcode} at position {op.index}: output shape {out.shape} does not match "
                         f"{(n, out_h, out_w, c)} computed from its options; re-export the model")
    activation = o.get("fused_activation_function", "NONE")
    try:
        if inp.dtype == "int8":
            act_min, act_max = quant.activation_range_quantized(activation, out.scale, out.zero_point)
        else:
            act_min, act_max = quant.activation_range_float(activation)
    except (ValueError, KeyError):
        raise UnsupportedOperatorError(op.opcode, op.index, f"fused activation {activation}") from None
    params = {
        "batches": n, "in_h": h, "in_w": w, "channels": c, "out_h": out_h, "out_w": out_w,
        "filter_h": fh, "filter_w": fw, "stride_h": sh, "stride_w": sw,
        "pad_h": quant.padding_before(padding, h, fh, sh), "pad_w": quant.padding_before(padding, w, fw, sw),
        "act_min": act_min, "act_max": act_max,
    }
    params_type = "th_pool_s8_params" if inp.dtype == "int8" else "th_pool_f32_params"
    # Additions of the average (comparisons of the max pool are not counted as MACs).
    macs = out.size * fh * fw if op.opcode == "AVERAGE_POOL_2D" else 0
    return KernelCall(function, params_type, params, (op.inputs[0], op.outputs[0]), macs=macs)
