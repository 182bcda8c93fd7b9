"""CLI commands over recorded runs: ``tinyhil runs``, ``show``, ``import``, ``tag`` (here) and ``report``,
``compare`` (:mod:`harness.cli.results`).

Registered on the main typer app by :func:`register` (called from ``harness/cli/__init__.py``). Every command reads the
history database (``--db``, default ``$TINYHIL_DB`` or ``<--results>/history.sqlite``) after importing any run
directory under ``--results`` that it does not know yet, so runs copied in by hand are found too; a run directory
given by path (``show DIR``, ``compare DIR_A DIR_B``) is read directly, without a database.
A run is named by its id, a unique prefix of it (the short ids ``runs`` shows), a unique part of it, or its
directory; an unknown or ambiguous name is a one-line error.  ``--json`` prints one JSON document on stdout
(:mod:`harness.cli.records`); ``--wide`` shows every column and full ids (:mod:`harness.report.fit`).
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
JsonOpt = typer.Option(False, "--json", help="Print the result as JSON on stdout (nothing else there)")
WideOpt = typer.Option(False, "--wide", help="Every column and full run ids, even wider than the terminal")


def _open(results: Path, db: Optional[Path]):
    from harness.errors import ResultsError
    from harness.history import RunStore, default_db

    from harness.cli.recent import empty_history_hint

    path = Path(db or default_db(results))
    if not path.exists() and not results.is_dir():
        raise ResultsError(f"no history database {path} and no results directory {results}: "
                           + empty_history_hint(results).split(";", 1)[1].strip())
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
    import harness.cli.results  # noqa: F401, PLC0415 - report, compare (registered through _command)

    for fn, name in _COMMANDS:
        app.command(name=name)(guarded(fn))


@_command()
def runs(
    run_ids: Optional[list[str]] = typer.Argument(None, help="Run ids or parts of ids (e.g. a short id, a date)"),
    model: Optional[list[str]] = ModelSel, board: Optional[list[str]] = BoardSel,
    since: Optional[str] = SinceSel, until: Optional[str] = UntilSel, tag: Optional[list[str]] = TagSel,
    backend: Optional[list[str]] = BackendSel,
    last: Optional[int] = typer.Option(None, "--last", help="Only the newest N runs of the selection"),
    ids: bool = typer.Option(False, "--ids", help="Print only run ids, one a line (for scripts)"),
    json_out: bool = JsonOpt, wide: bool = WideOpt,
    results: Path = ResultsOpt, db: Optional[Path] = DbOpt,
) -> None:
    """List recorded runs (oldest first): run id (short: a unique prefix), date, model, board, accuracy,
    instructions/cycles, memory."""
    from harness.cli.output import print_json, short_ids
    from harness.cli.recent import empty_history_hint
    from harness.cli.records import SCHEMA, run_record
    from harness.report.console import runs_table

    sel = _selection(run_ids, model, board, since, until, tag, last, backend)
    with _open(results, db) as store:
        selected = store.select(sel)
        known = store.run_ids()
    short = short_ids(known)
    if not selected:
        hint(empty_history_hint(results) if not known else
             f"no run matches {_describe(sel)} among the {len(known)} runs recorded in {store.path}")
    if json_out:
        print_json({"schema": SCHEMA, "runs": [run_record(r, short[r.run_id]) for r in selected]})
    elif ids:
        for r in selected:
            print(r.run_id)
    elif selected:
        console.print(runs_table(selected, short, title=f"tinyhil runs ({len(selected)})", width=console.width,
                                 wide=wide))


def hint(text: str) -> None:
    """A note on stderr (stdout keeps only results, so ``--json`` and ``--ids`` output can be piped)."""
    from harness.cli.guard import err_console

    err_console.print(text, highlight=False, markup=False, soft_wrap=True)


def resolve(ref: str, results: Path, db: Optional[Path]) -> Run:
    """A run directory (read directly: no database needed), else a run id, unique prefix or unique part recorded
    in the history database. Raises ResultsError (unknown or ambiguous, one line)."""
    from harness.history import resolve_run

    if Path(ref).is_dir():
        return resolve_run(ref, None)
    with _open(results, db) as store:
        return resolve_run(ref, store)


def short_id_of(run: Run, results: Path, db: Optional[Path]) -> str:
    """The run's short id among the recorded runs (its full id when no database is there to compare with)."""
    from harness.cli.output import short_ids
    from harness.history import RunStore, default_db

    path = Path(db or default_db(results))
    if not path.exists():
        return run.run_id
    with RunStore(path) as store:
        known = store.run_ids()
    return short_ids(known + [run.run_id])[run.run_id]


@_command()
def show(run: str = typer.Argument(..., help="Run id, unique prefix (short id), or run directory"),
         json_out: bool = JsonOpt, wide: bool = WideOpt,
         results: Path = ResultsOpt, db: Optional[Path] = DbOpt) -> None:
    """Print one run: its configuration (manifest), results table, latency/energy, memory and tags."""
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA, run_record
    from harness.report.console import run_table

    r = resolve(run, results, db)
    if json_out:
        print_json({"schema": SCHEMA, "run": run_record(r, short_id_of(r, results, db)),
                    "manifest": r.manifest.model_dump(mode="json"), "summary": r.summary.model_dump(mode="json")})
        return
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold", no_wrap=True)
    info.add_column(overflow="fold")
    for k, v in _show_rows(r):
        info.add_row(k, v)
    console.print(info)
    console.print(run_table([r.summary], title=f"run {r.run_id}", width=console.width, wide=wide))

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
