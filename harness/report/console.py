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


def board_table(rows: list[tuple[object, dict | None, str]], title: str = "tinyhil boards compared") -> Table:
    """One row per board for the same model: (Board, run summary or None, status text when it did not run).

    Columns: board, core, clock, target, top-1, count per inference (median, with its unit: instructions on
    twins, cycles on hardware), latency (``summary["latency"]`` when the run has one, marked "est." for
    estimates), flash and RAM used of the board's, bit-exactness, status ("does not fit: ...", "no twin").
    """
    table = Table(title=title)
    for col in ("board", "core", "clock MHz", "target", "top-1", "count / inference", "latency ms",
                "flash B (of board)", "RAM B (of board)", "bit-exact", "status"):
        table.add_column(col, justify="left" if col in ("board", "core", "target", "status") else "right")
    for board, s, status in rows:
        mhz = f"{board.clock_hz / 1e6:g}"
        if s is None:
            table.add_row(board.name, board.core, mhz, "—", "—", "—", "—", f"— ({board.flash_bytes:,})",
                          f"— ({board.ram_bytes:,})", "—", status)
            continue
        acc, counts, mem = s.get("accuracy"), s.get("counts", {}), s.get("memory", {})
        lat = s.get("latency") or {}
        if lat.get("median") is not None:
            ms = lat["median"] / 1000 if lat.get("unit", "us") == "us" else lat["median"]
            latency = f"{ms:,.2f}{' est.' if lat.get('estimate') else ''}"
        else:
            latency = "—"
        table.add_row(board.name, board.core, mhz, s.get("target", "?"), "—" if acc is None else f"{100 * acc:.1f}%",
                      f"{_fmt_int(counts.get('median'))} {counts.get('unit', '')}", latency,
                      f"{_fmt_int(mem.get('flash_bytes'))} ({board.flash_bytes:,})",
                      f"{_fmt_int(mem.get('ram_bytes'))} ({board.ram_bytes:,})",
                      {True: "yes", False: "NO", None: "not checked"}[s.get("bit_exact")], status or "ok")
    return table
