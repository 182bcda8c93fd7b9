"""Console tables of runs (rich). Every table takes :class:`harness.rundir.Summary` records (or summary dicts,
validated into them); a value that was not measured is shown as "—", never 0."""

from __future__ import annotations

from typing import Iterable

from rich.console import Console
from rich.table import Table

from harness.rundir import Counts, Memory, Summary, as_summary, latency_us


def _fmt_int(v) -> str:
    return "—" if v is None else f"{int(v):,}"


def _acc(s: Summary) -> str:
    return "—" if s.accuracy is None else f"{100 * s.accuracy:.1f}%"


def _count(c: Counts) -> str:
    return "—" if c.median is None else f"{_fmt_int(c.median)} {c.unit or ''}".strip()


def run_table(summaries: Iterable[Summary | dict], title: str = "tinyhil results") -> Table:
    """One row per run summary: model, board, target kind, clips, top-1, count per inference (median, min–max,
    in instructions or cycles), flash, RAM and arena bytes, bit-exactness."""
    table = Table(title=title)
    for col, justify in [("model", "left"), ("board", "left"), ("target", "left"), ("backend", "left"),
                         ("clips", "right"),
                         ("top-1", "right"), ("count / inference (median)", "right"), ("min–max", "right"),
                         ("flash B", "right"), ("RAM B", "right"), ("arena B", "right"), ("bit-exact", "center")]:
        table.add_column(col, justify=justify)
    for s in map(as_summary, summaries):
        counts, mem = s.counts or Counts(), s.memory or Memory()
        span = "—" if counts.min is None and counts.max is None else \
            f"{_fmt_int(counts.min)}–{_fmt_int(counts.max)}"
        table.add_row(
            s.model or "?", s.board or "?", s.target or "?", s.backend, _fmt_int(s.samples), _acc(s), _count(counts), span,
            _fmt_int(mem.flash_bytes), _fmt_int(mem.ram_bytes), _fmt_int(s.arena_bytes),
            {True: "yes", False: f"NO ({_fmt_int(s.mismatches)} differ)", None: "not checked"}[s.bit_exact],
        )
    return table


def print_runs(summaries: Iterable[Summary | dict], console: Console | None = None) -> None:
    """Print :func:`run_table` of ``summaries``."""
    (console or Console()).print(run_table(summaries))


def variant_table(summaries: Iterable[Summary | dict], title: str = "tinyhil variants") -> Table:
    """Compression variants side by side: accuracy, parameters, MACs, weight/flash/RAM bytes, count per inference.

    ``params`` and ``variant`` come from the model card beside each .tflite (absent: "—")."""
    table = Table(title=title)
    for col in ("variant", "method", "top-1", "params", "MACs", "weights B", "flash B", "RAM B",
                "count / inference", "bit-exact"):
        table.add_column(col, justify="left" if col in ("variant", "method") else "right")
    for s in map(as_summary, summaries):
        v, mem = s.variant, s.memory or Memory()
        table.add_row((v and v.name) or s.model or "?", (v and v.method) or "—", _acc(s), _fmt_int(s.params),
                      _fmt_int(s.macs), _fmt_int(s.weight_bytes), _fmt_int(mem.flash_bytes), _fmt_int(mem.ram_bytes),
                      _count(s.counts or Counts()), {True: "yes", False: "NO", None: "not checked"}[s.bit_exact])
    return table


def board_table(rows: list[tuple[object, Summary | dict | None, str]], title: str = "tinyhil boards compared") -> Table:
    """One row per board for the same model: (Board, run summary or None, status text when it did not run).

    Columns: board, core, clock (MHz), target, top-1, count per inference (median, with its unit: instructions on
    twins, cycles on boards), latency (ms, marked "est." for estimates), flash and RAM bytes used of the board's,
    bit-exactness, status ("does not fit: ...", "no twin"). Raises ResultsError for an unknown latency unit.
    """
    table = Table(title=title)
    for col in ("board", "core", "clock MHz", "target", "backend", "top-1", "count / inference", "latency ms",
                "flash B (of board)", "RAM B (of board)", "bit-exact", "status"):
        table.add_column(col, justify="left" if col in ("board", "core", "target", "backend", "status") else "right")
    for board, s, status in rows:
        mhz = f"{board.clock_hz / 1e6:g}"
        if s is None:
            table.add_row(board.name, board.core, mhz, "—", "—", "—", "—", "—", f"— ({board.flash_bytes:,})",
                          f"— ({board.ram_bytes:,})", "—", status)
            continue
        s = as_summary(s)
        mem, us = s.memory or Memory(), latency_us(s)
        latency = "—" if us is None else f"{us / 1000:,.2f}{' est.' if s.latency.estimate else ''}"
        table.add_row(board.name, board.core, mhz, s.target or "?", s.backend, _acc(s), _count(s.counts or Counts()), latency,
                      f"{_fmt_int(mem.flash_bytes)} ({board.flash_bytes:,})",
                      f"{_fmt_int(mem.ram_bytes)} ({board.ram_bytes:,})",
                      {True: "yes", False: "NO", None: "not checked"}[s.bit_exact], status or "ok")
    return table
