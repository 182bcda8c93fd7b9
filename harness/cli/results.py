"""``tinyhil report`` and ``tinyhil compare``: the trade-off report of selected runs, and the regression check of
one run against another (registered with the other history commands by :func:`harness.cli.history.register`).

``compare`` takes two run directories without any history database (``tinyhil compare RUN_DIR_A RUN_DIR_B``);
run ids, their unique prefixes and ``previous`` need the database.  Exit status: 0, 1 when a regression
threshold is passed, 2 on bad input, 5 when ``previous`` finds no earlier run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harness.cli import history
from harness.cli.history import (BackendSel, BoardSel, DbOpt, JsonOpt, ModelSel, ResultsOpt, SinceSel, TagSel,
                                 UntilSel, WideOpt, _command, _describe, _open, _selection)


@_command()
def report(
    run_ids: Optional[list[str]] = typer.Argument(None, help="Run ids or unique prefixes (short ids); default: "
                                                  "every run of the selection"),
    model: Optional[list[str]] = ModelSel, board: Optional[list[str]] = BoardSel,
    since: Optional[str] = SinceSel, until: Optional[str] = UntilSel, tag: Optional[list[str]] = TagSel,
    backend: Optional[list[str]] = BackendSel,
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Directory for the report files"),
    json_out: bool = JsonOpt, wide: bool = WideOpt,
    results: Path = ResultsOpt, db: Optional[Path] = DbOpt, catalog: Optional[Path] = typer.Option(
        None, "--catalog", help="Board catalog YAML (board limits in the memory plot)"),
) -> None:
    """Trade-off table (rows variant × board; top-1 with n and 95% Wilson interval) in console, Markdown, CSV
    and LaTeX; figures as PDF + 300-dpi PNG (accuracy vs latency/energy/RAM/flash per board, per-board bars,
    confusion matrices, per-operator profiles recorded by `tinyhil profile`); one offline HTML file."""
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA
    from harness.report.build import write_report

    with _open(results, db) as store:
        resolved = [store.resolve_id(r) for r in run_ids or ()]  # unknown or ambiguous: a one-line error
        sel = _selection(resolved, model, board, since, until, tag, backend=backend)
        selected = [r for r in store.select(sel) if not resolved or r.run_id in resolved]
        profiles = store.profiles_for(selected)
    rep = write_report(selected, out, selection=_describe(sel), console=None if json_out else history.console,
                       catalog=catalog, profiles=profiles, wide=wide)
    if json_out:
        print_json({"schema": SCHEMA, "selection": _describe(sel),
                    "rows": json.loads(rep.table.to_json(orient="records")),
                    "notes": rep.notes, "files": {k: str(v) for k, v in rep.files.items()}, "omitted": rep.omitted})
        return
    for kind, path in rep.files.items():
        history.console.print(f"{kind:28} {path}", highlight=False, soft_wrap=True)
    for line in rep.omitted:
        history.console.print(f"not drawn: {line}", highlight=False, soft_wrap=True)


@_command()
def compare(
    refs: Optional[list[str]] = typer.Argument(None, metavar="[BASELINE] [CURRENT]", help="Two run directories "
                                               "(no history database needed) or run ids/prefixes, baseline first; "
                                               "one argument is CURRENT with --baseline"),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Run directory, run id/prefix, or 'previous' "
                                           "(the newest earlier run of the same configuration)"),
    current: Optional[str] = typer.Option(None, "--current", help="Run directory or run id/prefix"),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with [tool.tinyhil.compare] "
                                          "(default: the nearest pyproject.toml)"),
    json_out: bool = JsonOpt,
    json_file: Optional[Path] = typer.Option(None, "--json-file", help="Also write the comparison as JSON here"),
    wide: bool = WideOpt, results: Path = ResultsOpt, db: Optional[Path] = DbOpt,
) -> None:
    """Per-metric change of CURRENT against BASELINE; exit 1 when a regression threshold is passed."""
    from harness.cli.output import print_json
    from harness.errors import NoBaselineError
    from harness.history import resolve_run
    from harness.metrics.regression import compare_runs, comparison_table, load_thresholds

    baseline, current = _refs(refs or [], baseline, current)
    thresholds, source = load_thresholds(config)
    if baseline != "previous" and Path(baseline).is_dir() and Path(current).is_dir():
        base, cur = resolve_run(baseline, None), resolve_run(current, None)  # two directories: no database
    else:
        with _open(results, db) as store:
            cur = resolve_run(current, store)
            base = store.previous(cur) if baseline == "previous" else resolve_run(baseline, store)
            if base is None:
                raise NoBaselineError(f"no earlier run of the configuration of {cur.run_id} in {store.path}; "
                                      "pass --baseline RUN explicitly (first night: nothing to compare)")
    cmp = compare_runs(base, cur, thresholds, source)
    doc = _document(cmp, source)
    if json_file:
        json_file.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    if json_out:
        print_json(doc)
    else:
        out = history.console
        out.print(f"baseline {base.run_id}\ncurrent  {cur.run_id}", highlight=False, markup=False, soft_wrap=True)
        out.print(comparison_table(cmp, width=out.width, wide=wide))
        if cmp.config_differences:
            out.print(f"[yellow]note:[/] the runs differ in configuration: {', '.join(cmp.config_differences)}",
                      highlight=False)
        out.print(f"thresholds: {source or 'defaults'}", soft_wrap=True, highlight=False)
        if cmp.regressions:
            out.print(f"[bold red]{len(cmp.regressions)} regression(s):[/] "
                      + "; ".join(c.metric for c in cmp.regressions), highlight=False)
        else:
            out.print("no regression")
    if cmp.regressions:
        raise typer.Exit(1)


def _refs(refs: list[str], baseline: str | None, current: str | None) -> tuple[str, str]:
    """(baseline, current) from the positional arguments and the options; typer.BadParameter when they do not
    name exactly one of each."""
    if len(refs) > 2 or (len(refs) == 2 and (baseline or current)) or (len(refs) == 1 and current):
        raise typer.BadParameter("give BASELINE CURRENT as two arguments, or --baseline/--current, not both")
    if len(refs) == 2:
        return refs[0], refs[1]
    current = refs[0] if refs else current
    if not baseline or not current:
        raise typer.BadParameter("compare needs a baseline and a current run: `tinyhil compare RUN_DIR_A RUN_DIR_B`"
                                 " or --baseline REF --current RUN")
    return baseline, current


def _document(cmp, source) -> dict:
    """The JSON document of a comparison (:mod:`harness.cli.records`)."""
    from harness.cli.records import SCHEMA, run_record

    return {"schema": SCHEMA, "baseline": run_record(cmp.baseline), "current": run_record(cmp.current),
            "thresholds": str(source) if source else None, "config_differences": list(cmp.config_differences),
            "regressions": len(cmp.regressions),
            "changes": [{"metric": c.metric, "unit": c.unit, "baseline": c.baseline, "current": c.current,
                         "delta": c.delta, "pct": c.pct, "limit": c.limit, "status": c.status, "note": c.note}
                        for c in cmp.changes]}
