"""Per-operator instructions of tinyhil's generated code next to TFLM + CMSIS-NN on one twin, so a slow layer is
visible at once (the per-layer half of benchmarks/backends.py).

    python benchmarks/profile_backends.py [--model M.tflite] [--board stm32f746] [--backend tflm-cmsis-nn]

Default model: ACDNet-20 (from $TINYHIL_LOCAL_DIR or its public source); the TFLM sources come from
$TINYHIL_LOCAL_DIR (e.g. ../shared).  Each backend's firmware is built with per-operator timer reads
(harness.metrics.profile.run_profile, the code behind `tinyhil profile`); counts are exact instructions on the
twin with the timer read removed.  Rows are matched by operator index; an operator that one backend runs fused
with another shows its count on the first operator's row and "fused" on the other's.  Prints a Markdown
table: operator, output shape, MACs, instructions per backend, ratio tinyhil / other, and the totals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.backends import Backend, parse_backend  # noqa: E402
from harness.boards import get_board  # noqa: E402
from harness.errors import TinyhilError  # noqa: E402
from harness.metrics.profile import run_profile  # noqa: E402


def rows_by_index(model: Path, board: str, backend: Backend) -> tuple[dict[int, object], int]:
    """{operator index: OperatorRow} of one backend's profile on the board's twin, and the whole-inference count.
    A fused step (one row named "CONV_2D+MAX_POOL_2D") is keyed by its first operator's index in the model."""
    run = run_profile(model, get_board(board).target(True), backend=backend)
    rows, first = {}, 0
    for r in sorted(run.profile.rows, key=lambda r: r.index):  # steps in graph order; "A+B" covers two operators
        rows[first] = r
        first += r.operator.count("+") + 1
    return rows, run.profile.whole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a .tflite file (default: ACDNet-20)")
    ap.add_argument("--board", default="stm32f746", help="a board with a twin (default stm32f746)")
    ap.add_argument("--backend", default="tflm-cmsis-nn", help="the backend to compare with (default tflm-cmsis-nn)")
    args = ap.parse_args()
    if args.model:
        model = Path(args.model)
    else:
        from harness.data.fetch import fetch_model

        model = fetch_model("acdnet20-int8", None)
    other = parse_backend(args.backend)
    try:
        ours, ours_whole = rows_by_index(model, args.board, Backend.TINYHIL)
        theirs, theirs_whole = rows_by_index(model, args.board, other)
    except TinyhilError as exc:
        sys.exit(f"error: {exc}")
    print(f"{model.name} on the {args.board} twin: instructions per operator\n")
    print(f"| # | operator | shape | MACs | tinyhil | {other.value} | ratio |")
    print("|--:|---|---|--:|--:|--:|--:|")
    for i in sorted(set(ours) | set(theirs)):
        a, b = ours.get(i), theirs.get(i)
        ref = a or b
        ca = f"{a.count:,}" if a else "fused"
        cb = f"{b.count:,}" if b else "fused"
        ratio = f"{a.count / b.count:.2f}" if a and b and b.count else ""
        print(f"| {i} | {ref.operator} | {ref.shape} | {ref.macs:,} | {ca} | {cb} | {ratio} |")
    print(f"| | **whole inference** | | | **{ours_whole:,}** | **{theirs_whole:,}** | "
          f"**{ours_whole / theirs_whole:.2f}** |")


if __name__ == "__main__":
    main()
