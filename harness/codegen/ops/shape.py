"""Lowering of RESHAPE, TRANSPOSE, PAD and CONCATENATION (int8, float32) to th_shape.h kernels.

Shapes, permutations, paddings and slice sizes are resolved here from the constant operand tensors, as
TFLM does in each kernel's Prepare (kernels/reshape.cc, transpose.cc, pad.cc, concatenation.cc).
"""

from __future__ import annotations

import numpy as np

from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.kernel import ConstArray, KernelCall
from harness.errors import ModelError, UnsupportedOperatorError

_SUFFIX = {"int8": "s8", "float32": "f32"}
TRANSPOSE_MAX_DIMS = 6
PAD_MAX_DIMS = 5


def _suffix(op: Operator, *tensors: Tensor) -> str:
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) != 1 or next(iter(dtypes)) not in _SUFFIX:
        raise UnsupportedOperatorError(op.opcode, op.index, f"dtypes {sorted(dtypes)}; int8 or float32 only")
    return _SUFFIX[dtypes.pop()]


def _constant(op: Operator, graph: Graph, k: int, what: str) -> np.ndarray:
    t = graph.input(op, k)
    if t is None or not t.is_constant:
        raise UnsupportedOperatorError(op.opcode, op.index, f"{what} tensor must be constant")
    return np.asarray(t.data).astype(np.int64)


def _strides(shape: tuple[int, ...]) -> list[int]:
    return [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]


def _mismatch(op: Operator, got: tuple[int, ...], want: tuple[int, ...]) -> ModelError:
    return ModelError(f"{op.opcode} at position {op.index}: output shape {got} does not match {want} "
                      "computed from its operands; re-export the model")


def lower_reshape(op: Operator, graph: Graph) -> KernelCall:
    """RESHAPE: a byte copy (the shape operand only changes the metadata)."""
    inp, out = graph.input(op, 0), graph.output(op)
    _suffix(op, inp, out)
    if inp.nbytes != out.nbytes:
        raise ModelError(f"RESHAPE at position {op.index}: {inp.shape} -> {out.shape} changes the element count")
    return KernelCall("th_reshape", "th_reshape_params", {"nbytes": inp.nbytes}, (op.inputs[0], op.outputs[0]))


def lower_transpose(op: Operator, graph: Graph) -> KernelCall:
    """TRANSPOSE with a constant permutation, up to 6 dimensions."""
    inp, out = graph.input(op, 0), graph.output(op)
    sfx = _suffix(op, inp, out)
    rank = len(inp.shape)
    perm = [int(p) + rank if p < 0 else int(p) for p in _constant(op, graph, 1, "perm").reshape(-1)]
    if rank > TRANSPOSE_MAX_DIMS:
        raise UnsupportedOperatorError(op.opcode, op.index, f"rank {rank}; at most {TRANSPOSE_MAX_DIMS}")
    if sorted(perm) != list(range(rank)):
        raise ModelError(f"TRANSPOSE at position {op.index}: perm {perm} is not a permutation of rank {rank}")
    want = tuple(inp.shape[p] for p in perm)
    if out.shape != want:
        raise _mismatch(op, out.shape, want)
    in_strides = _strides(inp.shape)
    pad = TRANSPOSE_MAX_DIMS - rank
    params = {
        "out_dims": [1] * pad + list(want),
        "in_strides": [0] * pad + [in_strides[p] for p in perm],
    }
    return KernelCall(f"th_transpose_{sfx}", "th_transpose_params", params, (op.inputs[0], op.outputs[0]))


def lower_pad(op: Operator, graph: Graph) -> KernelCall:
    """PAD with a constant [rank, 2] paddings tensor; pad value = output zero point (int8) or 0.0 (float)."""
    inp, out = graph.input(op, 0), graph.output(op)
    sfx = _suffix(op, inp, out)
    rank = len(inp.shape)
    if rank > PAD_MAX_DIMS:
        raise UnsupportedOperatorError(op.opcode, op.index, f"rank {rank}; at most {PAD_MAX_DIMS}")
    paddings = _constant(op, graph, 1, "paddings")
    if paddings.shape != (rank, 2) or (paddings < 0).any():
        raise ModelError(f"PAD at position {op.index}: paddings {paddings.tolist()} do not fit rank {rank}")
    want = tuple(int(d + a + b) for d, (a, b) in zip(inp.shape, paddings.tolist()))
    if out.shape != want:
        raise _mismatch(op, out.shape, want)
    pad = PAD_MAX_DIMS - rank
    params = {
        "in_dims": [1] * pad + list(inp.shape),
        "out_dims": [1] * pad + list(out.shape),
        "before": [0] * pad + [int(a) for a in paddings[:, 0]],
        # TFLM PadEval: PAD without constant_values pads int8 with the output zero point, float with 0.
        "pad_value": out.zero_point if sfx == "s8" else 0.0,
    }
    return KernelCall(f"th_pad_{sfx}", f"th_pad_{sfx}_params", params, (op.inputs[0], op.outputs[0]))


def lower_concatenation(op: Operator, graph: Graph) -> KernelCall:
    """CONCATENATION along any (possibly negative) axis: a copy of the values.

    Refused, as TFLM's Prepare refuses them: fused activations other than NONE, and int8 inputs whose
    scale or zero point differ from the output's (TFLM never requantizes in CONCATENATION).
    """
    out = graph.output(op)
    inputs = [graph.input(op, k) for k in range(len(op.inputs))]
    if any(t is None for t in inputs) or not inputs:
        raise ModelError(f"CONCATENATION at position {op.index} has a missing input")
    sfx = _suffix(op, out, *inputs)
    activation = op.options.get("fused_activation_function", "NONE")
    if activation != "NONE":
        raise UnsupportedOperatorError(op.opcode, op.index, f"fused activation {activation}")
    if sfx == "s8":
        for t in inputs:
            if (t.scale, t.zero_point) != (out.scale, out.zero_point):
                raise UnsupportedOperatorError(
                    op.opcode, op.index,
                    f"int8 input {t.name} has scale {t.scale:g}/zero point {t.zero_point}, output "
                    f"{out.scale:g}/{out.zero_point}; requantizing concatenation is not supported (nor by TFLM)")
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or any(len(t.shape) != rank for t in inputs):
        raise ModelError(f"CONCATENATION at position {op.index}: axis {op.options.get('axis')} or input ranks "
                         f"do not fit output rank {rank}")
    want = list(inputs[0].shape)
    want[axis] = sum(t.shape[axis] for t in inputs)
    if out.shape != tuple(want):
        raise _mismatch(op, out.shape, tuple(want))
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    copy_sizes = np.array([int(np.prod(t.shape[axis:], dtype=np.int64)) for t in inputs], np.int32)
    params = {"num_inputs": len(inputs), "outer_size": outer, "copy_sizes": ConstArray("int32_t", copy_sizes)}
    return KernelCall(f"th_concatenation_{sfx}", "th_concatenation_params", params,
                      (*op.inputs, op.outputs[0]))


_LOWER = {
    "RESHAPE": lower_reshape,
    "TRANSPOSE": lower_transpose,
    "PAD": lower_pad,
    "CONCATENATION": lower_concatenation,
}


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one of RESHAPE, TRANSPOSE, PAD, CONCATENATION (dispatch on the opcode)."""
    fn = _LOWER.get(op.opcode)
    if fn is None:
        raise UnsupportedOperatorError(op.opcode, op.index)
    return fn(op, graph)
