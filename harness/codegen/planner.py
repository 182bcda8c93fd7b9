"""Static tensor-arena planner, with in-place sharing and a proof that no two live tensors overlap.

Every non-constant tensor (and every operator's scratch buffer) lives from the operator that first writes it
to the last operator that reads it; graph outputs live to the end.  Graph inputs are live from the start and,
with ``keep_inputs`` (what the compiler uses), to the end too: the loaded input survives any number of
inferences (``infer N W``, issue 12 item 3).  Buffers whose lifetimes do not overlap may share bytes.
Placement is greedy, largest buffer first, each at the lowest aligned offset that does not collide with an
already placed buffer whose lifetime overlaps: the scheme of TFLM's GreedyMemoryPlanner (re-implemented, not
copied).

In-place sharing (``share``): ``{output tensor: input tensor}`` pairs of one operator whose output may take the
input's bytes, either because it is the same bytes (RESHAPE aliases its input) or because the operator reads
each input element before writing the output element at the same index and the input dies there (element-wise
ops).  Shared tensors form one group placed as one buffer (size: the largest member, lifetime: the union).

:func:`check_plan` re-derives every tensor's byte range and lifetime from the plan and raises
:class:`~harness.errors.PlanError` if two tensors that are live at the same operator overlap in the arena,
unless they are a declared sharing pair at the very operator where one hands its bytes to the other (same
offset, the input's last use is the output's first).  The compiler runs it on every plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.codegen.graph import Graph
from harness.errors import PlanError

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

    def overlaps_in_space(self, other: "Buffer") -> bool:
        return self.offset < other.offset + other.nbytes and other.offset < self.offset + self.nbytes


@dataclass(frozen=True)
class ArenaPlan:
    """Offsets of every activation buffer. ``arena_bytes`` is the peak (the arena size to allocate).

    ``shared`` holds the (output tensor, input tensor) pairs placed at the same offset (in place)."""

    buffers: tuple[Buffer, ...]
    arena_bytes: int
    shared: tuple[tuple[int, int], ...] = ()

    def offset_of(self, key: int) -> int:
        for b in self.buffers:
            if b.key == key:
                return b.offset
        raise KeyError(key)

    def aliases(self, output: int) -> int | None:
        """The input tensor whose bytes ``output`` takes over in place, or None."""
        return dict(self.shared).get(output)

    def live_peak_bytes(self) -> int:
        """Largest sum of live buffer sizes at any operator (each shared group counted once): the lower bound
        any plan of these lifetimes must reach."""
        last_op = max((b.last for b in self.buffers), default=-1)
        merged = {o for o, _ in self.shared}
        return max((sum(b.nbytes for b in self.buffers if b.first <= i <= b.last and b.key not in merged)
                    for i in range(last_op + 1)), default=0)


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def lifetimes(graph: Graph, scratch: dict[int, int] | None = None, keep_inputs: bool = False) -> list[Buffer]:
    """Buffers with lifetimes (offset unset). ``scratch`` maps operator index -> scratch bytes; with
    ``keep_inputs`` graph inputs live until the last operator."""
    n_ops = len(graph.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in graph.inputs:
        first[t] = 0
        last[t] = n_ops - 1 if keep_inputs else 0
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


def _groups(buffers: list[Buffer], share: dict[int, int]) -> dict[int, list[Buffer]]:
    """Union the sharing pairs: group root key -> member buffers."""
    parent = {b.key: b.key for b in buffers}

    def root(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    for out, inp in share.items():
        parent[root(out)] = root(inp)
    groups: dict[int, list[Buffer]] = {}
    for b in buffers:
        groups.setdefault(root(b.key), []).append(b)
    return groups


def plan_arena(graph: Graph, scratch: dict[int, int] | None = None, *, keep_inputs: bool = False,
               share: dict[int, int] | None = None) -> ArenaPlan:
    """Place every activation and scratch buffer; returns the plan and its peak size in bytes.

    ``share``: {output tensor: input tensor} pairs to place in place (see the module docstring); the caller
    is responsible for their being safe for the operator's kernel, :func:`check_plan` for the lifetimes.
    """
    share = dict(share or {})
    buffers = lifetimes(graph, scratch, keep_inputs)
    groups = _groups(buffers, share)
    todo = sorted(
        (Buffer(key, members[0].name, max(m.nbytes for m in members), min(m.first for m in members),
                max(m.last for m in members)) for key, members in groups.items()),
        key=lambda b: (-b.nbytes, b.first, b.key))
    placed: list[Buffer] = []
    for buf in todo:
        conflicts = sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + _align(buf.nbytes) <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.nbytes))
        placed.append(Buffer(buf.key, buf.name, buf.nbytes, buf.first, buf.last, offset))
    offsets = {p.key: p.offset for p in placed}
    out = [Buffer(b.key, b.name, b.nbytes, b.first, b.last, offsets[key])
           for key, members in groups.items() for b in members]
    arena = _align(max((b.offset + b.nbytes for b in out), default=0))
    return ArenaPlan(tuple(sorted(out, key=lambda b: (b.offset, b.key))), arena, tuple(sorted(share.items())))


def check_plan(plan: ArenaPlan, graph: Graph | None = None, scratch: dict[int, int] | None = None, *,
               keep_inputs: bool = False) -> None:
    """Prove the plan safe: raise PlanError unless every pair of buffers live at the same operator occupies
    disjoint bytes, every buffer lies inside the arena at an aligned offset, and the only overlaps are the
    declared in-place pairs at the operator where the input dies and the output is born, at equal offsets.

    With ``graph`` the lifetimes and sizes are recomputed from it (so a plan cannot vouch for itself) and
    every buffer the graph needs must be in the plan.
    """
    buffers = {b.key: b for b in plan.buffers}
    if graph is not None:
        for want in lifetimes(graph, scratch, keep_inputs):
            got = buffers.get(want.key)
            if got is None:
                raise PlanError(f"tensor {want.name!r} has no place in the arena plan")
            if (got.nbytes, got.first, got.last) != (want.nbytes, want.first, want.last):
                raise PlanError(f"tensor {want.name!r}: plan says {got.nbytes} B live {got.first}-{got.last}, the "
                                f"graph needs {want.nbytes} B live {want.first}-{want.last}")
    pairs = {frozenset(p) for p in plan.shared}
    for out, inp in plan.shared:
        a, b = buffers.get(out), buffers.get(inp)
        if a is None or b is None or a.offset != b.offset or b.last != a.first or a.nbytes > _align(b.nbytes):
            raise PlanError(f"in-place pair (tensor {out} over tensor {inp}) is not at one offset where the input "
                            "dies and the output is born")
    ordered = sorted(plan.buffers, key=lambda b: b.offset)
    for i, a in enumerate(ordered):
        if a.offset < 0 or a.offset % ALIGNMENT or a.offset + a.nbytes > plan.arena_bytes:
            raise PlanError(f"buffer {a.name!r} at offset {a.offset} (+{a.nbytes} B) is unaligned or outside the "
                            f"{plan.arena_bytes}-byte arena")
        for b in ordered[i + 1:]:
            if b.offset >= a.offset + a.nbytes:
                break  # sorted by offset: no later buffer reaches back into a
            if a.overlaps_in_time(b) and frozenset((a.key, b.key)) not in pairs:
                raise PlanError(f"buffers {a.name!r} (ops {a.first}-{a.last}) and {b.name!r} (ops {b.first}-"
                                f"{b.last}) are live together and overlap at arena offset {b.offset}")
