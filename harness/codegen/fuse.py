"""Operator fusion and in-place sharing: the schedule of kernel calls the firmware runs.

:func:`schedule` rewrites a TFLite graph into the sequence of steps ``th_model_invoke()`` runs.  A step is one
operator, or a convolution fused with the MAX_POOL_2D that consumes its only output: the fused step
(``opcode`` "CONV_2D+MAX_POOL_2D", or "DEPTHWISE_CONV_2D+MAX_POOL_2D") computes the convolution in strips into
a small scratch buffer and max-pools each strip straight into the pool's output, so the convolution's output
tensor is never materialized (ACDNet-20's conv2 output: 241,696 bytes).  It stays bit-exact: every conv output
is requantized and clamped by the conv kernel exactly as unfused, then the pool takes the max of those int8
values and applies its own clamp (targets/kernels/th_fused_conv_maxpool.h).

A strip is one pool output row over the full width (the conv rows its windows cover), or, when the conv input
has a single row (1-D signals as ACDNet-20's first layers), a few pool output columns: the input slice is then
contiguous, so the conv kernel runs unchanged on a sliced geometry (input window, adjusted padding, strip
output size).  Fusion is applied only when pool windows do not overlap along the strip direction (stride >=
filter), so no conv output is computed twice and the fused step never needs more instructions than the pair.

:func:`in_place` names the (output, input) tensor pairs that may share bytes: RESHAPE's output is its input
(the emitter then emits no copy), and an int8/float ADD or MUL may write over a same-shape, same-dtype input
that dies there, because th_elementwise.c reads element i of each input before it writes output element i and
never returns to it.  A fused step (batch 1) may write its pooled output over its conv input when, strip by
strip, the output bytes written so far end before the first input byte any later strip reads (each strip reads
its input into the conv strip before the pool writes): ACDNet-20's 1-D conv2 + pool qualifies (pool output
x at byte 32x, its last input at byte 400x + 412).  The planner places such pairs at one offset;
planner.check_plan proves the lifetimes.
"""

from __future__ import annotations

from dataclasses import replace

from harness.codegen import ops
from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.errors import UnsupportedOperatorError

#: Scratch budget (bytes) for the conv strip of a column-tiled (1-D) fused step; at least one pool window.
STRIP_BUDGET_BYTES = 4096
_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")
_IN_PLACE_OPS = ("ADD", "MUL")


def _consumers(graph: Graph) -> dict[int, list[Operator]]:
    users: dict[int, list[Operator]] = {}
    for op in graph.operators:
        for t in op.inputs:
            if t >= 0:
                users.setdefault(t, []).append(op)
    return users


def _tiling(conv: KernelCall, pool: KernelCall) -> tuple[int, int] | None:
    """(pool output columns per strip, strip bytes) for a fusable pair, or None when fusion would not pay."""
    c, q = conv.params, pool.params
    if c["batches"] != q["batches"] or (c["out_h"], c["out_w"], c["out_c"]) != (q["in_h"], q["in_w"], q["channels"]):
        return None
    if q["stride_h"] < q["filter_h"] or q["stride_w"] < q["filter_w"]:
        return None  # overlapping windows would recompute conv outputs
    rows = min(q["filter_h"], c["out_h"])
    eff_h = (c["filter_h"] - 1) * c["dilation_h"] + 1
    eff_w = (c["filter_w"] - 1) * c["dilation_w"] + 1
    if c["in_h"] == 1 and c["out_h"] == 1:  # 1-D: tile along the columns
        per_window = q["filter_w"] * c["out_c"]
        tile = max(1, min(q["out_w"], STRIP_BUDGET_BYTES // per_window))
        cols = tile * q["filter_w"]
    else:
        tile, cols = q["out_w"], c["out_w"]
    # every strip must read at least one input row and column (else the conv kernel would see an empty input)
    for py in range(q["out_h"]):
        cy0 = max(0, py * q["stride_h"] - q["pad_h"])
        cy1 = min(c["out_h"], py * q["stride_h"] - q["pad_h"] + q["filter_h"])
        lo, hi = cy0 * c["stride_h"] - c["pad_top"], (cy1 - 1) * c["stride_h"] - c["pad_top"] + eff_h
        if cy1 <= cy0 or min(c["in_h"], hi) - max(0, lo) < 1:
            return None
    if tile < q["out_w"]:
        for px0 in range(0, q["out_w"], tile):
            px1 = min(q["out_w"], px0 + tile)
            cx0 = max(0, px0 * q["stride_w"] - q["pad_w"])
            cx1 = min(c["out_w"], (px1 - 1) * q["stride_w"] - q["pad_w"] + q["filter_w"])
            lo, hi = cx0 * c["stride_w"] - c["pad_left"], (cx1 - 1) * c["stride_w"] - c["pad_left"] + eff_w
            if cx1 <= cx0 or min(c["in_w"], hi) - max(0, lo) < 1:
                return None
    strip = rows * cols * c["out_c"]
    return tile, (strip + 3) // 4 * 4


def _fusable(conv_op: Operator, pool_op: Operator, graph: Graph) -> tuple[KernelCall, KernelCall, int, int] | None:
    try:
        conv, pool = ops.lower(conv_op, graph), ops.lower(pool_op, graph)
    except UnsupportedOperatorError:
        return None  # the unfused lowering reports it, at the operator's own position
    if conv.params_type != "th_conv_s8_params" or pool.params_type != "th_pool_s8_params" \
            or not pool.function.startswith("th_max_pool2d_"):  # any int8 max-pool variant: same params
        return None
    tiling = _tiling(conv, pool)
    return None if tiling is None else (conv, pool, *tiling)


def schedule(graph: Graph) -> Graph:
    """The graph of steps: the same tensors, with each fusable conv + MAX_POOL_2D pair as one operator whose
    ``options["fused"]`` holds the two TFLite operators.  Operators are renumbered in execution order."""
    users = _consumers(graph)
    steps: list[Operator] = []
    skip: set[int] = set()
    for op in graph.operators:
        if op.index in skip:
            continue
        out = op.outputs[0] if op.outputs else -1
        nxt = users.get(out, [])
        if (op.opcode in _CONVS and len(op.outputs) == 1 and out not in graph.outputs and len(nxt) == 1
                and nxt[0].opcode == "MAX_POOL_2D" and nxt[0].index == op.index + 1
                and _fusable(op, nxt[0], graph) is not None):
            pool = nxt[0]
            skip.add(pool.index)
            steps.append(Operator(len(steps), f"{op.opcode}+{pool.opcode}", op.inputs, pool.outputs,
                                  {"fused": (op, pool)}))
        else:
            steps.append(replace(op, index=len(steps)))
    return replace(graph, operators=tuple(steps))


def lower(step: Operator, graph: Graph) -> KernelCall:
    """Lower one step of :func:`schedule`: a fused pair to ``th_fused_conv_maxpool_s8``, anything else through
    the operator table (raises UnsupportedOperatorError as :func:`harness.codegen.ops.lower`)."""
    fused = step.options.get("fused")
    if not fused:
        return ops.lower(step, graph)
    conv_op, pool_op = fused
    conv, pool, tile, strip = _fusable(conv_op, pool_op, graph)
    params = {
        "conv": conv.params,
        "pool": pool.params,
        "conv_kernel": "NULL" if conv.scratch_bytes else conv.function,
        "conv_kernel_scratch": conv.function if conv.scratch_bytes else "NULL",
        "tile_pool_cols": tile,
        "strip_bytes": strip,
    }
    args = (conv_op.inputs[0], conv_op.inputs[1], pool_op.outputs[0])
    return KernelCall("th_fused_conv_maxpool_s8", "th_fused_conv_maxpool_s8_params", params, args,
                      macs=conv.macs + pool.macs, scratch_bytes=strip + conv.scratch_bytes)


def _strips(c: dict, q: dict, tile: int) -> list[tuple[int, int]]:
    """Per strip, in execution order: (first input byte it reads, end of the output bytes written after it),
    for batch 1 (th_fused_conv_maxpool_s8's loop order)."""
    out: list[tuple[int, int]] = []
    for py in range(q["out_h"]):
        cy0 = max(0, py * q["stride_h"] - q["pad_h"])
        in_y0 = max(0, cy0 * c["stride_h"] - c["pad_top"])
        for px0 in range(0, q["out_w"], tile):
            px1 = min(q["out_w"], px0 + tile)
            in_x0 = 0
            if tile < q["out_w"]:
                in_x0 = max(0, max(0, px0 * q["stride_w"] - q["pad_w"]) * c["stride_w"] - c["pad_left"])
            out.append(((in_y0 * c["in_w"] + in_x0) * c["in_c"], (py * q["out_w"] + px1) * q["channels"]))
    return out


def _fused_in_place(step: Operator, graph: Graph) -> bool:
    """Whether a fused step may write its output over its conv input: batch 1, and every strip's output bytes
    end before the first input byte any later strip reads (each strip reads its input before writing)."""
    conv_op, pool_op = step.options["fused"]
    conv, pool, tile, _ = _fusable(conv_op, pool_op, graph)
    if conv.params["batches"] != 1:
        return False
    strips = _strips(conv.params, pool.params, tile)
    return all(strips[k][1] <= min(r for r, _ in strips[k + 1:]) for k in range(len(strips) - 1))


def in_place(graph: Graph, keep_inputs: bool = True) -> dict[int, int]:
    """{output tensor: input tensor} pairs of ``graph``'s steps that may share bytes (see the module docstring).

    An input qualifies only if this step is its last reader, it is not a graph input kept alive
    (``keep_inputs``) nor a graph output, and it is not already taken over by another output."""
    last: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            if t >= 0 and not graph.tensors[t].is_constant:
                last[t] = op.index
    protected = set(graph.outputs) | (set(graph.inputs) if keep_inputs else set())
    share: dict[int, int] = {}
    taken: set[int] = set()
    for op in graph.operators:
        fused = op.options.get("fused")
        if len(op.outputs) != 1 or not (fused or op.opcode in ("RESHAPE", *_IN_PLACE_OPS)):
            continue
        if fused and not _fused_in_place(op, graph):
            continue
        out = graph.tensors[op.outputs[0]]
        candidates = op.inputs[:1] if op.opcode == "RESHAPE" or fused else op.inputs[:2]
        for t in candidates:
            if t < 0 or t in protected or t in taken or last.get(t) != op.index:
                continue
            inp = graph.tensors[t]
            if fused:
                if inp.dtype != out.dtype or out.nbytes > inp.nbytes:
                    continue
            elif inp.is_constant or inp.dtype != out.dtype or inp.nbytes != out.nbytes:
                continue
            elif op.opcode != "RESHAPE" and tuple(inp.shape) != tuple(out.shape):
                continue  # a broadcast operand is read at other indices than the one being written
            share[out.index] = t
            taken.add(t)
            break
    return share
