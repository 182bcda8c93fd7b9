"""``tinyhil study status``: the matrix of a study's cells (rows: model x backend, columns: boards), each
``done`` (median count), ``failed: <reason>``, ``running (place)``, ``pending`` or ``does not fit``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from harness.study.cells import Cell, CellStates


def cell_text(rec: dict, recorded: set[str]) -> str:
    """One matrix entry from a cell's state record."""
    status = rec["status"]
    if status == "done":
        if not rec.get("run_dir") or Path(rec["run_dir"]).name not in recorded:
            return "pending (run not recorded)"
        count = rec.get("count")
        exact = {True: ", bit-exact", False: ", NOT bit-exact", None: ""}[rec.get("bit_exact")]
        return "done" + (f" {count:,.0f} {rec.get('unit', '')}" if count is not None else "") + exact
    if status == "failed":
        return f"failed: {rec.get('reason', '?')[:70]}"
    if status == "running":
        return "running" + (f" on {rec['place']}" if rec.get("place") else f" (pid {rec.get('pid')})")
    if status == "does-not-fit":
        return "does not fit"
    return "pending" + (" (stale: worker stopped)" if rec.get("stale") else "")


def status_table(title: str, cells: list[Cell], states: CellStates) -> tuple[Table, Counter]:
    """The matrix and the count of each status word (done, failed, running, pending, does-not-fit)."""
    recorded = states.recorded_runs()
    boards = list(dict.fromkeys(c.board + ("-twin" if c.emulate else "") for c in cells))
    rows: dict[tuple[str, str, int], dict[str, str]] = {}
    counts: Counter = Counter()
    for c in cells:
        text = cell_text(states.read(c), recorded)
        counts[text.split(":")[0].split(" ")[0].replace("does", "does-not-fit")] += 1
        rows.setdefault((Path(c.model).stem, c.backend, c.repeat), {})[c.board + ("-twin" if c.emulate else "")] = text
    table = Table(title=title)
    for col in ("model", "backend", "#", *boards):
        table.add_column(col)
    for (model, backend, rep), by_board in rows.items():
        table.add_row(model, backend, str(rep + 1), *(by_board.get(b, "—") for b in boards))
    return table, counts
