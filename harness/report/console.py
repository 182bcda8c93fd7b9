"""Console tables of runs (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _fmt_int(v) -> str:
    return "—" if v is None else f"{int(v):,}"


def run_table(summaries: list[dict], title: str = "tinyhil results") -> Table:
    """One row per run summary (as written to summary.json): board, target kind, accuracy, counts, memory."""
    table = Table(title=title)
    for col, justify in [("model", "left"), ("board", "left"), ("target", "left"), ("clips", "right"),
                         ("top-1", "right"), ("count / inference (median)", "right"), ("min–max", "right"),
                         ("flash B", "right"), ("RAM B", "right"), ("arena B", "right"), ("bit-exact", "center")]:
        table.add_column(col, justify=justify)
    for s in summaries:
        counts = s.get("counts", {})
        acc = s.get("accuracy")
        exact = s.get("bit_exact")
        table.add_row(
            s.get("model", "?"), s.get("board", "?"), s.get("target", "?"), str(s.get("samples", "")),
            "—" if acc is None else f"{100 * acc:.1f}%",
            f"{_fmt_int(counts.get('median'))} {counts.get('unit', '')}",
            f"{_fmt_int(counts.get('min'))}–{_fmt_int(counts.get('max'))}",
            _fmt_int(s.get("memory", {}).get("flash_bytes")), _fmt_int(s.get("memory", {}).get("ram_bytes")),
            _fmt_int(s.get("arena_bytes")),
            {True: "yes", False: f"NO ({s.get('mismatches', '?')} differ)", None: "not checked"}[exact],
        )
    return table


def print_runs(summaries: list[dict], console: Console | None = None) -> None:
    (console or Console()).print(run_table(summaries))


def variant_table(summaries: list[dict], title: str = "tinyhil variants") -> Table:
    """Compression variants side by side: accuracy, parameters, MACs, flash, RAM, instructions per inference.

    ``params`` and ``variant`` come from the model card beside each .tflite (absent: "—")."""
    table = Table(title=title)
    for col in ("variant", "method", "top-1", "params", "MACs", "weights B", "flash B", "RAM B",
                "count / inference", "bit-exact"):
        table.add_column(col, justify="left" if col in ("variant", "method") else "right")
    for s in summaries:
        v = s.get("variant") or {}
        acc = s.get("accuracy")
        counts = s.get("counts", {})
        table.add_row(v.get("name") or s.get("model", "?"), v.get("method") or "—",
                      "—" if acc is None else f"{100 * acc:.1f}%", _fmt_int(s.get("params")),
                      _fmt_int(s.get("macs")), _fmt_int(s.get("weight_bytes")),
                      _fmt_int(s.get("memory", {}).get("flash_bytes")), _fmt_int(s.get("memory", {}).get("ram_bytes")),
                      f"{_fmt_int(counts.get('median'))} {counts.get('unit', '')}",
                      {True: "yes", False: "NO", None: "not checked"}[s.get("bit_exact")])
    return table
