"""Console tables of runs (rich). Every table takes :class:`harness.rundir.Summary` records (or summary dicts,
validated into them); a value that was not measured is shown as "—", never 0."""

from __future__ import annotations

from typing import Iterable

from rich.console import Console
from rich.table import Table

from harness.report import units
from harness.rundir import Counts, Memory, Summary, as_summary, latency_us


def _fmt_int(v) -> str:
    return "—" if v is None else f"{int(v):,}"


def _acc(s: Summary) -> str:
    return "—" if s.accuracy is None else f"{100 * s.accuracy:.1f}%"


def _count(c: Counts) -> str:
    return units.count(c.median, {"instructions": "instr."}.get(c.unit, c.unit or ""))


def _kib(v) -> str:
    return units.kib(v)


def run_table(summaries: Iterable[Summary | dict], title: str = "tinyhil results") -> Table:
    """One row per run summary: model, board, target kind, clips, top-1, count per inference (median, min–max,
    in instructions or cycles, with k/M), flash, RAM and arena (KiB), bit-exactness."""
    table = Table(title=title)
    for col, justify in [("model", "left"), ("board", "left"), ("target", "left"), ("backend", "left"),
                         ("clips", "right"),
                         ("top-1", "right"), ("count / inference (median)", "right"), ("min–max", "right"),
                         ("flash", "right"), ("RAM", "right"), ("arena", "right"), ("bit-exact", "center")]:
        table.add_column(col, justify=justify)
    for s in map(as_summary, summaries):
        counts, mem = s.counts or Counts(), s.memory or Memory()
        span = "—" if counts.min is None and counts.max is None else \
            f"{units.count(counts.min)}–{units.count(counts.max)}"
        table.add_row(
            s.model or "?", s.board or "?", s.target or "?", s.backend, _fmt_int(s.samples), _acc(s), _count(counts), span,
            _kib(mem.flash_bytes), _kib(mem.ram_bytes), _kib(s.arena_bytes),
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
    for col in ("variant", "method", "top-1", "params", "MACs", "weights", "flash", "RAM",
                "count / inference", "bit-exact"):
        table.add_column(col, justify="left" if col in ("variant", "method") else "right")
    for s in map(as_summary, summaries):
        v, mem = s.variant, s.memory or Memory()
        table.add_row((v and v.name) or s.model or "?", (v and v.method) or "—", _acc(s), units.count(s.params),
                      units.count(s.macs), _kib(s.weight_bytes), _kib(mem.flash_bytes), _kib(mem.ram_bytes),
                      _count(s.counts or Counts()), {True: "yes", False: "NO", None: "not checked"}[s.bit_exact])
    return table


def board_table(rows: list[tuple[object, Summary | dict | None, str]], title: str = "tinyhil boards compared") -> Table:
    """One row per board for the same model: (Board, run summary or None, status text when it did not run).

    Columns: board, core, clock (MHz), target, top-1, count per inference (median, with its unit: instructions on
    twins, cycles on boards), latency (ms, marked "est." for estimates), flash and RAM bytes used of the board's,
    bit-exactness, status ("does not fit: ...", "no twin"). Raises ResultsError for an unknown latency unit.
    """
    table = Table(title=title)
    for col in ("board", "core", "clock MHz", "target", "backend", "top-1", "count / inference", "latency",
                "flash (of board)", "RAM (of board)", "bit-exact", "status"):
        table.add_column(col, justify="left" if col in ("board", "core", "target", "backend", "status") else "right")
    for board, s, status in rows:
        mhz = f"{board.clock_hz / 1e6:g}"
        if s is None:
            table.add_row(board.name, board.core, mhz, "—", "—", "—", "—", "—", f"— ({_kib(board.flash_bytes)})",
                          f"— ({_kib(board.ram_bytes)})", "—", status)
            continue
        s = as_summary(s)
        mem, us = s.memory or Memory(), latency_us(s)
        latency = units.time_us(us) + (" est." if us is not None and s.latency.estimate else "")
        table.add_row(board.name, board.core, mhz, s.target or "?", s.backend, _acc(s), _count(s.counts or Counts()), latency,
                      f"{_kib(mem.flash_bytes)} ({_kib(board.flash_bytes)})",
                      f"{_kib(mem.ram_bytes)} ({_kib(board.ram_bytes)})",
                      {True: "yes", False: "NO", None: "not checked"}[s.bit_exact], status or "ok")
    return table
