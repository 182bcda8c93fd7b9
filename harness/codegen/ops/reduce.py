"""Lowering of MEAN (int8, float32) to the th_reduce.h mean kernels.

TFLM ``kernels/reduce_common.cc`` EvalMeanHelper: float -> ``th_mean_f32`` (reference_ops::Mean);
int8 -> ``th_mean_s8`` (reference_ops::QuantizedMeanOrSum, whose run-time folding of 1/count into the
multiplier is done here).  The tflite-micro reference (2026) uses QuantizedMeanOrSum for every int8 MEAN,
including identical input/output quantization; fixtures pool_mean_*samequant* check that case.
"""

from __future__ import annotations

import numpy as np

from harness.codegen import quant
from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.errors import ModelError, UnsupportedOperatorError

_GROUPS = 3  # kept and reduced dimension groups of th_mean_params


def resolve_axes(axes: np.ndarray, rank: int) -> list[int]:
    """Axis values made non-negative and de-duplicated (TFLite reference ResolveAxis), sorted."""
    resolved = set()
    for a in np.asarray(axes).reshape(-1).tolist():
        a = int(a)
        if not -rank <= a < rank:
            raise ValueError(f"axis {a} out of range for rank {rank}")
        resolved.add(a + rank if a < 0 else a)
    return sorted(resolved)


def split_dims(shape: tuple[int, ...], reduced: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split a row-major ``shape`` into (kept, reduced) lists of (size, stride) groups.

    Size-1 dimensions are dropped and adjacent dimensions of the same kind are merged, so a tensor of up to
    5 dimensions gives at most 3 groups of each kind.  The kept groups, in order, are the output's layout.
    """
    strides = [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]
    runs: list[list] = []  # [is_reduced, size, stride] of merged runs, outermost first
    for axis, (size, stride) in enumerate(zip(shape, strides)):
        if size == 1:
            continue
        is_red = axis in reduced
        if runs and runs[-1][0] == is_red and runs[-1][2] == size * stride:
            runs[-1][1] *= size
            runs[-1][2] = stride
        else:
            runs.append([is_red, size, stride])
    kept = [(s, st) for r, s, st in runs if not r]
    red = [(s, st) for r, s, st in runs if r]
    return kept, red


def _pad(groups: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    groups = [(1, 0)] * (_GROUPS - len(groups)) + groups
    return [s for s, _ in groups], [st for _, st in groups]


def fold_count(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """Fold 1/count into (multiplier, shift) exactly as TFLite's QuantizedMeanOrSum does at run time."""
    s = min(count.bit_length() - 1, 32, 31 + shift)  # 63 - CountLeadingZeros(count), clamped
    return int((multiplier << s) // count), shift - s


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower MEAN with a constant axis tensor, any keep_dims, input of up to 5 dimensions.

    Raises UnsupportedOperatorError for dtypes other than int8/float32 or a non-constant axis tensor.
    """
    inp, axis_t, out = graph.input(op, 0), graph.input(op, 1), graph.output(op)
    if inp.dtype not in ("int8", "float32") or out.dtype != inp.dtype:
        raise UnsupportedOperatorError(op.opcode, op.index, f"{inp.dtype} -> {out.dtype}; int8 or float32 only")
    if axis_t is None or not axis_t.is_constant:
        raise UnsupportedOperatorError(op.opcode, op.index, "axis tensor must be constant")
    if len(inp.shape) > 5:
        raise UnsupportedOperatorError(op.opcode, op.index, f"input rank {len(inp.shape)}; at most 5")
    try:
        axes = resolve_axes(axis_t.data, len(inp.shape))
    except ValueError as exc:
        raise ModelError(f"{op.opcode} at position {op.index}: {exc}; re-export the model") from None
    kept, red = split_dims(inp.shape, axes)
    count = int(np.prod([s for s, _ in red], dtype=np.int64)) if red else 1
    if len(kept) > _GROUPS or len(red) > _GROUPS:
        raise UnsupportedOperatorError(op.opcode, op.index, "too many alternating reduced/kept dimensions")
    if int(np.prod([s for s, _ in kept], dtype=np.int64)) != out.size:
        raise ModelError(f"{op.opcode} at position {op.index}: output shape {out.shape} does not match "
                         f"input {inp.shape} reduced over {axes}; re-export the model")
    kept_size, kept_stride = _pad(kept)
    red_size, red_stride = _pad(red)
    params = {
        "kept_size": kept_size, "kept_stride": kept_stride, "red_size": red_size, "red_stride": red_stride,
        "count": count, "input_zp": 0, "output_zp": 0, "multiplier": 0, "shift": 0,
    }
    if inp.dtype == "float32":
        function = "th_mean_f32"
    else:
        function = "th_mean_s8"
        # PrepareMeanOrSumHelper: real multiplier in double from the float32 scales.
        real = float(np.float32(inp.scale)) / float(np.float32(out.scale))
        mult, shift = fold_count(*quant.quantize_multiplier(real), count)
        params.update(input_zp=inp.zero_point, output_zp=out.zero_point, multiplier=mult, shift=shift)
    return KernelCall(function, "th_mean_params", params, (op.inputs[0], op.outputs[0]), macs=inp.size)
