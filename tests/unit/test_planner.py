"""The arena planner's proof (planner.check_plan), in-place sharing (fuse.in_place) and the input kept alive."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.codegen import fuse
from harness.codegen.compiler import compile_model
from harness.codegen.graph import Graph, Operator, Tensor
from harness.codegen.planner import ArenaPlan, Buffer, check_plan, plan_arena
from harness.errors import PlanError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _t(i, shape, const=False):
    return Tensor(i, f"t{i}", shape, "int8", None, np.zeros(shape, np.int8) if const else None)


def brute_force_overlaps(plan: ArenaPlan) -> list[tuple[int, int]]:
    """Every pair of buffers live at one operator whose bytes intersect (checked byte range by byte range)."""
    bad = []
    for i, a in enumerate(plan.buffers):
        for b in plan.buffers[i + 1:]:
            if a.overlaps_in_time(b) and set(range(a.offset, a.offset + a.nbytes)) & set(
                    range(b.offset, b.offset + b.nbytes)):
                bad.append((a.key, b.key))
    return bad


def random_graph(seed: int) -> Graph:
    """A chain of 14 operators, some reading older tensors, ADDs on equal shapes, a RESHAPE, a constant."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 300)) for _ in range(15)]
    tensors = [_t(i, (s,)) for i, s in enumerate(sizes)] + [_t(15, (4,), const=True)]
    ops = []
    for i in range(14):
        kind = rng.choice(["ADD", "RESHAPE", "CONV_2D"])
        if kind == "RESHAPE":
            tensors[i + 1] = _t(i + 1, (sizes[i],))
            ops.append(Operator(i, "RESHAPE", (i, 15), (i + 1,)))
        elif kind == "ADD":
            tensors[i + 1] = _t(i + 1, (sizes[i],))
            other = int(rng.integers(max(0, i - 3), i + 1))
            ops.append(Operator(i, "ADD", (i, other if sizes[other] == sizes[i] else 15), (i + 1,)))
        else:
            ops.append(Operator(i, "CONV_2D", (i, max(0, i - 2), 15), (i + 1,)))
    return Graph(tuple(tensors), tuple(ops), (0,), (14,))


@pytest.mark.parametrize("seed", range(25))
def test_plans_with_sharing_are_proven_and_really_disjoint(seed):
    g = random_graph(seed)
    share = fuse.in_place(g)
    scratch = {i: 8 * (i % 3) for i in range(len(g.operators))}
    plan = plan_arena(g, scratch, keep_inputs=True, share=share)
    check_plan(plan, g, scratch, keep_inputs=True)
    declared = {frozenset(p) for p in plan.shared}
    assert all(frozenset(p) in declared for p in brute_force_overlaps(plan))
    assert plan.arena_bytes >= plan.live_peak_bytes()
    for out, inp in plan.shared:  # a shared input dies where its successor is born, and is no graph input
        assert inp not in g.inputs and plan.offset_of(out) == plan.offset_of(inp)


def test_check_plan_refuses_overlapping_live_buffers():
    a, b = Buffer(1, "a", 64, 0, 2, 0), Buffer(2, "b", 32, 1, 3, 48)
    with pytest.raises(PlanError, match="'a'.*'b'.*overlap"):
        check_plan(ArenaPlan((a, b), 96))
    check_plan(ArenaPlan((a, replace(b, offset=64)), 96))  # disjoint: fine
    check_plan(ArenaPlan((a, replace(b, first=3)), 96))    # not live together: fine


def test_check_plan_refuses_bad_sharing_outside_arena_and_lies_about_lifetimes():
    a, b = Buffer(1, "a", 64, 0, 1, 0), Buffer(2, "b", 64, 1, 2, 0)
    check_plan(ArenaPlan((a, b), 64, ((2, 1),)))  # in place at op 1: declared, same offset
    with pytest.raises(PlanError, match="in-place"):
        check_plan(ArenaPlan((replace(a, last=2), b), 64, ((2, 1),)))  # the input still lives after op 1
    with pytest.raises(PlanError, match="overlap"):
        check_plan(ArenaPlan((a, b), 64))  # same bytes, not declared
    with pytest.raises(PlanError, match="outside"):
        check_plan(ArenaPlan((a, replace(b, offset=64)), 64))
    g = Graph((_t(0, (64,)), _t(1, (64,))), (Operator(0, "CONV_2D", (0,), (1,)),), (0,), (1,))
    lie = ArenaPlan((Buffer(0, "t0", 64, 0, 0, 0), Buffer(1, "t1", 64, 1, 1, 0)), 64)
    with pytest.raises(PlanError, match="graph needs"):
        check_plan(lie, g)


def test_in_place_rules():
    t = [_t(0, (2, 3)), _t(1, (6,)), _t(2, (6,)), _t(3, (1,)), _t(4, (6,)), _t(5, (6,)), _t(6, (6,))]
    ops = (
        Operator(0, "RESHAPE", (0,), (1,)),      # its input is the graph input, kept alive: not shared
        Operator(1, "ADD", (1, 1), (2,)),        # x + x, x dies here: shared
        Operator(2, "ADD", (3, 2), (4,)),        # 3 is broadcast (and a graph input); 2 has the shape: shared
        Operator(3, "MUL", (4, 4), (6,)),        # 4 is read again by step 4: not shared
        Operator(4, "ADD", (4, 6), (5,)),        # 4 dies here: the graph output takes its bytes
    )
    g = Graph(tuple(t), ops, (0, 3), (5,))
    share = fuse.in_place(g)
    assert share == {2: 1, 4: 2, 5: 4}
    plan = plan_arena(g, keep_inputs=True, share=share)
    check_plan(plan, g, keep_inputs=True)
    assert len({plan.offset_of(k) for k in (1, 2, 4, 5)}) == 1 and plan.offset_of(6) != plan.offset_of(4)
    assert fuse.in_place(g, keep_inputs=False)[1] == 0  # a graph input that may die is shared by RESHAPE


def test_compiled_input_survives_every_operator():
    compiled = compile_model(FIXTURES / "ic_resnet8_int8.tflite")
    inp = compiled.graph.inputs[0]
    buf = next(b for b in compiled.plan.buffers if b.key == inp)
    assert buf.last == len(compiled.steps.operators) - 1
    assert all(inp not in pair for pair in compiled.plan.shared)
    check_plan(compiled.plan, compiled.steps, {i: c.scratch_bytes for i, c in enumerate(compiled.calls)},
               keep_inputs=True)
