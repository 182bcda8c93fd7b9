"""Write a report of selected runs into a directory: every table format, every figure, the HTML page.

Files written into ``out`` (all overwritten):
- ``tradeoffs.md``, ``tradeoffs.csv`` (full precision, exact bytes), ``tradeoffs.tex`` (booktabs ``table*``),
  ``runs.csv`` (one row per run, full precision), ``profiles.csv`` (top operators, when a profile exists);
- ``plots/tradeoffs.png|pdf``: the platform trade-off set (accuracy vs latency, energy, RAM, flash), 7.2 in;
- ``plots/accuracy_vs_<x>.png|pdf`` for x in latency, energy, ram, flash and the count unit(s): one panel
  each, 3.5 in (one column);
- ``plots/board_cost.png|pdf`` (latency/energy per model grouped by board) and ``plots/memory.png|pdf`` (flash
  and RAM split into weights, arena, runtime, stack, with each board's limit), 7.2 in;
- ``plots/layer_profile.png|pdf`` (per-operator profile) when a selected run has a profile;
- ``plots/confusion/<run id>.png|pdf``: confusion matrix and per-class accuracy of each newest run;
- ``report.html``: all of the above in one self-contained file with a table of contents.
PNGs are 300 dpi, PDFs vector. A figure whose metric no selected run has is not drawn; the reason is listed
in :attr:`Report.omitted` and in the HTML.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console

from harness.report import bars, detail, notes as report_notes, style, table, tradeoff
from harness.report import html as html_report
from harness.report.stats import confusion
from harness.rundir import Run, layer_profile


@dataclass
class Figure:
    """A written figure: caption, PNG path, HTML section, width class ("wide" 7.2 in / "narrow" 3.5 in)."""

    caption: str
    png: Path
    section: str
    wide: bool
    web_png: bytes = b""


@dataclass
class Report:
    """What :func:`write_report` wrote: the table (pandas, numeric), its notes, the paths by kind, the figures
    (:class:`Figure`), what was not drawn and why, and the top-operator tables per profile label."""

    table: "pd.DataFrame"
    notes: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    top_ops: dict[str, list[dict]] = field(default_factory=dict)
    confusions: dict[str, object] = field(default_factory=dict)


def write_report(runs: list[Run], out: str | Path, selection: str = "all runs", console: Console | None = None,
                 catalog: str | Path | None = None, profiles: dict[str, list[dict]] | None = None,
                 wide: bool = False) -> Report:
    """Write the full report of ``runs`` into ``out`` (created); prints the trade-off table to ``console`` when
    given, fitted to its width (every column with ``wide``: :func:`harness.report.table.rich_table`). ``profiles``: {run id: [{idx, op, count, unit, macs}]} recorded in the history database by
    ``tinyhil profile`` (a run's own profile takes precedence). Raises ResultsError when ``runs`` is empty."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = table.runs_frame(runs, catalog)
    tab = table.tradeoff_table(frame)
    notes = table.footnotes(tab) + report_notes.calibration_overlaps(runs)
    sources = table.estimate_sources(frame)
    rep = Report(tab, notes)

    rep.files["markdown"] = out / "tradeoffs.md"
    rep.files["markdown"].write_text(table.to_markdown(tab, notes, sources))
    rep.files["csv"] = out / "tradeoffs.csv"
    table.to_csv(tab, rep.files["csv"])
    rep.files["latex"] = out / "tradeoffs.tex"
    rep.files["latex"].write_text(table.to_latex(tab, notes))
    rep.files["runs_csv"] = out / "runs.csv"
    _runs_csv(frame, rep.files["runs_csv"])

    pdir = out / "plots"
    _tradeoff_figures(rep, frame, pdir)
    _add(rep, "Latency and energy per inference, grouped by board", bars.cost_bars(frame), pdir / "board_cost",
         "board", "board comparison of latency/energy: no run has either")
    _add(rep, "Flash and RAM per model (weights, tensor arena, runtime, stack) against each board's limit",
         bars.memory_bars(frame), pdir / "memory", "board", "memory bars: no run has memory figures")
    _profiles(rep, runs, profiles or {}, pdir, out)
    _confusions(rep, runs, pdir / "confusion")

    rep.files["html"] = out / "report.html"
    rep.files["html"].write_text(html_report.render_html(rep, runs, selection, sources))
    if console is not None:
        console.print(table.rich_table(tab, notes, width=console.width, wide=wide))
    return rep


def _runs_csv(frame: pd.DataFrame, path: Path) -> None:
    """One row per run at full precision (integers stay integers: 103589590, not 1.0359e+08)."""
    df = frame.drop(columns=["date", "components"]).assign(date=frame["date"].map(lambda d: d.isoformat()))
    for col in ("samples", "correct", "count_min", "count_max", "flash_bytes", "ram_bytes", "arena_bytes",
                "weight_bytes", "macs", "peak_stack_bytes", "mismatches", "flash_limit_bytes", "ram_limit_bytes"):
        df[col] = pd.to_numeric(df[col]).round().astype("Int64")
    df.to_csv(path, index=False)


def _tradeoff_figures(rep: Report, frame: pd.DataFrame, pdir: Path) -> None:
    fig, _ = tradeoff.tradeoff_figure(frame, list(tradeoff.PANELS), style.TWO_COLUMN_IN)
    _add(rep, "Platform trade-offs: top-1 accuracy against latency, energy, RAM and flash (colour = board, marker "
         "= compression method, error bars = 95% Wilson interval)", fig, pdir / "tradeoffs", "tradeoff", "")
    for name, panel in tradeoff.PANELS.items():
        has = frame[panel.column].notna() & frame["accuracy"].notna()
        fig = tradeoff.tradeoff_figure(frame, [name], style.ONE_COLUMN_IN)[0] if has.any() else None
        _add(rep, f"Top-1 accuracy vs {panel.label} (one column)", fig, pdir / f"accuracy_vs_{name}", "tradeoff",
             f"accuracy vs {name}: no selected run has {panel.column}")
    for unit in sorted(frame["count_unit"].dropna().unique()):
        fig, _ = tradeoff.tradeoff_figure(frame, [tradeoff.count_panel(unit)], style.ONE_COLUMN_IN)
        _add(rep, f"Top-1 accuracy vs {unit} per inference (measured)", fig, pdir / f"accuracy_vs_{unit}",
             "tradeoff", f"accuracy vs {unit}: no data")


def _profiles(rep: Report, runs: list[Run], recorded: dict[str, list[dict]], pdir: Path, out: Path) -> None:
    labelled = {}
    for r in tradeoff_latest(runs):
        layers = layer_profile(r.summary, r.path) or recorded.get(r.run_id) or []
        if layers:
            labelled[f"{r.variant.name} @ {r.board}" + ("" if r.backend == "tinyhil" else f" ({r.backend})")] = layers
    _add(rep, "Per-operator profile (segments: operator types, in execution order)",
         detail.profile_figure(labelled), pdir / "layer_profile", "profile",
         "per-operator profile: no selected run has profile data (run `tinyhil profile` and report again)")
    if not labelled:
        return
    rep.top_ops = {label: detail.top_operators(layers) for label, layers in labelled.items()}
    rep.files["profiles_csv"] = out / "profiles.csv"
    with open(rep.files["profiles_csv"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model_at_board", "index", "operator", "count", "unit", "share_pct", "macs", "count_per_mac"])
        for label, rows in rep.top_ops.items():
            for t in rows:
                count = int(t["count"]) if float(t["count"]).is_integer() else t["count"]
                w.writerow([label, t["index"], t["operator"], count, t["unit"], t["share_pct"], t["macs"],
                            t["per_mac"]])


def _confusions(rep: Report, runs: list[Run], cdir: Path) -> None:
    """One confusion figure per variant and distinct confusion matrix: the runs of a model on several boards
    that predicted exactly alike (bit-exact deployments) share one figure whose caption names them all."""
    groups: dict[tuple, list[Run]] = {}
    for r in tradeoff_latest(runs):
        conf = confusion(r.summary)
        if conf is not None:
            groups.setdefault((r.variant.name, conf.classes, conf.matrix.tobytes()), []).append(r)
    for members in groups.values():
        r = members[0]
        conf, names = confusion(r.summary), report_notes.class_names(r)
        boards = ", ".join(m.board for m in members)
        fig = detail.confusion_figure(conf, f"{r.variant.name} @ {boards}", names)
        rep.confusions[r.run_id] = (conf, names)
        same = " (identical predictions)" if len(members) > 1 else ""
        _add(rep, f"Confusion matrix and per-class accuracy: {r.variant.name} @ {boards}{same}; runs "
             + ", ".join(m.run_id for m in members), fig, cdir / r.run_id, "confusion", "")


def tradeoff_latest(runs: list[Run]) -> list[Run]:
    """The newest run of each (variant, board, target, backend), in variant/board order."""
    newest: dict[tuple, Run] = {}
    for r in sorted(runs, key=lambda r: (r.date, r.run_id)):
        newest[(r.variant.name, r.board, r.target, r.backend)] = r
    return sorted(newest.values(), key=lambda r: (r.variant.name or "", r.board))


def _add(rep: Report, caption: str, fig, stem: Path, section: str, why_not: str) -> None:
    """Save ``fig`` (PNG 300 dpi + PDF) and keep a 150-dpi PNG for the HTML; record why when it is None."""
    if fig is None:
        if why_not:
            rep.omitted.append(why_not)
        return
    import io

    png, _ = style.save(fig, stem)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150 if fig.get_figwidth() > 5 else 110)
    rep.figures.append(Figure(caption, png, section, fig.get_figwidth() > 5, buf.getvalue()))
    rep.files[f"{'confusion' if section == 'confusion' else 'plot'}:{stem.stem}"] = png
