"""Per-board comparison figures: grouped bars, one group per board (per board × backend when several backends
were selected), one bar per model.

- :func:`cost_bars`: latency (ms) and energy (mJ) per inference, log axis; a bar that was not measured is
  written "n/m" at its place, a model that does not fit "does not fit" (never a 0-height bar).
- :func:`memory_bars`: flash and RAM per model, each bar split into model weights, tensor arena, runtime
  (kernels, runtime, libc, startup, heap) and stack reservation, from ``summary.memory.components``; each
  board's limit as a line over its group; a bar past the axis is clipped with its value written on it.

Models are numbered (1, 2, ... under each bar) with a key in the legend, so no label has to fit under a bar;
the numbering is the same in both figures. Every bar or note carries ``gid = "run:<run id>"`` (or
``strip:<run id>``) for :func:`harness.report.tradeoff.figure_runs`.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from harness.report import style
from harness.report.tradeoff import does_not_fit, latest_rows

HATCHES = ["", "////", "....", "xxxx", "\\\\\\\\", "oo", "++", "--"]
COMPONENTS = [("weights", ("model_weights",), "#0072B2", ""), ("tensor arena", ("tensor_arena",), "#E69F00", "////"),
              ("runtime", ("runtime", "kernels", "libc", "startup_bsp", "heap", "other"), "#999999", "...."),
              ("stack", ("stack",), "#56B4E9", "xxxx")]


def _groups(df: pd.DataFrame) -> tuple[list[tuple], list[str]]:
    many = df["backend"].nunique() > 1
    keys = sorted({(b, k) for b, k in zip(df["board"], df["backend"])})
    return keys, [f"{b}\n{k}" if many else b for b, k in keys]


def _positions(df: pd.DataFrame):
    """(x position of each row, model number of each row, group centres, group labels, models in order)."""
    models = sorted(df["variant"].unique())
    number = {m: i + 1 for i, m in enumerate(models)}
    keys, labels = _groups(df)
    width = 0.8 / len(models)
    xs, centres = [], []
    for g, key in enumerate(keys):
        centres.append(g)
    for row in df.itertuples():
        g = keys.index((row.board, row.backend))
        xs.append(g - 0.4 + width * (models.index(row.variant) + 0.5))
    return np.array(xs), [number[v] for v in df["variant"]], centres, labels, models, width


def _model_key(models: list[str]) -> list[Patch]:
    return [Patch(facecolor="none", edgecolor="none", label=f"{i + 1} {m}") for i, m in enumerate(models)]


def cost_bars(frame: pd.DataFrame, width_in: float = style.TWO_COLUMN_IN) -> Figure | None:
    """Latency and energy per inference per model, grouped by board. None when no run has either."""
    df = latest_rows(frame)
    if df["latency_us"].isna().all() and df["energy_uj"].isna().all():
        return None
    with matplotlib.rc_context(style.STYLE):
        xs, nums, centres, labels, models, width = _positions(df)
        fig = style.figure(width_in, 2.5 + 0.14 * math.ceil(len(models) / 2))
        axes = fig.subplots(1, 2)
        colours = style.board_colours(df["board"])
        for ax, col, scale, label, est_col in ((axes[0], "latency_us", 1e-3, "latency per inference (ms)",
                                                "latency_estimate"),
                                               (axes[1], "energy_uj", 1e-3, "energy per inference (mJ)",
                                                "energy_estimate")):
            vals = df[col].to_numpy(float) * scale
            finite = vals[np.isfinite(vals)]
            ax.set_yscale("log")
            bottom = finite.min() / 3 if finite.size else 0.1
            top = finite.max() * 3 if finite.size else 1.0
            ax.set_ylim(bottom, top)
            for x, v, n, row in zip(xs, vals, nums, df.itertuples()):
                h = HATCHES[(n - 1) % len(HATCHES)]
                if math.isnan(v):
                    why = "does not fit" if does_not_fit(df.loc[row.Index]) else "n/m"
                    ax.text(x, bottom * 1.15, why, rotation=90, ha="center", va="bottom", fontsize=7,
                            color="0.3", gid=f"strip:{row.run_id}")
                else:
                    ax.bar(x, v - bottom, bottom=bottom, width=width * 0.9, color=colours[row.board],
                           edgecolor="white" if h else "none", hatch=h, linewidth=0, gid=f"run:{row.run_id}")
            ax.set_xticks(xs, [str(n) for n in nums], fontsize=7)
            ax.tick_params(axis="x", length=0, pad=1)
            sec = ax.secondary_xaxis(-0.09)
            sec.set_xticks(centres, labels)
            sec.tick_params(length=0)
            sec.spines["bottom"].set_visible(False)
            est = df[est_col].fillna(False).astype(bool).any()
            ax.set_ylabel(label.replace(" (", ", est. (", 1) if est else label)
            ax.grid(axis="x", visible=False)
        fig.legend(handles=_model_key(models), loc="outside lower center", ncol=2 if width_in > 5 else 1,
                   frameon=False, handlelength=0, handletextpad=0, title="models (bar number; n/m = not measured)",
                   title_fontsize=7)
        return fig


def _components(row) -> dict[str, tuple[float, float]]:
    """{component: (flash bytes, RAM bytes)} of a runs-frame row (NaN when not recorded)."""
    comp = row.get("components") or {}
    out = {}
    for name, keys, _, _ in COMPONENTS:
        out[name] = tuple(float(sum((comp.get(side) or {}).get(k, 0) for k in keys)) if comp.get(side) else
                          math.nan for side in ("flash", "ram"))
    return out


def memory_bars(frame: pd.DataFrame, width_in: float = style.TWO_COLUMN_IN) -> Figure | None:
    """Flash and RAM per model split into weights, arena, runtime, stack, grouped by board, with limits."""
    df = latest_rows(frame)
    df = df[df["flash_bytes"].notna() | df["ram_bytes"].notna()].reset_index(drop=True)
    if df.empty:
        return None
    with matplotlib.rc_context(style.STYLE):
        xs, nums, centres, labels, models, width = _positions(df)
        fig = style.figure(width_in, 2.7 + 0.14 * math.ceil(len(models) / 2))
        axes = fig.subplots(1, 2)
        for ax, side, used_col, limit_col, name in ((axes[0], 0, "flash_bytes", "flash_limit_bytes", "flash"),
                                                    (axes[1], 1, "ram_bytes", "ram_limit_bytes", "RAM")):
            limits = df[limit_col].to_numpy(float) / 1024
            used = df[used_col].to_numpy(float) / 1024
            fits = used[np.isfinite(used) & (~np.isfinite(limits) | (used <= limits))]
            top = 1.12 * max(np.nanmax(limits) if np.isfinite(limits).any() else 0, fits.max() if fits.size else 1)
            ax.set_ylim(0, top)
            for x, u, row in zip(xs, used, df.itertuples()):
                comps = _components(df.loc[row.Index])
                parts = [(c, comps[c][side] / 1024) for c, *_ in COMPONENTS]
                if math.isnan(u):
                    ax.text(x, top * 0.02, "n/m", rotation=90, ha="center", va="bottom", fontsize=7,
                            gid=f"strip:{row.run_id}")
                    continue
                if any(math.isnan(v) for _, v in parts) or not any(v for _, v in parts):
                    parts = [("total", u)]  # no component split recorded: one plain bar
                base = 0.0
                for comp, v in parts:
                    colour, hatch = next(((c[2], c[3]) for c in COMPONENTS if c[0] == comp), ("0.5", ""))
                    ax.bar(x, min(v, max(top - base, 0)), bottom=base, width=width * 0.9, color=colour,
                           hatch=hatch, edgecolor="white", linewidth=0, gid=f"run:{row.run_id}")
                    base += v
                if u > top:
                    ax.text(x, top * 0.98, f"{u:,.0f} KiB ↑", rotation=90, ha="center", va="top", fontsize=7,
                            color="white", fontweight="bold")
            keys, _ = _groups(df)
            for g, key in enumerate(keys):
                lim = df.loc[(df["board"] == key[0]) & (df["backend"] == key[1]), limit_col].iloc[0] / 1024
                if not math.isnan(lim):
                    ax.hlines(lim, g - 0.45, g + 0.45, color="black", linestyle="--", linewidth=0.9)
            ax.set_xticks(xs, [str(n) for n in nums], fontsize=7)
            ax.tick_params(axis="x", length=0, pad=1)
            sec = ax.secondary_xaxis(-0.09)
            sec.set_xticks(centres, labels)
            sec.tick_params(length=0)
            sec.spines["bottom"].set_visible(False)
            ax.set_ylabel(f"{name} (KiB)")
            ax.grid(axis="x", visible=False)
        handles = [Patch(facecolor=c, hatch=h, edgecolor="white", label=n) for n, _, c, h in COMPONENTS]
        handles.append(matplotlib.lines.Line2D([], [], color="black", linestyle="--", label="board limit"))
        fig.legend(handles=handles + _model_key(models), loc="outside lower center", ncol=3 if width_in > 5 else 2,
                   frameon=False, handlelength=1.2)
        return fig
