"""What ``tinyhil bench`` prints when its runs are done: the results table (one row per run, with its run id and
model), then the boards compared (several boards) or the variants side by side (several models on one board),
the run directories and the models that did not fit; or, with ``--json``, one JSON document
(:mod:`harness.cli.records`: ``{"schema", "runs": [RUN...], "not_run": [...]}``) and nothing else on stdout.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def known_run_ids(out: Path) -> list[str]:
    """Run ids a short id must be unique among: the run directories under ``out`` and the runs of its history
    database (``$TINYHIL_DB`` or ``<out>/history.sqlite``) when there is one."""
    from harness.history import RunStore, default_db  # noqa: PLC0415
    from harness.rundir import is_run_dir  # noqa: PLC0415

    ids = [p.name for p in Path(out).iterdir() if is_run_dir(p)] if Path(out).is_dir() else []
    db = default_db(out)
    if Path(db).exists():
        with RunStore(db) as store:
            ids += store.run_ids()
    return ids


def bench_not_run(compared: list) -> list[dict]:
    """The cells that did not run, from the bench's compared rows (board, summary or None, status[, model[,
    backend]]): [{"board", "model", "backend", "reason"}] (model/backend None when unknown)."""
    return [{"board": row[0].name, "model": row[3] if len(row) > 3 else None,
             "backend": row[4] if len(row) > 4 else None, "reason": row[2]} for row in compared if row[1] is None]


def print_bench(console: Console, results: list, refused: list, compared: list, n_boards: int, *, out: Path,
                wide: bool = False, json_out: bool = False) -> None:
    """Print the tables of a bench call (``results``: harness.bench.RunResult list; ``refused``: one line per
    model that did not fit; ``compared``: rows of :func:`harness.report.console.board_table`) fitted to
    ``console``'s width, or the JSON document."""
    from harness.cli.output import print_json, short_ids  # noqa: PLC0415
    from harness.cli.recent import remember_results_dir  # noqa: PLC0415
    from harness.report.console import board_table, run_table, variant_table  # noqa: PLC0415

    if results:
        remember_results_dir(out)
    ids = [Path(r.path).name for r in results]
    short = short_ids(known_run_ids(out) + ids)
    if json_out:
        from harness.cli.records import SCHEMA, run_record  # noqa: PLC0415
        from harness.rundir import read_run  # noqa: PLC0415

        print_json({"schema": SCHEMA, "runs": [run_record(read_run(r.path), short[i]) for r, i in zip(results, ids)],
                    "not_run": bench_not_run(compared)})
        return
    width = console.width
    if results:
        console.print(run_table([r.summary for r in results], run_ids=ids, short=short, width=width, wide=wide))
    if n_boards > 1:
        console.print(board_table(compared, width=width, wide=wide))
    if len({r.summary.model for r in results}) > 1 and n_boards == 1:  # several variants (not only backends)
        console.print(variant_table([r.summary for r in results], width=width, wide=wide))
    for r in results:
        console.print(f"run directory: {r.path}", highlight=False, soft_wrap=True)
    for line in refused:
        console.print(f"not run (does not fit): {line}", highlight=False, soft_wrap=True)
    for row in compared:  # a failed cell of --jobs/--place: (board, None, "failed: reason", model, backend)
        if row[1] is None and str(row[2]).startswith("failed") and n_boards == 1:
            what = " ".join(str(x) for x in row[3:]) or "run"
            console.print(f"not run ({row[2]}): {what} on {row[0].name}", highlight=False, soft_wrap=True)
