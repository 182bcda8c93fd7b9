"""Trade-off plots for a paper (matplotlib, Agg canvas; each figure written as PNG at 300 dpi and as PDF).

Sized for a two-column paper: 3.5 in wide (one column), 8 pt text. One colour per board (fixed order by board
name), one marker per compression method; estimated values are drawn hollow (and their axis says "est."),
measured values filled. The Pareto front (higher accuracy, lower cost) is a dashed step line.
Figures use matplotlib's object API (``Figure`` + Agg canvas), never pyplot's global state.
"""

from __future__ import annotations

import functools
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here or on CI runners; harmless when already Agg

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

COLUMN_WIDTH_IN = 3.5
STYLE = {"font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
         "legend.fontsize": 6.5, "font.family": "DejaVu Sans", "pdf.fonttype": 42, "axes.grid": True,
         "grid.alpha": 0.3, "grid.linewidth": 0.5, "axes.linewidth": 0.6, "lines.linewidth": 1.0}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]  # Okabe–Ito


@dataclass(frozen=True)
class Axis:
    """What a trade-off plot puts on x: a :func:`harness.report.table.runs_frame` column, a scale to the shown
    unit, the label with its unit, and the column flagging estimates (None: always measured)."""

    column: str
    scale: float
    label: str
    estimate_column: str | None = None


AXES = {
    "latency": Axis("latency_us", 1e-3, "latency per inference (ms)", "latency_estimate"),
    "energy": Axis("energy_uj", 1e-3, "energy per inference (mJ)", "energy_estimate"),
    "ram": Axis("ram_bytes", 1 / 1024, "RAM (KiB)"),
    "flash": Axis("flash_bytes", 1 / 1024, "flash (KiB)"),
}


def board_colours(boards) -> dict[str, str]:
    return {b: PALETTE[i % len(PALETTE)] for i, b in enumerate(sorted(set(boards)))}


def method_markers(methods) -> dict[str, str]:
    ordered = sorted(set(methods), key=lambda m: (m != "none", m))
    return {m: MARKERS[i % len(MARKERS)] for i, m in enumerate(ordered)}


def styled(fn):
    """Run a plotting function under :data:`STYLE` (fonts and sizes are read when artists are created)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


def _figure(height_in: float, width_in: float = COLUMN_WIDTH_IN) -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _method_label(method: str) -> str:
    return "uncompressed" if method == "none" else textwrap.fill(method, 28)


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png (300 dpi) and ``stem``.pdf; returns both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=300)
    fig.savefig(paths[1])
    return paths


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (lower or equal x and higher or equal y, one strictly),
    sorted by x. ``x``, ``y``: 1-D float arrays of equal length (NaN-free)."""
    order = np.lexsort((-y, x))
    front, best = [], -math.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return np.array(front, dtype=int)


def _latest_per_row(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["variant", "board", "target"] + (["backend"] if "backend" in frame else [])
    return frame.sort_values(["date", "run_id"]).groupby(keys, sort=False).tail(1)


@styled
def tradeoff_plot(frame: pd.DataFrame, axis: Axis, stem: Path, title: str | None = None) -> list[Path] | None:
    """Accuracy (%) against ``axis`` for the newest run of each (variant, board, target, backend) in a runs frame;
    writes PNG + PDF at ``stem`` and returns the paths, or None when no run has both values."""
    df = _latest_per_row(frame)
    df = df[df[axis.column].notna() & df["accuracy"].notna()]
    if df.empty:
        return None
    colours = board_colours(frame["board"])
    markers = method_markers(frame["method"])
    x = df[axis.column].to_numpy(float) * axis.scale
    y = df["accuracy"].to_numpy(float) * 100
    est = (df[axis.estimate_column].fillna(False).astype(bool).to_numpy() if axis.estimate_column
           else np.zeros(len(df), bool))
    any_est = bool(est.any())
    fig = _figure(2.6)
    ax = fig.add_subplot()
    front = pareto_front(x, y)
    if len(front) > 1:
        ax.step(x[front], y[front], where="post", color="0.45", linestyle="--", linewidth=0.9, zorder=1)
    for xi, yi, e, (_, r) in zip(x, y, est, df.iterrows()):
        c = colours[r["board"]]
        ax.scatter([xi], [yi], s=28, marker=markers[r["method"]], zorder=3, linewidths=1.1,
                   facecolors="none" if e else c, edgecolors=c)
    if len(df) <= 12:
        for xi, yi, (_, r) in zip(x, y, df.iterrows()):
            backend = r.get("backend", "tinyhil")  # another deployment backend is named on its point
            ax.annotate(_short(r["variant"]) + ("" if backend == "tinyhil" else f" [{backend}]"), (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=5.5,
                        color="0.25")
    label = axis.label
    if any_est:
        label = label.replace(" (", ", est. (", 1) if est.all() else label + " — hollow = est."
    ax.set_xlabel(label)
    ax.set_ylabel("top-1 accuracy (%)")
    if title:
        ax.set_title(title)
    _pad_limits(ax, x, y)
    if x.min() > 0 and x.max() / x.min() > 50:
        ax.set_xscale("log")
        ax.set_xlim(x.min() / 2, x.max() * 2)
    handles = [Line2D([], [], linestyle="", marker="o", color=colours[b], label=b)
               for b in sorted(colours)]
    handles += [Line2D([], [], linestyle="", marker=m, color="0.3", markerfacecolor="0.3",
                        label=_method_label(meth))
                for meth, m in markers.items()]
    if any_est and not est.all():
        handles.append(Line2D([], [], linestyle="", marker="o", color="0.3", label="filled: measured"))
    if any_est:
        handles.append(Line2D([], [], linestyle="", marker="o", color="0.3", markerfacecolor="none",
                              label="hollow: estimated"))
    if len(front) > 1:
        handles.append(Line2D([], [], color="0.45", linestyle="--", label="Pareto front"))
    ax.legend(handles=handles, loc="best", frameon=True, framealpha=0.85, borderpad=0.4, handletextpad=0.3,
              labelspacing=0.3)
    return save(fig, stem)


def count_plot(frame: pd.DataFrame, unit: str, stem: Path) -> list[Path] | None:
    """Accuracy (%) against the median instructions or cycles per inference (``unit``), for the runs counted in
    that unit: on twins this is the exact measured quantity. Returns the paths or None."""
    sub = frame[frame["count_unit"] == unit]
    scale, prefix = _scale(sub["count_median"].max())
    axis = Axis("count_median", scale, f"{unit} per inference ({prefix}measured)")
    return tradeoff_plot(sub, axis, stem)


def _scale(largest: float) -> tuple[float, str]:
    """Scale and label prefix for counts: millions from 1e6, thousands from 1e3."""
    if largest >= 1e6:
        return 1e-6, "millions, "
    if largest >= 1e3:
        return 1e-3, "thousands, "
    return 1.0, ""


def _short(name: str, n: int = 22) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _pad_limits(ax, x: np.ndarray, y: np.ndarray) -> None:
    def pad(lo, hi, frac):
        span = (hi - lo) or max(abs(hi), 1.0)
        return lo - frac * span, hi + frac * span

    ax.set_xlim(*pad(float(x.min()), float(x.max()), 0.15))
    lo, hi = pad(float(y.min()), float(y.max()), 0.2)
    ax.set_ylim(max(lo, -2), min(hi, 102))


@styled
def memory_bars(frame: pd.DataFrame, stem: Path) -> list[Path] | None:
    """Flash and RAM use (KiB) of each (variant, board, target) against its board's limit: the light bar is
    the board's capacity, the coloured bar the use (RAM: tensor arena hatched), the percentage of the limit
    written beside it. Returns the paths, or None for an empty frame."""
    df = _latest_per_row(frame).sort_values(["board", "variant"])
    df = df[df["flash_bytes"].notna() | df["ram_bytes"].notna()]
    if df.empty:
        return None
    colours = board_colours(frame["board"])
    labels = [f"{_short(r.variant, 24)} @ {r.board}" for r in df.itertuples()]
    n = len(df)
    fig = _figure(0.95 + 0.28 * n, width_in=2 * COLUMN_WIDTH_IN)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, used_col, limit_col, name in ((axes[0], "flash_bytes", "flash_limit_bytes", "flash"),
                                          (axes[1], "ram_bytes", "ram_limit_bytes", "RAM")):
        pos = np.arange(n)
        used = df[used_col].to_numpy(float) / 1024
        limit = df[limit_col].to_numpy(float) / 1024
        ax.barh(pos, np.nan_to_num(limit), height=0.7, color="0.88", edgecolor="0.6", linewidth=0.5,
                label="board limit")
        ax.barh(pos, np.nan_to_num(used), height=0.45, color=[colours[b] for b in df["board"]],
                label="used")
        if name == "RAM":
            arena = df["arena_bytes"].to_numpy(float) / 1024
            ax.barh(pos, np.nan_to_num(arena), height=0.45, color="none", edgecolor="white", hatch="////",
                    linewidth=0, label="tensor arena")
        for p, u, lim in zip(pos, used, limit):
            if math.isnan(u):  # not measured: say so rather than draw an empty (0) bar
                ax.text(0, p, " not measured", va="center", fontsize=6, color="0.35")
            elif not math.isnan(lim) and lim > 0:
                ax.text(max(u, lim) * 1.01, p, f"{100 * u / lim:.0f}%", va="center", fontsize=6)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"{name} (KiB)")
        ax.grid(axis="y", visible=False)
        both = np.concatenate([used, limit])
        xmax = np.nanmax(both) if np.isfinite(both).any() else 1.0  # nothing measured on this side
        ax.set_xlim(0, xmax * 1.15)
    handles = [Patch(facecolor="0.88", edgecolor="0.6", label="board limit"),
               Patch(facecolor="0.45", label="used (colour = board)"),
               Patch(facecolor="0.45", edgecolor="white", hatch="////", label="tensor arena")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    return save(fig, stem)


@styled
def layer_profile_plot(profiles: dict[str, list[dict]], stem: Path) -> list[Path] | None:
    """Per-layer profile as stacked horizontal bars, one bar per run label, one segment per operator in
    execution order, coloured by operator type. ``profiles``: {label: [{idx, op, count, unit}]}. Counts in
    millions of the shared unit when every profile has the same unit, else share of the inference (%).
    Returns the paths, or None when no profile is given."""
    profiles = {k: v for k, v in profiles.items() if v}
    if not profiles:
        return None
    units = {l.get("unit") for v in profiles.values() for l in v}
    shared = units.pop() if len(units) == 1 else None
    ops = sorted({l["op"] for v in profiles.values() for l in v})
    cmap = matplotlib.colormaps["tab20"]
    op_colour = {op: cmap(i % 20) for i, op in enumerate(ops)}
    fig = _figure(1.1 + 0.35 * len(profiles) + 0.12 * len(ops))
    ax = fig.add_subplot()
    scale, prefix = _scale(max(sum(l["count"] for l in v) for v in profiles.values()))
    for row, (label, layers) in enumerate(profiles.items()):
        total = sum(l["count"] for l in layers)
        left = 0.0
        for l in layers:
            width = l["count"] * scale if shared else 100 * l["count"] / total
            ax.barh(row, width, left=left, height=0.6, color=op_colour[l["op"]], edgecolor="white", linewidth=0.3)
            left += width
    ax.set_yticks(range(len(profiles)), [_short(k.split(" @ ")[0], 20) + "\n@ " + k.split(" @ ")[-1]
                                          for k in profiles])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_title("per-layer profile (segment = operator)", loc="left")
    ax.set_xlabel(f"{shared} per inference ({prefix.rstrip(', ') or 'count'})" if shared
                  else "share of inference (%)")
    fig.legend(handles=[Patch(color=op_colour[o], label=o) for o in ops], loc="outside lower center", ncol=3,
               frameon=False)
    return save(fig, stem)
