"""The platform trade-off figure set: top-1 accuracy against latency, energy, RAM and flash.

One panel per metric; points coloured by board and shaped by compression method (short names from
:func:`harness.report.style.short_method`); vertical error bars are the 95 % Wilson interval of the accuracy
(n clips); a step line per board is that board's Pareto front (higher accuracy at lower cost), in the board's
colour and line style; RAM and flash panels draw each board's limit as a vertical line. Nothing selected is
dropped silently: a run a panel cannot place (the model does not fit the board, the metric or the accuracy was
not measured) is listed in the "not plotted" strip under the panels with the reason ("does not fit: +891 KiB
RAM", "energy not measured: rp2040 has no energy model"). Points closer than 2 % of both axes are spread
sideways by a few points (display offset, not data), which the strip says.

Every point is its own artist with ``gid = "run:<run id>"`` and every strip line has ``gid = "strip:<ids>"``,
so tests can check that each selected run appears in each figure (:func:`figure_runs`).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from harness.report import style
from harness.report.plots import pareto_front
from harness.report.stats import wilson


@dataclass(frozen=True)
class Panel:
    """One metric on x: runs-frame column, scale to the shown unit, axis label, estimate-flag column, the
    board-limit column (RAM/flash) and what the metric is called in the strip."""

    column: str
    scale: float
    label: str
    estimate_column: str | None = None
    limit_column: str | None = None
    name: str = ""


PANELS = {
    "latency": Panel("latency_us", 1e-3, "latency per inference (ms)", "latency_estimate", None, "latency"),
    "energy": Panel("energy_uj", 1e-3, "energy per inference (mJ)", "energy_estimate", None, "energy"),
    "ram": Panel("ram_bytes", 1 / 1024, "RAM (KiB)", None, "ram_limit_bytes", "RAM"),
    "flash": Panel("flash_bytes", 1 / 1024, "flash (KiB)", None, "flash_limit_bytes", "flash"),
}
DODGE_PT = 4.5  # sideways spread of coincident points, in points
NEAR = 0.02  # points nearer than this fraction of both axis spans count as coincident


@dataclass
class Placement:
    """Which runs a figure drew and which it listed in its strip (run id -> reason)."""

    plotted: set[str] = field(default_factory=set)
    strip: dict[str, str] = field(default_factory=dict)
    dodged: int = 0


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The newest run of each (variant, board, target, backend) of a runs frame, in variant/board order."""
    keys = ["variant", "board", "target", "backend"]
    df = frame.sort_values(["date", "run_id"]).groupby(keys, sort=False).tail(1)
    return df.sort_values(["variant", "board"], kind="stable").reset_index(drop=True)


def method_labels(df: pd.DataFrame) -> dict[str, str]:
    """{variant: legend label}: the short method name, plus the variant where two variants share one."""
    short = {v: style.short_method(v, m) for v, m in zip(df["variant"], df["method"])}
    counts = pd.Series(list(short.values())).value_counts()
    return {v: (s if counts[s] == 1 else f"{s}: {_model_name(v)}") for v, s in short.items()}


def _model_name(variant: str) -> str:
    """The variant name without its dtype suffix ("raw_mini_int8" -> "raw_mini"), at most 20 characters."""
    name = variant[:-5] if variant.endswith(("_int8", "-int8")) else variant
    return name if len(name) <= 20 else name[:19] + "…"


def does_not_fit(row) -> str | None:
    """ "+891 KiB RAM" style overflow text when the run's RAM or flash exceeds its board's limit, else None."""
    over = []
    for used, limit, name in ((row["ram_bytes"], row["ram_limit_bytes"], "RAM"),
                              (row["flash_bytes"], row["flash_limit_bytes"], "flash")):
        if not (math.isnan(used) or math.isnan(limit)) and used > limit:
            over.append(f"+{(used - limit) / 1024:,.0f} KiB {name}")
    return ", ".join(over) or None


def _why_not(row, panel: Panel) -> str | None:
    fit = does_not_fit(row)
    if fit:
        return f"does not fit: {fit}"
    if panel.column == "count_median" and row["count_unit"] not in (None, panel.name) and not math.isnan(
            row["count_median"]):
        return f"counted in {row['count_unit']}, not {panel.name}"
    if math.isnan(row[panel.column]):
        if panel.name == "energy" and not math.isnan(row["latency_us"]):
            return f"energy not measured ({row['board']} has no energy model or meter)"
        return f"{panel.name} not measured"
    if math.isnan(row["accuracy"]):
        return "accuracy not measured"
    return None


def _log_axis(values: np.ndarray, limits: np.ndarray) -> bool:
    both = np.concatenate([values, limits[np.isfinite(limits)]])
    return both.size > 0 and both.min() > 0 and both.max() / both.min() > 8


def _limits(lo: float, hi: float, log: bool) -> tuple[float, float]:
    if log:
        return lo / 1.6, hi * 1.6
    span = (hi - lo) or max(abs(hi), 1.0)
    return max(0.0, lo - 0.12 * span), hi + 0.12 * span


def _dodge(nx: np.ndarray, ny: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sideways offsets (points) for points whose normalised positions (0..1) are within NEAR of another, and
    the group index of each point (coincident points share one)."""
    offsets, groups = np.zeros(len(nx)), np.zeros(len(nx), int)
    seen = np.zeros(len(nx), bool)
    for i in range(len(nx)):
        if seen[i]:
            continue
        group = [j for j in range(len(nx)) if not seen[j] and abs(nx[j] - nx[i]) < NEAR and abs(ny[j] - ny[i]) < NEAR]
        for k, j in enumerate(group):
            seen[j], groups[j] = True, i
            offsets[j] = (k - (len(group) - 1) / 2) * DODGE_PT if len(group) > 1 else 0.0
    return offsets, groups


def draw_panel(ax, df: pd.DataFrame, panel: Panel, colours: dict, lines: dict, markers: dict,
               placement: Placement) -> None:
    """Draw one metric panel of the newest-run frame ``df`` into ``ax``; record placements."""
    ok = []
    for i, row in df.iterrows():
        why = _why_not(row, panel)
        if why:
            placement.strip.setdefault(row["run_id"], why)
        else:
            ok.append(i)
    sub = df.loc[ok]
    board_limits = {}
    if panel.limit_column:
        for b, lim in zip(df["board"], df[panel.limit_column]):
            if not math.isnan(lim):
                board_limits[b] = lim * panel.scale
    x = sub[panel.column].to_numpy(float) * panel.scale
    y = sub["accuracy"].to_numpy(float) * 100
    lim_values = np.array(list(board_limits.values()), float)
    if len(x) == 0:
        ax.text(0.5, 0.5, "no run has this metric", transform=ax.transAxes, ha="center", va="center")
        ax.set_xlabel(panel.label)
        return
    log = _log_axis(x, lim_values)
    lo, hi = _limits(float(np.nanmin(np.concatenate([x, lim_values]))),
                     float(np.nanmax(np.concatenate([x, lim_values]))), log)
    if log:
        ax.set_xscale("log")
        decades = math.log10(hi / lo)  # 1-2-5 ticks while they fit, decades only on wide ranges
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlim(lo, hi)
    ax.set_ylim(-3, 103)
    nx = (np.log10(x) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) if log else (x - lo) / (hi - lo)
    offsets, groups = _dodge(nx, y / 106)
    placement.dodged += int((offsets != 0).sum())
    fig = ax.figure
    for b, lim in sorted(board_limits.items()):
        ax.axvline(lim, color=colours[b], linestyle=lines[b], linewidth=0.9, alpha=0.8, zorder=1)
    for b in sorted(set(sub["board"])):
        mask = (sub["board"] == b).to_numpy()
        front = pareto_front(x[mask], y[mask])
        if len(front) > 1:
            ax.step(x[mask][front], y[mask][front], where="post", color=colours[b], linestyle=lines[b],
                    linewidth=0.8, alpha=0.7, zorder=2)
    drawn_ci = set()
    for (_, row), xi, yi, off, g in zip(sub.iterrows(), x, y, offsets, groups):
        shift = ax.transData + ScaledTranslation(off / 72, 0, fig.dpi_scale_trans)
        n = row["samples"]
        c = colours[row["board"]]
        if n and not math.isnan(n) and (g, yi, n) not in drawn_ci:  # one interval per coincident group
            drawn_ci.add((g, yi, n))
            lo_ci, hi_ci = wilson(round(row["accuracy"] * n), int(n))
            members = offsets[(groups == g) & (y == yi)]
            centre = ax.transData + ScaledTranslation(float(members.mean()) / 72, 0, fig.dpi_scale_trans)
            ax.errorbar([xi], [yi], yerr=[[yi - 100 * lo_ci], [100 * hi_ci - yi]], fmt="none",
                        ecolor=c if len(members) == 1 else "0.45", elinewidth=0.6, capsize=1.5, alpha=0.7,
                        transform=centre, zorder=3)
        ax.scatter([xi], [yi], s=22, marker=markers[row["variant"]], facecolors=c, edgecolors="white",
                   linewidths=0.4, transform=shift, zorder=4, gid=f"run:{row['run_id']}")
        placement.plotted.add(row["run_id"])
    est = panel.estimate_column and sub[panel.estimate_column].fillna(False).astype(bool).any()
    ax.set_xlabel(panel.label.replace(" (", ", est. (", 1) if est else panel.label)


def _panel(key: str | Panel) -> Panel:
    return PANELS[key] if isinstance(key, str) else key


def count_panel(unit: str) -> Panel:
    """A panel of the median count per inference in ``unit`` (instructions: exact on twins; cycles)."""
    return Panel("count_median", 1e-6, f"{unit} per inference (millions, measured)", None, None, unit)


def tradeoff_figure(frame: pd.DataFrame, panels: list, width_in: float) -> tuple[Figure, Placement]:
    """Build the trade-off figure of ``panels`` (keys of :data:`PANELS` or :class:`Panel`) for a runs frame at ``width_in``
    inches (2 panels a row at 7.2 in, 1 at 3.5 in); returns the figure and where each run went."""
    with matplotlib.rc_context(style.STYLE):
        return _build(frame, panels, width_in)


def _build(frame: pd.DataFrame, panels: list[str], width_in: float) -> tuple[Figure, Placement]:
    df = latest_rows(frame)
    colours, lines = style.board_colours(df["board"]), style.board_linestyles(df["board"])
    labels = method_labels(df)
    marker_of_label = {lab: style.MARKERS[i % len(style.MARKERS)] for i, lab in enumerate(dict.fromkeys(
        labels[v] for v in sorted(labels, key=lambda v: labels[v])))}
    markers = {v: marker_of_label[lab] for v, lab in labels.items()}
    ncols = 2 if width_in >= 6 and len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    placement = Placement()
    handles = [Line2D([], [], color=colours[b], linestyle=lines[b], marker="o", markersize=4, label=b)
               for b in sorted(colours)]
    handles += [Line2D([], [], linestyle="", marker=m, color="0.35", markersize=4, label=lab)
                for lab, m in marker_of_label.items()]
    legend_cols = 3 if ncols == 2 else 2
    legend_rows = math.ceil(len(handles) / legend_cols)
    panel_h = 2.1 if ncols == 2 else 2.2
    fig = style.figure(width_in, 1.0)  # height set below, once the strip's length is known
    gs = fig.add_gridspec(nrows + 2, ncols, height_ratios=[panel_h] * nrows + [0.17 * legend_rows + 0.1, 0.1])
    axes = []
    for k, key in enumerate(panels):
        ax = fig.add_subplot(gs[k // ncols, k % ncols], sharey=axes[0] if axes else None)
        draw_panel(ax, df, _panel(key), colours, lines, markers, placement)
        if k % ncols == 0:
            ax.set_ylabel("top-1 accuracy (%)")
        else:
            ax.tick_params(labelleft=False)
        axes.append(ax)
    shown = set(df.loc[df["run_id"].isin(placement.plotted), "variant"])
    for h in handles[len(colours):]:
        if not any(labels[v] == h.get_label() for v in shown):
            h.set_label(h.get_label() + " (not plotted)")
    leg_ax = fig.add_subplot(gs[nrows, :])
    leg_ax.axis("off")
    leg_ax.legend(handles=handles, loc="center", ncol=legend_cols, frameon=False, columnspacing=1.2,
                  handletextpad=0.4, borderaxespad=0)
    strip_lines = _strip_lines(df, placement, panels, width_in)
    strip_ax = fig.add_subplot(gs[nrows + 1, :])
    strip_ax.axis("off")
    step = 1.0 / max(len(strip_lines), 1)
    for i, (text, ids) in enumerate(strip_lines):
        strip_ax.text(0, 1 - i * step, text, ha="left", va="top", fontsize=7, color="0.2",
                      gid="strip:" + ",".join(ids), transform=strip_ax.transAxes)
    strip_h = 0.135 * sum(t.count("\n") + 1 for t, _ in strip_lines) + 0.05
    gs.set_height_ratios([panel_h] * nrows + [0.17 * legend_rows + 0.1, strip_h])
    fig.set_size_inches(width_in, panel_h * nrows + 0.17 * legend_rows + 0.1 + strip_h + 0.35)
    # one strip text per line group: spacing proportional to its own line count
    acc = 0.0
    total = sum(t.count("\n") + 1 for t, _ in strip_lines) or 1
    for (text, _), artist in zip(strip_lines, strip_ax.texts):
        artist.set_y(1 - acc / total)
        acc += text.count("\n") + 1
    return fig, placement


def _strip_lines(df: pd.DataFrame, placement: Placement, panels: list[str], width_in: float) -> list[tuple[str, list[str]]]:
    """Lines of the "not plotted" strip: one per reason, naming the runs (variant @ board)."""
    width = int(width_in * 17)
    by_reason: dict[str, list[str]] = {}
    for rid, why in placement.strip.items():
        by_reason.setdefault(why, []).append(rid)
    names = {r: f"{v} @ {b}" for r, v, b in zip(df["run_id"], df["variant"], df["board"])}
    out = []
    for why, ids in sorted(by_reason.items()):
        text = f"not plotted — {why}: " + "; ".join(sorted(names[i] for i in ids))
        out.append((textwrap.fill(text, width, subsequent_indent="   "), ids))
    notes = ["bars: 95 % Wilson interval of top-1 (n = " + _n_text(df) + "); step lines: Pareto front per board"]
    if any(_panel(p).limit_column for p in panels):
        notes.append("vertical lines: each board's limit (board colour and line style)")
    if placement.dodged:
        notes.append(f"{placement.dodged} coincident points spread sideways by {DODGE_PT:g} pt (display only)")
    out.append((textwrap.fill("; ".join(notes), width, subsequent_indent="   "), []))
    return out


def _n_text(df: pd.DataFrame) -> str:
    ns = sorted({int(n) for n, a in zip(df["samples"], df["accuracy"]) if not (pd.isna(n) or math.isnan(a))})
    return "—" if not ns else (f"{ns[0]} clips" if len(ns) == 1 else f"{ns[0]}–{ns[-1]} clips")


def figure_runs(fig: Figure) -> tuple[set[str], set[str]]:
    """(run ids drawn as points, run ids listed in the strip) of a figure made here, read from artist gids."""
    plotted, strip = set(), set()
    for artist in fig.findobj():
        gid = artist.get_gid() or ""
        if gid.startswith("run:"):
            plotted.add(gid[4:])
        elif gid.startswith("strip:") and len(gid) > 6:
            strip.update(gid[6:].split(","))
    return plotted, strip
