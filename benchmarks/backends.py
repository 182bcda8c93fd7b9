"""Deployment backends side by side on the twins: instructions per inference with tinyhil's generated code, TFLM
(reference kernels) and TFLM + CMSIS-NN, the ratio tinyhil / tflm-cmsis-nn, memory per backend, bit-exactness.

    python benchmarks/backends.py [--model M.tflite ...] [--board stm32f746 ...] [--backend tinyhil ...] [--inputs 2]

Defaults: ACDNet-20 (the demo model, from $TINYHIL_LOCAL_DIR or its public source) and the fixture models
(raw_mini, the four MLPerf Tiny architectures) on the stm32f746, nrf52840 and rp2040 twins.  Firmware and the
TFLM libraries are cached (.tinyhil/build, ~/.cache/tinyhil), so a rerun costs only the twin runs.  Counts are
exact instructions on the twins (the same random int8 inputs for every backend); every output is compared with
the host TFLM interpreter.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.backends import Backend, parse_backend  # noqa: E402
from harness.boards import get_board  # noqa: E402
from harness.errors import MemoryOverflowError, TinyhilError  # noqa: E402
from harness.orchestrate import BuildOptions, connect, prepare  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "models"
DEFAULT_MODELS = ["raw_mini_int8", "kws_dscnn_int8", "ic_resnet8_int8", "vww_mobilenetv1_025_int8",
                  "ad_autoencoder_int8"]


def measure(model: Path, board: str, backend: Backend, inputs: int) -> dict:
    """One model x twin x backend: median instructions, flash/RAM/arena bytes, bit-exactness (or why not run)."""
    try:
        fw = prepare(model, get_board(board).target(True), BuildOptions(backend=backend))
    except MemoryOverflowError as exc:
        return {"status": f"does not fit: {exc.region} +{exc.overflow_bytes:,} B"}
    except TinyhilError as exc:
        return {"status": f"not built: {exc}"}
    rng = np.random.default_rng(0)
    shape, dtype = tuple(fw.compiled.input_tensor.shape), fw.compiled.input_tensor.dtype
    counts, exact = [], True
    with tempfile.TemporaryDirectory() as tmp, connect(fw, run_dir=Path(tmp)) as dut:
        for _ in range(inputs):
            x = rng.integers(-128, 128, shape).astype(dtype)
            out, c = dut.infer(x)
            exact &= bool(np.array_equal(out, dut.reference(x)))
            counts.append(c.value)
    return {"count": int(np.median(counts)), "flash": fw.image.sizes["flash"], "ram": fw.image.sizes["ram"],
            "arena": fw.arena_bytes, "exact": exact, "status": "ok"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", help="a .tflite file (repeatable)")
    ap.add_argument("--board", action="append", help="a board with a twin (repeatable)")
    ap.add_argument("--inputs", type=int, default=2, help="random inputs per run (default 2)")
    ap.add_argument("--backend", action="append",
                    help="a backend to run (repeatable; default all; the ratio needs tflm-cmsis-nn among them)")
    args = ap.parse_args()
    try:
        backends = [parse_backend(b) for b in args.backend] if args.backend else list(Backend)
    except TinyhilError as exc:
        sys.exit(f"error: {exc}")
    if args.model:
        models = [Path(m) for m in args.model]
    else:
        from harness.data.fetch import fetch_model

        models = [fetch_model("acdnet20-int8", None)] + [FIXTURES / f"{m}.tflite" for m in DEFAULT_MODELS]
    boards = args.board or ["stm32f746", "nrf52840", "rp2040"]
    print("| model | twin | backend | instructions | tinyhil / tflm-cmsis-nn | flash B | RAM B | arena B | bit-exact |")
    print("|---|---|---|--:|--:|--:|--:|--:|:-:|")
    for model in models:
        for board in boards:
            rows = {b: measure(model, board, b, args.inputs) for b in backends}
            ref = rows.get(Backend.TFLM_CMSIS_NN, {}).get("count")
            for b, r in rows.items():
                if r["status"] != "ok":
                    print(f"| {model.stem} | {board} | {b.value} | {r['status']} | | | | | |", flush=True)
                    continue
                ratio = f"{r['count'] / ref:.2f}" if b is Backend.TINYHIL and ref else ""
                print(f"| {model.stem} | {board} | {b.value} | {r['count']:,} | {ratio} | {r['flash']:,} | "
                      f"{r['ram']:,} | {r['arena']:,} | {'yes' if r['exact'] else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
