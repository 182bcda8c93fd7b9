"""CLI commands over recorded runs: ``tinyhil runs``, ``show``, ``import``, ``tag``, ``report``, ``compare``.

Registered on the main typer app by :func:`register` (called from ``harness/cli/__init__.py``). Every command reads the
history database (``--db``, default ``$TINYHIL_DB`` or ``<--results>/history.sqlite``) after importing any run
directory under ``--results`` that it does not know yet, so runs copied in by hand are found too.
Exit status: 0 success; ``compare`` 1 when a threshold is passed, 5 when there is no earlier run to compare
with; 2 for a one-line error (ResultsError ...); README.md lists every status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from harness.rundir import Energy, Firmware, Latency, Memory, ModelRef, Run, latency_us

ResultsOpt = typer.Option(Path("results"), "--results", help="Directory of run directories (imported if new)")
DbOpt = typer.Option(None, "--db", help="History database (default: $TINYHIL_DB or <results>/history.sqlite)")
ModelSel = typer.Option(None, "--model", "-m", help="Model/variant name or glob (repeatable)")
BoardSel = typer.Option(None, "--board", "-b", help="Board name (repeatable)")
BackendSel = typer.Option(None, "--backend", help="Deployment backend: tinyhil, tflm, tflm-cmsis-nn (repeatable)")
SinceSel = typer.Option(None, "--since", help="Runs on or after this UTC date/time (ISO 8601)")
UntilSel = typer.Option(None, "--until", help="Runs on or before this UTC date (whole day) or date/time")
TagSel = typer.Option(None, "--tag", "-t", help="Only runs carrying this tag (repeatable: all of them)")


def _open(results: Path, db: Optional[Path]):
    from harness.errors import ResultsError
    from harness.history import RunStore, default_db

    path = Path(db or default_db(results))
    if not path.exists() and not results.is_dir():
        raise ResultsError(f"no history database {path} and no results directory {results}; run `tinyhil bench` "
                           "first, or pass --results DIR / --db FILE")
    store = RunStore(path)
    store.import_tree(results, only_new=True)
    store.import_profiles(results / "profiles")  # where `tinyhil profile` saves by default
    return store


def _selection(run_ids, model, board, since, until, tag, latest=None, backend=None):
    from harness.backends import parse_backend
    from harness.history import Selection, parse_date

    return Selection(models=tuple(model or ()), boards=tuple(board or ()),
                     since=parse_date(since) if since else None,
                     until=parse_date(until, end_of_day=True) if until else None,
                     tags=tuple(tag or ()), run_ids=tuple(run_ids or ()), latest=latest,
                     backends=tuple(parse_backend(b).value for b in backend or ()))


def _describe(sel) -> str:
    parts = [f"{k}={','.join(v)}" for k, v in (("run", sel.run_ids), ("model", sel.models), ("board", sel.boards),
                                               ("backend", sel.backends), ("tag", sel.tags)) if v]
    if sel.since:
        parts.append(f"since={sel.since.isoformat()}")
    if sel.until:
        parts.append(f"until={sel.until.isoformat()}")
    return " ".join(parts) or "all runs"


def _or_dash(v) -> str:
    return "—" if v in (None, "", ()) else str(v)


def _us(s, value: float) -> float | None:
    """A latency value of ``s.latency`` (in its unit) in µs."""
    return latency_us(s.model_copy(update={"latency": s.latency.model_copy(update={"median": value})}))


def _show_rows(r: Run) -> list[tuple[str, str]]:
    """(label, text) rows of `tinyhil show`: the configuration, latency and energy ("not measured" when absent),
    ELF sections; "—" for anything the run does not record."""
    from harness.report import units
    from harness.report.stats import correct_and_n, wilson
    from harness.rundir import energy_uj, latency_us

    m, s = r.manifest, r.summary
    fw, model = m.firmware or Firmware(), m.model or ModelRef()
    clock = "—" if m.clock_hz is None else f"{m.clock_hz / 1e6:g} MHz"
    base = f", base {r.variant.base}" if r.variant.base else ""
    compiler = " ".join(filter(None, (fw.compiler, " ".join((fw.flags or ())[:5]))))
    rows = [("run", r.run_id), ("directory", str(r.path or "(no longer on disk)")), ("date (UTC)", r.date.isoformat()),
            ("variant", f"{r.variant.name} (method {r.variant.method}{base})"),
            ("model", f"{_or_dash(model.file)}  sha256 {(model.sha256 or '—')[:16]}…"),
            ("board", f"{r.board} {m.board_title or ''} ({_or_dash(m.core)}, {clock})"),
            ("target", r.target + (f" — QEMU {m.twin.machine}" if m.twin and m.twin.machine else "")),
            ("timer", _or_dash(m.timer_source)), ("compiler", _or_dash(compiler)),
            ("git commit", _or_dash(m.git_commit)), ("tags", ", ".join(r.tags) or "—")]
    lat, en = s.latency or Latency(), s.energy or Energy()
    us, uj = latency_us(s), energy_uj(s)
    span = "" if lat.min is None or lat.max is None else \
        f" (min {units.time_us(_us(s, lat.min))}, max {units.time_us(_us(s, lat.max))})"
    for label, value, estimate, source in (("latency", None if us is None else units.time_us(us) + span,
                                            lat.estimate, lat.source),
                                           ("energy", None if uj is None else units.energy_uj(uj), en.estimate,
                                            en.source)):
        rows.append((label, "not measured" if value is None else
                     f"{value}{' (ESTIMATE)' if estimate else ''} — {source or ''}"))
    cn = correct_and_n(s)
    if cn and cn[1]:
        lo, hi = wilson(*cn)
        rows.append(("top-1", f"{100 * cn[0] / cn[1]:.1f}% ({cn[0]}/{cn[1]} clips; 95% Wilson interval "
                              f"{100 * lo:.1f}–{100 * hi:.1f}%)"))
    sections = (s.memory.sections if s.memory else None) or {}
    rows.append(("sections", ", ".join(f"{k} {units.kib(v)} ({v:,} B)" for k, v in sections.items()) or "—"))
    return rows


_COMMANDS: list[tuple[Callable, str | None]] = []
console = Console()  # replaced by register() with the CLI's console


def _command(name: str | None = None) -> Callable:
    """Mark a function as a CLI command (registered by :func:`register`)."""

    def mark(fn: Callable) -> Callable:
        _COMMANDS.append((fn, name))
        return fn

    return mark


def register(app: typer.Typer, cli_console: Console, guarded: Callable) -> None:
    """Add the history/report commands (runs, show, import, tag, report, compare) to ``app``, printing on
    ``cli_console``; ``guarded`` turns a TinyhilError into a one-line message."""
    global console
    console = cli_console
    for fn, name in _COMMANDS:
        app.command(name=name)(guarded(fn))


@_command()
def runs(
    run_ids: Optional[list[str]] = typer.Argument(None, help="Run ids or unique prefixes"),
    model: Optional[list[str]] = ModelSel, board: Optional[list[str]] = BoardSel,
    since: Optional[str] = SinceSel, until: Optional[str] = UntilSel, tag: Optional[list[str]] = TagSel,
    backend: Optional[list[str]] = BackendSel,
    last: Optional[int] = typer.Option(None, "--last", help="Only the newest N runs of the selection"),
    ids: bool = typer.Option(False, "--ids", help="Print only run ids, one a line (for scripts)"),
    results: Path = ResultsOpt, db: Optional[Path] = DbOpt,
) -> None:
    """List recorded runs (oldest first): date, variant, board, accuracy, instructions/cycles, memory."""
    from harness.report import units

    with _open(results, db) as store:
        selected = store.select(_selection(run_ids, model, board, since, until, tag, last, backend))
    if ids:
        for r in selected:
            print(r.run_id)
        return
    t = Table(title=f"tinyhil runs ({len(selected)})")
    for col in ("run id", "date (UTC)", "variant", "method", "board", "target", "top-1", "instr./cycles",
                "flash", "RAM", "bit-exact", "tags"):
        t.add_column(col, justify="right" if col in ("top-1", "instr./cycles", "flash", "RAM") else "left")
    for r in selected:
        s = r.summary
        mem = s.memory or Memory()
        t.add_row(r.run_id, r.date.strftime("%Y-%m-%d %H:%M"), r.variant.name, r.variant.method, r.board,
                  r.target, "—" if s.accuracy is None else f"{100 * s.accuracy:.1f}%",
                  units.count(s.counts.median if s.counts else None,
                              {"instructions": "instr."}.get(s.counts.unit, s.counts.unit or "") if s.counts else ""),
                  units.kib(mem.flash_bytes), units.kib(mem.ram_bytes),
                  {True: "yes", False: "NO"}.get(s.bit_exact, "—"), ", ".join(r.tags))
    console.print(t)

@_command()
def show(run: str = typer.Argument(..., help="Run id, unique prefix, or run directory"),
         results: Path = ResultsOpt, db: Optional[Path] = DbOpt) -> None:
    """Print one run: its configuration (manifest), results table, latency/energy, memory and tags."""
    from harness.report.console import run_table
    from harness.history import resolve_run

    with _open(results, db) as store:
        r = resolve_run(run, store)
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold")
    info.add_column()
    for k, v in _show_rows(r):
        info.add_row(k, v)
    console.print(info)
    console.print(run_table([r.summary], title=f"run {r.run_id}"))

@_command('import')
def import_cmd(paths: list[Path] = typer.Argument(..., help="Run directories, or folders of them"),
               results: Path = ResultsOpt, db: Optional[Path] = DbOpt) -> None:
    """Record run directories in the history database (idempotent: known, unchanged runs are skipped)."""
    from harness.rundir import is_run_dir
    from harness.history import RunStore, default_db

    with RunStore(db or default_db(results)) as store:
        for p in paths:
            statuses = {p.name: store.import_run(p)} if is_run_dir(p) or (p / "summary.json").exists() \
                else store.import_tree(p)
            for rid, status in statuses.items():
                console.print(f"{status:9} {rid}")
        console.print(f"database: {store.path}")

@_command()
def tag(run: str = typer.Argument(..., help="Run id or unique prefix"),
        tags: list[str] = typer.Argument(..., help="Tags to add"),
        results: Path = ResultsOpt, db: Optional[Path] = DbOpt) -> None:
    """Add tags to a recorded run (kept when the run is imported again)."""
    with _open(results, db) as store:
        store.add_tags(run, tags)
        console.print(f"{store.resolve_id(run)}: {', '.join(store.get(run).tags)}")

@_command()
def report(
    run_ids: Optional[list[str]] = typer.Argument(None, help="Run ids or unique prefixes (default: all)"),
    model: Optional[list[str]] = ModelSel, board: Optional[list[str]] = BoardSel,
    since: Optional[str] = SinceSel, until: Optional[str] = UntilSel, tag: Optional[list[str]] = TagSel,
    backend: Optional[list[str]] = BackendSel,
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Directory for the report files"),
    results: Path = ResultsOpt, db: Optional[Path] = DbOpt, catalog: Optional[Path] = typer.Option(
        None, "--catalog", help="Board catalog YAML (board limits in the memory plot)"),
) -> None:
    """Trade-off table (rows variant × board; top-1 with n and 95% Wilson interval) in console, Markdown, CSV
    and LaTeX; figures as PDF + 300-dpi PNG (accuracy vs latency/energy/RAM/flash per board, per-board bars,
    confusion matrices, per-operator profiles recorded by `tinyhil profile`); one offline HTML file."""
    from harness.report.build import write_report

    sel = _selection(run_ids, model, board, since, until, tag, backend=backend)
    with _open(results, db) as store:
        selected = store.select(sel)
        profiles = store.profiles_for(selected)
    rep = write_report(selected, out, selection=_describe(sel), console=console, catalog=catalog, profiles=profiles)
    for kind, path in rep.files.items():
        console.print(f"{kind:28} {path}")
    for line in rep.omitted:
        console.print(f"not drawn: {line}")

@_command()
def compare(
    baseline: str = typer.Option(..., "--baseline", help="Run directory, run id/prefix, or 'previous' (the "
                                 "newest earlier run of the same configuration)"),
    current: str = typer.Option(..., "--current", help="Run directory or run id/prefix"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with [tool.tinyhil.compare] "
                                          "(default: the nearest pyproject.toml)"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the comparison as JSON here"),
    results: Path = ResultsOpt, db: Optional[Path] = DbOpt,
) -> None:
    """Per-metric change of CURRENT against BASELINE; exit 1 when a regression threshold is passed."""
    from harness.metrics.regression import compare_runs, comparison_table, load_thresholds
    from harness.errors import NoBaselineError
    from harness.history import resolve_run

    thresholds, source = load_thresholds(config)
    with _open(results, db) as store:
        cur = resolve_run(current, store)
        if baseline == "previous":
            base = store.previous(cur)
            if base is None:
                raise NoBaselineError(f"no earlier run of the configuration of {cur.run_id} in {store.path}; "
                                   "pass --baseline RUN explicitly (first night: nothing to compare)")
        else:
            base = resolve_run(baseline, store)
    cmp = compare_runs(base, cur, thresholds, source)
    console.print(comparison_table(cmp))
    if cmp.config_differences:
        console.print(f"[yellow]note:[/] the runs differ in configuration: {', '.join(cmp.config_differences)}",
                      highlight=False)
    console.print(f"thresholds: {source or 'defaults'}", soft_wrap=True, highlight=False)
    if json_out:
        json_out.write_text(json.dumps({
            "baseline": base.run_id, "current": cur.run_id, "config_differences": cmp.config_differences,
            "regressions": len(cmp.regressions),
            "changes": [c.__dict__ for c in cmp.changes]}, indent=2, default=str) + "\n")
    if cmp.regressions:
        console.print(f"[bold red]{len(cmp.regressions)} regression(s):[/] "
                      + "; ".join(c.metric for c in cmp.regressions), highlight=False)
        raise typer.Exit(1)
    console.print("no regression")
