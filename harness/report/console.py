"""Console tables of runs (rich). Every table takes :class:`harness.rundir.Summary` records (or summary dicts,
validated into them); a value that was not measured is shown as "—", never 0.

Each table fits ``width`` console columns through :func:`harness.report.fit.fit_table`: identifier columns (run
id, model, board) are never cut; the optional columns are dropped in the order of the table's ``*_DROP`` list
(least important first; a column whose value is the same on every row goes first and its value is named in
the caption); ``wide=True`` keeps every column and shows full run ids.  ``width=None`` keeps every column too
(a caller that prints to a file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table

from harness.report import units
from harness.report.fit import fit_table
from harness.rundir import Counts, Memory, Run, Summary, as_summary, latency_us

#: optional columns of each table, dropped in this order when the console is too narrow
RUN_DROP = ["run", "min–max", "arena", "clips", "target", "backend", "bit-exact", "RAM", "flash"]
RUNS_DROP = ["method", "run id", "tags", "date (UTC)", "method", "target", "backend", "bit-exact", "RAM", "flash"]
BOARD_DROP = ["core", "clock MHz", "target", "backend", "bit-exact", "RAM (of board)", "flash (of board)", "count"]
VARIANT_DROP = ["method", "params", "weights", "bit-exact", "RAM", "flash", "MACs"]
UNLIMITED = 1_000_000


def _fmt_int(v) -> str:
    return "—" if v is None else f"{int(v):,}"


def _acc(s: Summary) -> str:
    return "—" if s.accuracy is None else f"{100 * s.accuracy:.1f}%"


def _unit(c: Counts | None) -> str:
    return {"instructions": "instr."}.get(c.unit, c.unit or "") if c else ""


def count_column(summaries: Sequence[Summary]) -> tuple[str, list[str]]:
    """(header, cells) of the median count per inference: when every run counts in one unit the unit moves to
    the header ("instr." / "cycles") and the cells are "103.61 M"; otherwise each cell carries its unit."""
    units_seen = {_unit(s.counts) for s in summaries if s.counts and s.counts.median is not None}
    if len(units_seen) == 1:
        (unit,) = units_seen
        return unit, [units.count(s.counts.median if s.counts else None) for s in summaries]
    return "instr./cycles", [units.count(s.counts.median if s.counts else None, _unit(s.counts)) for s in summaries]


def uniform_prefixes(run_ids: Sequence[str], short: dict[str, str]) -> list[str]:
    """The run ids cut to one length, the longest of their short ids (``short``: id -> shortest unique prefix,
    :func:`harness.cli.output.short_ids`), so the column lines up and every prefix still names one run."""
    n = max((len(short.get(i, i)) for i in run_ids), default=0)
    return [i[:n] for i in run_ids]


def _bit_exact(s: Summary, detail: bool = False) -> str:
    if s.bit_exact is False and detail:
        return f"NO ({_fmt_int(s.mismatches)} differ)"
    return {True: "yes", False: "NO", None: "not checked"}[s.bit_exact]


def run_table(summaries: Iterable[Summary | dict], title: str = "tinyhil results", *, run_ids: Sequence[str] = (),
              short: dict[str, str] | None = None, width: int | None = None, wide: bool = False) -> Table:
    """One row per run summary: run id (when ``run_ids`` is given, one per summary; ``short[id]`` when the
    console is too narrow for the full ids),
    model, board, target kind, backend, clips, top-1, count per inference (median and min–max, instructions or
    cycles, with k/M), flash, RAM and arena (KiB), bit-exactness.  Fits ``width`` (:data:`RUN_DROP`)."""
    summaries = [as_summary(s) for s in summaries]
    count_head, counts_text = count_column(summaries)
    cols = (["run"] if run_ids else []) + ["model", "board", "target", "backend", "clips", "top-1", count_head,
                                           "min–max", "flash", "RAM", "arena", "bit-exact"]
    rows = []
    for i, s in enumerate(summaries):
        counts, mem = s.counts or Counts(), s.memory or Memory()
        span = "—" if counts.min is None and counts.max is None else \
            f"{units.count(counts.min)}–{units.count(counts.max)}"
        rows.append(([run_ids[i]] if run_ids else []) + [
            Path(s.model).stem if s.model else "?", s.board or "?", s.target or "?", s.backend, _fmt_int(s.samples),
            _acc(s), counts_text[i], span, units.kib(mem.flash_bytes), units.kib(mem.ram_bytes),
            units.kib(s.arena_bytes), _bit_exact(s, detail=True)])
    return fit_table(title, cols, rows, width or UNLIMITED, ids=["run", "model", "board"], wide=wide,
                     drop_order=RUN_DROP, short={"run": uniform_prefixes(run_ids, short or {})},
                     right=["clips", "top-1", count_head, "min–max", "flash", "RAM", "arena"])


def print_runs(summaries: Iterable[Summary | dict], console: Console | None = None) -> None:
    """Print :func:`run_table` of ``summaries`` fitted to ``console``'s width."""
    console = console or Console()
    console.print(run_table(summaries, width=console.width))


def runs_table(runs: Sequence[Run], short: dict[str, str], *, title: str, width: int | None = None,
               wide: bool = False) -> Table:
    """The table of ``tinyhil runs``: run id, date, model (variant name), compression method, board, target,
    backend, top-1, median count, flash, RAM, bit-exactness, tags.  Fits ``width`` (:data:`RUNS_DROP`): the
    method is abbreviated first (to its short name), then the run id (to ``short[run_id]``, its shortest
    unique prefix), then columns are dropped."""
    from harness.report.style import short_method  # noqa: PLC0415

    count_head, counts_text = count_column([r.summary for r in runs])
    cols = ["run id", "date (UTC)", "model", "method", "board", "target", "backend", "top-1", count_head, "flash",
            "RAM", "bit-exact", "tags"]
    rows = []
    for r, count in zip(runs, counts_text):
        s, mem = r.summary, r.summary.memory or Memory()
        rows.append([r.run_id, r.date.strftime("%Y-%m-%d %H:%M"), r.variant.name, r.variant.method, r.board, r.target, r.backend, _acc(s), count,
                     units.kib(mem.flash_bytes), units.kib(mem.ram_bytes),
                     {True: "yes", False: "NO"}.get(s.bit_exact, "—"), ", ".join(r.tags)])
    abbreviations = {"run id": uniform_prefixes([r.run_id for r in runs], short),
                     "method": [r.variant.method if r.variant.method == "none" else
                                short_method(r.variant.name, r.variant.method) for r in runs]}
    return fit_table(title, cols, rows, width or UNLIMITED, ids=["run id", "model", "board"], wide=wide,
                     drop_order=RUNS_DROP, right=["top-1", count_head, "flash", "RAM"], short=abbreviations)


def variant_table(summaries: Iterable[Summary | dict], title: str = "tinyhil variants", *, width: int | None = None,
                  wide: bool = False) -> Table:
    """Compression variants side by side: accuracy, parameters, MACs, weight/flash/RAM bytes, count per inference.

    ``params`` and ``variant`` come from the model card beside each .tflite (absent: "—").  Fits ``width``
    (:data:`VARIANT_DROP`)."""
    summaries = [as_summary(s) for s in summaries]
    count_head, counts_text = count_column(summaries)
    cols = ["variant", "method", "top-1", "params", "MACs", "weights", "flash", "RAM", count_head, "bit-exact"]
    rows = []
    for s, count in zip(summaries, counts_text):
        v, mem = s.variant, s.memory or Memory()
        rows.append([(v and v.name) or (Path(s.model).stem if s.model else "?"), (v and v.method) or "—", _acc(s),
                     units.count(s.params), units.count(s.macs), units.kib(s.weight_bytes), units.kib(mem.flash_bytes),
                     units.kib(mem.ram_bytes), count, _bit_exact(s)])
    return fit_table(title, cols, rows, width or UNLIMITED, ids=["variant"], drop_order=VARIANT_DROP, wide=wide,
                     right=cols[2:-1])


def board_table(rows: list[tuple], title: str = "tinyhil boards compared", *, width: int | None = None,
                wide: bool = False) -> Table:
    """One row per (board, model) run: (Board, run summary or None, status text when it did not run[, model
    name]) — the model name is needed only for a row without a summary.

    Columns: board, model, core, clock (MHz), target, backend, top-1, count per inference (median, with its
    unit: instructions on twins, cycles on boards), latency (ms, marked "est." for estimates), flash and RAM
    bytes used of the board's, bit-exactness, status ("does not fit: ...", "no twin").  Fits ``width``
    (:data:`BOARD_DROP`).  Raises ResultsError for an unknown latency unit.
    """
    ran = [as_summary(r[1]) for r in rows if r[1] is not None]
    count_head, _ = count_column(ran)
    cols = ["board", "model", "core", "clock MHz", "target", "backend", "top-1", "count", "latency",
            "flash (of board)", "RAM (of board)", "bit-exact", "status"]
    body = []
    for row in rows:
        board, s, status = row[:3]
        model = row[3] if len(row) > 3 else None
        mhz = f"{board.clock_hz / 1e6:g}"
        if s is None:
            body.append([board.name, model or "—", board.core, mhz, "—", "—", "—", "—", "—",
                         f"— ({units.kib(board.flash_bytes)})", f"— ({units.kib(board.ram_bytes)})", "—", status])
            continue
        s = as_summary(s)
        mem, us = s.memory or Memory(), latency_us(s)
        latency = units.time_us(us) + (" est." if us is not None and s.latency.estimate else "")
        count = units.count(s.counts.median if s.counts else None, "" if count_head != "instr./cycles"
                            else _unit(s.counts))
        body.append([board.name, Path(s.model).stem if s.model else (model or "?"), board.core, mhz, s.target or "?",
                     s.backend, _acc(s), count, latency, f"{units.kib(mem.flash_bytes)} ({units.kib(board.flash_bytes)})",
                     f"{units.kib(mem.ram_bytes)} ({units.kib(board.ram_bytes)})", _bit_exact(s), status or "ok"])
    cols[cols.index("count")] = count_head
    drop = [count_head if c == "count" else c for c in BOARD_DROP]
    return fit_table(title, cols, body, width or UNLIMITED, ids=["board", "model"], drop_order=drop, wide=wide,
                     right=["clock MHz", "top-1", count_head, "latency", "flash (of board)", "RAM (of board)"])
