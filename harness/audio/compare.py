"""File vs over-the-air accuracy side by side, for the report.

Pairs runs of the same model (sha256), board, target and backend: one whose manifest has
``preprocessing.over_the_air`` (``bench --over-the-air``) and the latest file run. The report can call it as
``console.print(file_vs_over_the_air_table(runs))`` with ``runs`` from ``harness.rundir.read_run``.
"""

from __future__ import annotations

from rich.table import Table


def _key(run) -> tuple:
    m = run.manifest
    return (m.model.sha256 if m.model else None, run.board, str(run.target), run.backend)


def over_the_air_info(run) -> dict | None:
    """The manifest's over-the-air record of ``run`` (devices, rates, gains, per-clip delays), or None."""
    pre = run.manifest.preprocessing or {}
    return pre.get("over_the_air")


def file_vs_over_the_air(runs) -> list[dict]:
    """One row per over-the-air run that has a file run of the same model, board, target and backend: model,
    board, backend, file and over-the-air accuracy (fractions), the difference (percentage points), clips whose
    prediction agrees, mean delay (ms), mean level (dBFS) and the devices."""
    files: dict[tuple, object] = {}
    for run in sorted(runs, key=lambda r: r.date):
        if over_the_air_info(run) is None:
            files[_key(run)] = run
    rows = []
    for run in runs:
        ota = over_the_air_info(run)
        base = files.get(_key(run)) if ota else None
        if base is None:
            continue
        fp, op = base.summary.predictions or {}, run.summary.predictions or {}
        common = sorted(set(fp) & set(op))
        levels = [c["level_dbfs"] for c in ota.get("clips", {}).values()]
        fa, oa = base.summary.accuracy, run.summary.accuracy
        rows.append({"model": run.summary.model, "board": run.board, "target": str(run.target),
                     "backend": run.backend, "file_accuracy": fa, "ota_accuracy": oa,
                     "delta_points": None if fa is None or oa is None else round(100 * (oa - fa), 2),
                     "agree": sum(fp[k] == op[k] for k in common), "clips": len(common),
                     "mean_delay_ms": ota.get("mean_delay_ms"),
                     "mean_level_dbfs": round(sum(levels) / len(levels), 2) if levels else None,
                     "devices": f"{ota.get('play_device')} -> {ota.get('record_device')}",
                     "file_run": base.run_id, "ota_run": run.run_id})
    return rows


def file_vs_over_the_air_table(runs) -> Table:
    """The rows of :func:`file_vs_over_the_air` as a rich table (accuracy in %)."""
    table = Table(title="file vs over-the-air accuracy (same model, board, backend)")
    for col in ("model", "board", "backend", "file top-1", "over the air top-1", "Δ points", "clips agreeing",
                "delay ms", "level dBFS", "speaker -> microphone"):
        table.add_column(col, justify="left" if col in ("model", "board", "backend", "speaker -> microphone")
                         else "right")
    pct = lambda v: "—" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    for r in file_vs_over_the_air(runs):
        table.add_row(r["model"] or "?", r["board"], r["backend"], pct(r["file_accuracy"]), pct(r["ota_accuracy"]),
                      "—" if r["delta_points"] is None else f"{r['delta_points']:+.1f}",
                      f"{r['agree']}/{r['clips']}", "—" if r["mean_delay_ms"] is None else f"{r['mean_delay_ms']:.1f}",
                      "—" if r["mean_level_dbfs"] is None else f"{r['mean_level_dbfs']:.1f}", r["devices"])
    return table
