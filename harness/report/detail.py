"""Per-run detail: the confusion matrix with per-class accuracy, and the per-operator profile (stacked bars per
model × board, and the table of the top operators with instructions per MAC).

Profiles come from a run's own ``summary.profile`` / ``profile.json`` or from a ``tinyhil profile`` result
recorded in the history database (:meth:`harness.history.RunStore.profiles_for`); both are lists of
``{idx, op, count, unit, macs}`` (:func:`harness.rundir.layer_profile`).
"""

from __future__ import annotations

import math
import textwrap

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from harness.report import style, units
from harness.report.stats import Confusion, wilson


def confusion_figure(conf: Confusion, title: str, class_names: dict[int, str] | None = None,
                     width_in: float = style.ONE_COLUMN_IN) -> Figure:
    """Confusion matrix (rows: true class, columns: predicted; cell = clips) of the classes that occur, with
    each true class's accuracy and n to the right, and overall top-1 with its 95 % Wilson interval in the
    title. ``class_names``: {class id: name}; ids are shown otherwise."""
    names = [str((class_names or {}).get(c, c)) for c in conf.classes]
    k = len(names)
    if k > 14:  # 7 pt cells need the two-column width
        width_in = max(width_in, style.TWO_COLUMN_IN)
    with matplotlib.rc_context(style.STYLE):
        side = max(0.16 * k + 1.8, 2.4)
        fig = style.figure(width_in, side + 0.3)
        ax = fig.add_subplot()
        ax.imshow(conf.matrix, cmap="Greys", vmin=0, vmax=max(int(conf.matrix.max()), 1), aspect="auto")
        fs = 7
        for i in range(k):
            for j in range(k):
                v = int(conf.matrix[i, j])
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=fs,
                            color="white" if v > conf.matrix.max() / 2 else "black")
        ax.set_xticks(range(k), names, rotation=90, fontsize=fs)
        per = conf.per_class
        rows = conf.matrix.sum(axis=1)
        ax.set_yticks(range(k), [f"{n}  ({'—' if math.isnan(a) else f'{100 * a:.0f}%'} of {r})"
                                 for n, a, r in zip(names, per, rows)], fontsize=fs)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class (per-class accuracy of n)")
        ax.grid(False)
        correct, n = int(np.trace(conf.matrix)), conf.n
        lo, hi = wilson(correct, n)
        ax.set_title(f"{textwrap.fill(title, int(width_in * 12))}\ntop-1 {100 * correct / n:.1f}% ({correct}/{n}), 95% CI "
                     f"{100 * lo:.0f}–{100 * hi:.0f}%", loc="left", fontsize=7)
        return fig


def profile_figure(profiles: dict[str, list[dict]], width_in: float = style.TWO_COLUMN_IN) -> Figure | None:
    """One stacked horizontal bar per "model @ board" label: a segment per operator type (summed over the
    model's operators of that type, in first-execution order), counts in millions of the shared unit (share of
    the inference, %, when the units differ). None when no profile is given."""
    profiles = {k: v for k, v in profiles.items() if v}
    if not profiles:
        return None
    units_ = {l.get("unit") for v in profiles.values() for l in v}
    shared = units_.pop() if len(units_) == 1 else None
    ops = list(dict.fromkeys(l["op"] for v in profiles.values() for l in v))
    colours = {op: (style.PALETTE + ["#999999", "#661100", "#332288", "#117733"])[i % 12] for i, op in enumerate(ops)}
    hatches = {op: ["", "////", "....", "xxxx", "\\\\\\\\", "oo"][i // 6 % 6] for i, op in enumerate(ops)}
    with matplotlib.rc_context(style.STYLE):
        fig = style.figure(width_in, 0.9 + 0.26 * len(profiles) + 0.15 * math.ceil(len(ops) / 4))
        ax = fig.add_subplot()
        for row, (label, layers) in enumerate(profiles.items()):
            total = sum(l["count"] for l in layers)
            by_op: dict[str, float] = {}
            for l in layers:
                by_op[l["op"]] = by_op.get(l["op"], 0.0) + l["count"]
            left = 0.0
            for op, c in by_op.items():
                w = c / 1e6 if shared else 100 * c / total
                ax.barh(row, w, left=left, height=0.65, color=colours[op], hatch=hatches[op], edgecolor="white",
                        linewidth=0.3)
                left += w
            ax.text(left, row, f" {units.count(total)}", va="center", fontsize=7)
        ax.set_yticks(range(len(profiles)), list(profiles), fontsize=7)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlim(0, ax.get_xlim()[1] * 1.12)
        ax.set_xlabel(f"{shared} per inference (millions)" if shared else "share of the inference (%)")
        fig.legend(handles=[Patch(facecolor=colours[o], hatch=hatches[o], edgecolor="white", label=o) for o in ops],
                   loc="outside lower center", ncol=4, frameon=False)
        return fig


def top_operators(layers: list[dict], k: int = 5) -> list[dict]:
    """The ``k`` operators with the largest count: index, operator, count, share of the inference (%), MACs and
    count per MAC (None without MACs). ``layers``: [{idx, op, count, unit, macs}]."""
    total = sum(l["count"] for l in layers) or 1
    out = []
    for l in sorted(layers, key=lambda l: -l["count"])[:k]:
        macs = l.get("macs")
        out.append({"index": l["idx"], "operator": l["op"], "count": l["count"], "unit": l.get("unit"),
                    "share_pct": 100 * l["count"] / total, "macs": macs,
                    "per_mac": (l["count"] / macs) if macs else None})
    return out
