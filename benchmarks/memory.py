"""Tensor arenas and instruction counts with and without conv + pool fusion and in-place sharing.

    python benchmarks/memory.py [--model M.tflite ...] [--twin stm32f746 ...] [--inputs 2]

Arena columns (bytes, no build needed): ``greedy`` is the planner without fusion, sharing or a kept input (the
compiler before issue 11/12: the input may be overwritten by operator 1), ``unfused`` keeps the input alive for
the whole inference (issue 12 item 3) without fusion or sharing, ``fused`` is what the compiler now emits
(fusion + in-place + the kept input), ``tflm`` the arena TFLM's host interpreter needs for the same model.
With ``--twin`` each model whose code changed is also built both ways (``greedy``, the code before, in its own
build root, and ``fused``) and run on the twin with the same random inputs: median instructions per inference of each, their ratio, and whether every output of both
equals the host TFLM interpreter's.  Defaults: ACDNet-20 and every fixture model of the zoo, no twin runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.boards import get_board  # noqa: E402
from harness.codegen.compiler import compile_model  # noqa: E402
from harness.codegen.emitter import emit_model  # noqa: E402
from harness.codegen.planner import plan_arena  # noqa: E402
from harness.errors import MemoryOverflowError, TinyhilError  # noqa: E402
from harness.orchestrate import BUILD_ROOT, BuildOptions, connect, prepare  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "models"


def arenas(path: Path) -> dict:
    """The four arena figures of one model (bytes)."""
    plain, fused = compile_model(path, fusion=False), compile_model(path)
    scratch = {i: c.scratch_bytes for i, c in enumerate(plain.calls) if c.scratch_bytes}
    # in a child process: TFLM's host interpreter crashes (SIGSEGV) on some fixtures while bisecting the arena
    code = ("import sys; from pathlib import Path; from harness.backends.tflm_model import host_arena_bytes; "
            "print(host_arena_bytes(Path(sys.argv[1]).read_bytes()))")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, capture_output=True, text=True)
    tflm = int(proc.stdout) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None
    plan = plan_arena(plain.graph, scratch)  # the compiler before: no fusion, no sharing, input not kept
    greedy = replace(plain, plan=plan, sources=emit_model(plain.graph, plan, list(plain.calls), path.name))
    return {"greedy": plan.arena_bytes, "unfused": plain.plan.arena_bytes,
            "fused": fused.plan.arena_bytes, "tflm": tflm,
            "steps": f"{len(fused.steps.operators)}/{len(fused.graph.operators)}", "before": greedy, "fused_c": fused}


def run(compiled, board: str, build_root: Path, inputs: int) -> tuple[int | str, bool]:
    try:
        fw = prepare(compiled, get_board(board).target(True), BuildOptions(), build_root=build_root)
    except MemoryOverflowError as exc:
        return f"does not fit: {exc.region} +{exc.overflow_bytes:,} B", True
    rng = np.random.default_rng(0)
    tensor = compiled.input_tensor
    counts, exact = [], True
    with tempfile.TemporaryDirectory() as tmp, connect(fw, run_dir=Path(tmp)) as dut:
        for _ in range(inputs):
            x = rng.integers(-128, 128, tuple(tensor.shape)).astype(tensor.dtype)
            out, c = dut.infer(x)
            exact &= bool(np.array_equal(out, dut.reference(x)))
            counts.append(c.value)
    return int(np.median(counts)), exact


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", help="a .tflite file (repeatable)")
    ap.add_argument("--twin", action="append", default=[], help="also run fused vs unfused on this twin")
    ap.add_argument("--inputs", type=int, default=2, help="random inputs per twin run (default 2)")
    args = ap.parse_args()
    if args.model:
        models = [Path(m) for m in args.model]
    else:
        from harness.data.fetch import fetch_model

        models = [fetch_model("acdnet20-int8", None)] + sorted(FIXTURES.glob("*.tflite"))
    print("| model | steps/ops | greedy B | unfused (input kept) B | fused B | tflm B |")
    print("|---|--:|--:|--:|--:|--:|")
    results = {}
    for m in models:
        try:
            a = arenas(m)
        except TinyhilError as exc:
            print(f"| {m.stem} | not compiled: {exc} | | | | |", flush=True)
            continue
        results[m] = a
        tflm = f"{a['tflm']:,}" if a["tflm"] is not None else "-"
        print(f"| {m.stem} | {a['steps']} | {a['greedy']:,} | {a['unfused']:,} | {a['fused']:,} | {tflm} |",
              flush=True)
    if not args.twin:
        return
    print("\n| model | twin | before (greedy) instructions | fused instructions | fused / before | bit-exact |")
    print("|---|---|--:|--:|--:|:-:|")
    for m, a in results.items():
        if a["steps"].split("/")[0] == a["steps"].split("/")[1] and not a["fused_c"].plan.shared:
            continue  # the same code both ways
        for board in args.twin:
            before, ok1 = run(a["before"], board, BUILD_ROOT.parent / "build-unfused", args.inputs)
            after, ok2 = run(a["fused_c"], board, BUILD_ROOT, args.inputs)
            ratio = f"{after / before:.4f}" if isinstance(before, int) and isinstance(after, int) else ""
            fmt = (lambda v: f"{v:,}" if isinstance(v, int) else v)
            print(f"| {m.stem} | {board} | {fmt(before)} | {fmt(after)} | {ratio} | {'yes' if ok1 and ok2 else 'NO'} |",
                  flush=True)


if __name__ == "__main__":
    main()
