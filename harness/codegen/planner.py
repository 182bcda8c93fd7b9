"""Static tensor-arena planner.

Every non-constant tensor (and every operator's scratch buffer) lives from the operator that first writes it
to the last operator that reads it; graph inputs are live from the start and graph outputs to the end.
Buffers whose lifetimes do not overlap may share bytes.  Placement is greedy, largest buffer first, each at
the lowest aligned offset that does not collide with an already placed buffer whose lifetime overlaps: the
scheme of TFLM's GreedyMemoryPlanner (re-implemented, not copied).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.codegen.graph import Graph

ALIGNMENT = 16  # bytes; enough for any kernel's vector loads


@dataclass(frozen=True)
class Buffer:
    """One arena buffer: a tensor index (or ``-1 - op_index`` for an operator's scratch), its size in
    bytes, first and last operator index of its lifetime, and the offset the plan gave it."""

    key: int
    name: str
    nbytes: int
    first: int
    last: int
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return not (self.last < other.first or other.last < self.first)


@dataclass(frozen=True)
class ArenaPlan:
    """Offsets of every activation buffer. ``arena_bytes`` is the peak (the arena size to allocate)."""

    buffers: tuple[Buffer, ...]
    arena_bytes: int

    def offset_of(self, key: int) -> int:
        for b in self.buffers:
            if b.key == key:
                return b.offset
        raise KeyError(key)

    def live_peak_bytes(self) -> int:
        """Largest sum of live buffer sizes at any operator: the lower bound any plan must reach."""
        last_op = max((b.last for b in self.buffers), default=-1)
        return max((sum(b.nbytes for b in self.buffers if b.first <= i <= b.last) for i in range(last_op + 1)),
                   default=0)


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def lifetimes(graph: Graph, scratch: dict[int, int] | None = None) -> list[Buffer]:
    """Buffers with lifetimes (offset unset). ``scratch`` maps operator index -> scratch bytes."""
    n_ops = len(graph.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in graph.inputs:
        first[t] = 0
        last[t] = 0
    for op in graph.operators:
        for t in op.outputs:
            first.setdefault(t, op.index)
            last[t] = max(last.get(t, op.index), op.index)
        for t in op.inputs:
            if t >= 0 and not graph.tensors[t].is_constant:
                first.setdefault(t, op.index)
                last[t] = max(last.get(t, op.index), op.index)
    for t in graph.outputs:
        last[t] = n_ops - 1
    buffers = [
        Buffer(t, graph.tensors[t].name, graph.tensors[t].nbytes, first[t], last[t])
        for t in sorted(first)
        if not graph.tensors[t].is_constant
    ]
    for op_index, nbytes in sorted((scratch or {}).items()):
        if nbytes > 0:
            buffers.append(Buffer(-1 - op_index, f"scratch{op_index}", nbytes, op_index, op_index))
    return buffers


def plan_arena(graph: Graph, scratch: dict[int, int] | None = None) -> ArenaPlan:
    """Place every activation and scratch buffer; returns the plan and its peak size in bytes."""
    todo = sorted(lifetimes(graph, scratch), key=lambda b: (-b.nbytes, b.first, b.key))
    placed: list[Buffer] = []
    for buf in todo:
        conflicts = sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + _align(buf.nbytes) <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.nbytes))
        placed.append(Buffer(buf.key, buf.name, buf.nbytes, buf.first, buf.last, offset))
    arena = _align(max((b.offset + b.nbytes for b in placed), default=0))
    return ArenaPlan(tuple(sorted(placed, key=lambda b: (b.offset, b.key))), arena)
