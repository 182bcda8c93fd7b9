"""``tinyhil bench --jobs N``: the cells of one bench call (models x boards x backends) run N at once on twins,
through the study executor (its own QEMU, port and build directory per job), without a study file or resume."""

from __future__ import annotations

import time
from pathlib import Path

from harness.study.cells import Cell, CellStates, file_sha256
from harness.study.executor import run_cells, twin_slots


def bench_parallel(models: list[Path | None], boards: list, backends: list, *, emulate: bool, jobs: int,
                   data: Path | None, out: Path, limit: int | None, quantization: str, tags: tuple[str, ...],
                   local: Path | None = None, catalog: Path | None = None, build_root: Path | None = None,
                   log=print) -> tuple[list, list[str], list]:
    """Run every (model, board, backend) cell, ``jobs`` at once; returns (RunResults in cell order, "does not
    fit" lines, (board, summary or None, note) rows for the board table).  A failed cell is listed with its
    one-line reason and does not stop the others."""
    from harness.bench import RunResult  # noqa: PLC0415
    from harness.data.fetch import fetch_dataset, fetch_model  # noqa: PLC0415
    from harness.history import default_db  # noqa: PLC0415
    from harness.orchestrate import BUILD_ROOT  # noqa: PLC0415
    from harness.rundir import read_run  # noqa: PLC0415

    files = [m or fetch_model("acdnet20-int8", local) for m in models]
    data = data or fetch_dataset("esc50-cc0", local)
    cells = [Cell(model=str(Path(m).resolve()), model_sha256=file_sha256(Path(m)), board=b.name, emulate=emulate,
                  backend=k.value, data=str(data), limit=limit, quantization=quantization, tags=tuple(tags))
             for m in files for b in boards for k in backends]
    states = CellStates(Path(out) / ".bench-jobs" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                        default_db(out))
    outcome = run_cells(cells, twin_slots(jobs, build_root or BUILD_ROOT), states, Path(out), log=log,
                        catalog=catalog)
    by_cell = {c: rec for c, rec in outcome.ran}
    results, refused, compared = [], [], []
    board_of = {b.name: b for b in boards}
    for c in cells:
        rec = by_cell.get(c, {"status": "failed", "reason": "not run"})
        board = board_of[c.board]
        if rec["status"] == "done":
            run = read_run(rec["run_dir"])
            results.append(RunResult(run.path, run.summary))
            compared.append((board, run.summary, ""))
        elif rec["status"] == "does-not-fit":
            refused.append(f"{c.label}: {rec.get('reason', '')}")
            compared.append((board, None, "does not fit", Path(c.model).stem, c.backend))
        else:
            compared.append((board, None, f"failed: {rec.get('reason', '')}", Path(c.model).stem, c.backend))
            log(f"failed: {c.label}: {rec.get('reason', '')}")
    return results, refused, compared
