"""Print style shared by every report figure: sizes for a two-column paper, fonts, a colour-blind-safe palette
that also reads in greyscale, markers, short compression-method names, and :func:`save` (PDF + 300-dpi PNG).

Widths: 3.5 in (one column) and 7.2 in (two columns) of a two-column paper (IEEE/ACM templates: 3.5 in and
7.16–7.2 in). Text is ≥ 7 pt at that size (:data:`MIN_FONT_PT`). Board colours are Okabe–Ito colours
(Okabe & Ito, "Color Universal Design", 2008) picked so their luminance differs (black, orange, blue, sky
blue, ...) and each board's Pareto front has its own line style, so a greyscale print still separates
them; compression methods differ by marker shape.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here or on CI runners

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ONE_COLUMN_IN = 3.5
TWO_COLUMN_IN = 7.2
MIN_FONT_PT = 7.0
DPI = 300
STYLE = {"font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
         "legend.fontsize": 7, "font.family": "DejaVu Sans", "pdf.fonttype": 42, "ps.fonttype": 42,
         "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5, "axes.linewidth": 0.6,
         "lines.linewidth": 1.0, "legend.handlelength": 1.6, "legend.borderaxespad": 0.3}
#: Okabe–Ito colours ordered by alternating luminance (greyscale: black, light, mid, light-mid, ...)
PALETTE = ["#000000", "#E69F00", "#0072B2", "#56B4E9", "#D55E00", "#009E73", "#CC79A7", "#F0E442"]
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


def board_colours(boards) -> dict[str, str]:
    """{board: colour}, boards in name order (stable across figures of one report)."""
    return {b: PALETTE[i % len(PALETTE)] for i, b in enumerate(sorted(set(boards)))}


def board_linestyles(boards) -> dict[str, object]:
    return {b: LINESTYLES[i % len(LINESTYLES)] for i, b in enumerate(sorted(set(boards)))}


def figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout Figure on an Agg canvas (object API: no pyplot global state)."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png (300 dpi) and ``stem``.pdf (vector, TrueType fonts); returns [png, pdf]."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=DPI)
    fig.savefig(paths[1])
    return paths


_METHOD_PATTERNS = [  # (regex on the variant name, short name); first match wins
    (r"xnor|binar", "XNOR"),
    (r"(^|[-_])sea([-_]|$)|embed", "SEA student"),
    (r"(^|[-_])kd([-_]|$)|distil|student", "KD student"),
    (r"magnitude[-_]?(\d+)", "magnitude {0}% + int8"),
    (r"filter[-_]?(\d+)", "filter {0}% + int8"),
    (r"prun\w*?[-_]?(\d+)", "pruned {0}% + int8"),
    (r"float32|fp32|float", "float32"),
    (r"int8", "int8 PTQ"),
]


def short_method(variant: str | None, method: str | None) -> str:
    """A short compression-method name for legends: "int8 PTQ", "magnitude 50% + int8", "filter 50% + int8",
    "XNOR", "KD student", "SEA student", "float32" — from the variant name (the recipe's variant names say the
    method of each variant; the recipe's ``method`` is one sentence for all of them), else the method itself
    cut to 24 characters; "none" is "uncompressed"."""
    name = (variant or "").lower()
    for pattern, short in _METHOD_PATTERNS:
        m = re.search(pattern, name)
        if m:
            short = short.format(*m.groups())
            return short if "int8" in name or "int8" not in short or short == "int8 PTQ" else short.replace(
                " + int8", "")
    if not method or method == "none":
        return "uncompressed"
    return method if len(method) <= 24 else method[:23] + "…"
