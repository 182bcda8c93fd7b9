"""Lowering of FULLY_CONNECTED to ``th_fully_connected_*`` (targets/kernels/th_fully_connected.h).

As TFLM's ``fully_connected_common.cc`` (CalculateOpDataFullyConnected) at prepare time: per-tensor weights
use GetQuantizedConvolutionMultipler (input_scale * weight_scale / output_scale in double), per-channel
weights one multiplier per output row (the FullyConnectedPerChannel path); both are emitted as per-row
arrays.  The geometry follows the reference kernel: accum_depth is the weights' last dimension, out_depth the
output's last dimension, and the number of rows is output elements / out_depth, so 2-D and 4-D inputs and
keep_num_dims true/false all reduce to the same row loop.

int8 lowers to the optimized th_fully_connected_x4_s8 (four rows at a time, SXTB16/SMLAD where the core has
the DSP extension, th_fully_connected_m0_s8's Thumb-1 loop on ARMv6-M); th_fully_connected_s8 stays the
portable reference it is tested against.

Supported: int8 (int8 constant weights with zero point 0, per-tensor or per-channel; int32 bias or none) and
float32; fused NONE/RELU/RELU6/RELU_N1_TO_1.  Refused: other dtypes (hybrid, int16, int4), shuffled weight
formats, non-constant weights, other activations.
"""

from __future__ import annotations

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.codegen.ops.conv import activation, check_dtypes, quantized_params
from harness.errors import UnsupportedOperatorError


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one FULLY_CONNECTED operator to its th_fully_connected.h kernel call."""
    inp, weights, bias, out = graph.input(op, 0), graph.input(op, 1), graph.input(op, 2), graph.output(op)
    kind = check_dtypes(op, inp, weights, bias, out)
    if op.options.get("weights_format", 0) != 0:
        raise UnsupportedOperatorError(op.opcode, op.index, "shuffled weights format")
    if len(weights.shape) != 2:
        raise UnsupportedOperatorError(op.opcode, op.index, f"weights rank {len(weights.shape)}")
    out_depth, accum_depth = weights.shape
    if out.shape[-1] != out_depth or out.size % out_depth or inp.size != (out.size // out_depth) * accum_depth:
        raise UnsupportedOperatorError(
            op.opcode, op.index,
            f"input {list(inp.shape)} / weights {list(weights.shape)} / output {list(out.shape)} do not agree")
    params: dict[str, object] = {
        "batches": out.size // out_depth, "accum_depth": accum_depth, "out_depth": out_depth,
    }
    macs = out.size * accum_depth
    if kind == "s8":
        params.update(quantized_params(op, inp, weights, bias, out, out_depth, 0))
        return KernelCall("th_fully_connected_x4_s8", "th_fully_connected_s8_params", params,
                          (inp.index, weights.index, out.index), macs=macs)
    params["act_min"], params["act_max"] = quant.activation_range_float(activation(op))
    return KernelCall("th_fully_connected_f32", "th_fully_connected_f32_params", params,
                      (inp.index, weights.index, bias.index if bias is not None else -1, out.index), macs=macs)
