"""Write a report of selected runs into a directory: every table format, every plot, the HTML page.

Files written into ``out`` (all overwritten):
- ``tradeoffs.md``, ``tradeoffs.csv``, ``tradeoffs.tex`` (booktabs), and ``runs.csv`` (one row per run);
- ``plots/accuracy_vs_<x>.png|pdf`` for x in latency, energy, ram, flash and the median instruction/cycle
  count (one per unit), ``plots/memory.png|pdf``, ``plots/layer_profile.png|pdf`` when a run has a profile;
- ``report.html``: all of the above in one self-contained file.
A plot whose metric no selected run has (e.g. energy before anything measured it) is not drawn; the reason is
listed in :attr:`Report.omitted` and in the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from harness.report import html as html_report
from harness.report import plots, table
from harness.rundir import Run, layer_profile


@dataclass
class Report:
    """What :func:`write_report` wrote: the table (pandas, numeric), its notes, and the paths by kind."""

    table: "table.pd.DataFrame"
    notes: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    figures: list[tuple[str, Path]] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)


def write_report(runs: list[Run], out: str | Path, selection: str = "all runs", console: Console | None = None,
                 catalog: str | Path | None = None) -> Report:
    """Write the full report of ``runs`` into ``out`` (created); prints the trade-off table to ``console`` when
    given. Raises ResultsError when ``runs`` is empty."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = table.runs_frame(runs, catalog)
    tab = table.tradeoff_table(frame)
    notes = table.footnotes(tab)
    sources = table.estimate_sources(frame)
    rep = Report(tab, notes)

    rep.files["markdown"] = out / "tradeoffs.md"
    rep.files["markdown"].write_text(table.to_markdown(tab, notes, sources))
    rep.files["csv"] = out / "tradeoffs.csv"
    table.to_csv(tab, rep.files["csv"])
    rep.files["latex"] = out / "tradeoffs.tex"
    rep.files["latex"].write_text(table.to_latex(tab, notes))
    rep.files["runs_csv"] = out / "runs.csv"
    frame.drop(columns=["date"]).assign(date=frame["date"].map(lambda d: d.isoformat())).to_csv(
        rep.files["runs_csv"], index=False, float_format="%.6g")

    pdir = out / "plots"
    for name, axis in plots.AXES.items():
        caption = f"Top-1 accuracy vs {axis.label}"
        _add(rep, caption, plots.tradeoff_plot(frame, axis, pdir / f"accuracy_vs_{name}"),
             f"accuracy vs {name}: no selected run has {axis.column}")
    for unit in sorted(frame["count_unit"].dropna().unique()):
        _add(rep, f"Top-1 accuracy vs {unit} per inference (measured)",
             plots.count_plot(frame, unit, pdir / f"accuracy_vs_{unit}"), f"accuracy vs {unit}: no data")
    _add(rep, "Flash and RAM use against each board's limit", plots.memory_bars(frame, pdir / "memory"),
         "memory bars: no run has memory figures")
    profiles = {f"{r.variant.name} @ {r.board}": layer_profile(r.summary, r.path) for r in _latest(runs)}
    _add(rep, "Per-layer profile (one segment per operator)", plots.layer_profile_plot(profiles, pdir / "layer_profile"),
         "per-layer profile: no selected run has profile data (run `tinyhil profile`)")

    rep.files["html"] = out / "report.html"
    rep.files["html"].write_text(html_report.render_html(tab, notes + [f"estimate source — {s}" for s in sources],
                                                         runs, rep.figures, selection, rep.omitted))
    if console is not None:
        console.print(table.rich_table(tab, notes))
    return rep


def _add(rep: Report, caption: str, paths: list[Path] | None, why_not: str) -> None:
    if paths:
        rep.figures.append((caption, paths[0]))
        rep.files[f"plot:{paths[0].stem}"] = paths[0]
    else:
        rep.omitted.append(why_not)


def _latest(runs: list[Run]) -> list[Run]:
    newest: dict[tuple, Run] = {}
    for r in sorted(runs, key=lambda r: (r.date, r.run_id)):
        newest[(r.variant.name, r.board, r.target)] = r
    return list(newest.values())
