"""The platform trade-off table: runs pivoted to rows variant × board, rendered for a console, Markdown, CSV and
LaTeX (booktabs).

Columns (units in the names of the CSV columns): accuracy (%), latency (ms, median per inference), energy (mJ
per inference), instructions or cycles (median per inference, with their unit), flash, RAM and tensor arena
(bytes; KiB = 1024 B in the display formats), MACs (millions in the display formats), bit-exactness and the
estimate flags. A latency or energy that is an estimate (every figure derived on a twin) carries
``latency_estimate`` / ``energy_estimate`` = True in CSV and a dagger (†) in every display format; a metric
that was not measured is empty / "—", never 0.
When several runs share a row key (variant, board, target), the newest is shown and ``runs`` counts them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.boards import load_catalog
from harness.errors import CatalogError, ResultsError
from harness.report import units
from harness.report.stats import correct_and_n, wilson
from harness.report.style import short_method
from harness.rundir import Counts, Energy, Latency, Memory, Run, Summary, energy_uj, latency_us

DAGGER = "†"
KEY = ["variant", "board", "target", "backend"]

#: numeric columns of the trade-off table, in order (CSV names)
NUMERIC_COLUMNS = ["variant", "method", "method_short", "base", "board", "target", "backend", "accuracy_pct", "correct",
                   "samples", "accuracy_ci_low_pct", "accuracy_ci_high_pct", "latency_ms", "latency_min_ms",
                   "latency_max_ms", "latency_estimate", "energy_mj", "energy_estimate", "count_median", "count_unit",
                   "flash_bytes", "ram_bytes", "arena_bytes", "flash_limit_bytes", "ram_limit_bytes", "fits", "macs",
                   "bit_exact", "estimates", "run_id", "runs"]


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def runs_frame(runs: list[Run], catalog: str | Path | None = None) -> pd.DataFrame:
    """One row per run with flat numeric columns: run_id, date, variant, method, base, model, board, target,
    accuracy (fraction), samples, count_median/min/max + count_unit, latency_us (median) + latency_estimate +
    latency_source, energy_uj (per inference) + energy_estimate + energy_source, avg_power_mw, flash_bytes,
    ram_bytes, arena_bytes, weight_bytes, macs, peak_stack_bytes, bit_exact, mismatches, tags, and the board's
    flash_limit_bytes / ram_limit_bytes from the catalog. A value that was not measured is NaN (None for flags
    and text), never 0. Raises ResultsError for a latency/energy unit it cannot convert."""
    try:
        boards = load_catalog(catalog)
    except CatalogError:
        boards = {}
    rows = []
    for r in runs:
        s = r.summary
        lat, en, mem, counts = s.latency or Latency(), s.energy or Energy(), s.memory or Memory(), s.counts or Counts()
        board = boards.get(r.board)
        rows.append({
            "run_id": r.run_id, "date": r.date, "variant": r.variant.name, "method": r.variant.method,
            "base": r.variant.base, "model": r.model, "board": r.board, "target": r.target, "backend": r.backend,
            "accuracy": _num(s.accuracy), "samples": s.samples,
            "count_median": _num(counts.median), "count_min": _num(counts.min), "count_max": _num(counts.max),
            "count_unit": counts.unit,
            "latency_us": _num(latency_us(s)), "latency_estimate": lat.estimate, "latency_source": lat.source,
            "latency_min_us": _num(_us(lat, lat.min)), "latency_max_us": _num(_us(lat, lat.max)),
            "correct": _correct(s), "components": mem.components.model_dump() if mem.components else None,
            "energy_uj": _num(energy_uj(s)), "energy_estimate": en.estimate, "energy_source": en.source,
            "avg_power_mw": _num(en.avg_power_mw),
            "flash_bytes": _num(mem.flash_bytes), "ram_bytes": _num(mem.ram_bytes),
            "arena_bytes": _num(s.arena_bytes), "weight_bytes": _num(s.weight_bytes), "macs": _num(s.macs),
            "peak_stack_bytes": _num(mem.peak_stack_bytes), "bit_exact": s.bit_exact, "mismatches": s.mismatches,
            "tags": ",".join(r.tags),
            "flash_limit_bytes": _num(board.flash_bytes if board else None),
            "ram_limit_bytes": _num(board.ram_bytes if board else None),
        })
    return pd.DataFrame(rows)


def _us(lat: Latency, value) -> float | None:
    return None if value is None or lat.median is None else latency_us(Summary(latency=lat.model_copy(
        update={"median": value})))


def _correct(s) -> float:
    cn = correct_and_n(s)
    return float("nan") if cn is None else float(cn[0])


def tradeoff_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Pivot a :func:`runs_frame` into the trade-off table: one row per (variant, board, target, backend),
    newest run of each, sorted by variant then board; columns :data:`NUMERIC_COLUMNS` (accuracy with its
    ``correct``/``samples`` and 95 % Wilson bounds in %, latency median/min/max in ms, ``fits`` False when
    RAM or flash exceed the board's limit). Raises ResultsError when empty."""
    if frame.empty:
        raise ResultsError("no runs selected; widen the selection (see `tinyhil runs`) or run `tinyhil bench`")
    frame = frame.sort_values(["date", "run_id"])
    counts = frame.groupby(KEY, sort=False).size().rename("runs")
    latest = frame.groupby(KEY, sort=False).tail(1).set_index(KEY).join(counts).reset_index()
    ci = [_ci(c, n) for c, n in zip(latest["correct"], latest["samples"])]
    out = pd.DataFrame({
        "variant": latest["variant"], "method": latest["method"], "base": latest["base"],
        "method_short": [short_method(v, m) for v, m in zip(latest["variant"], latest["method"])],
        "board": latest["board"], "target": latest["target"], "backend": latest["backend"],
        "accuracy_pct": latest["accuracy"] * 100, "correct": latest["correct"], "samples": latest["samples"],
        "accuracy_ci_low_pct": [c[0] for c in ci], "accuracy_ci_high_pct": [c[1] for c in ci],
        "latency_ms": latest["latency_us"] / 1e3, "latency_min_ms": latest["latency_min_us"] / 1e3,
        "latency_max_ms": latest["latency_max_us"] / 1e3, "latency_estimate": latest["latency_estimate"],
        "energy_mj": latest["energy_uj"] / 1e3, "energy_estimate": latest["energy_estimate"],
        "count_median": latest["count_median"], "count_unit": latest["count_unit"],
        "flash_bytes": latest["flash_bytes"], "ram_bytes": latest["ram_bytes"], "arena_bytes": latest["arena_bytes"],
        "flash_limit_bytes": latest["flash_limit_bytes"], "ram_limit_bytes": latest["ram_limit_bytes"],
        "fits": [_fits(r) for r in latest.itertuples()],
        "macs": latest["macs"], "bit_exact": latest["bit_exact"],
        "estimates": [_estimates(r) for r in latest.itertuples()],
        "run_id": latest["run_id"], "runs": latest["runs"],
    })
    return out.sort_values(["variant", "board", "target", "backend"], kind="stable").reset_index(drop=True)[NUMERIC_COLUMNS]


def _ci(correct, n) -> tuple[float, float]:
    if pd.isna(correct) or pd.isna(n) or not n:
        return float("nan"), float("nan")
    lo, hi = wilson(int(correct), int(n))
    return 100 * lo, 100 * hi


def _fits(row) -> bool | None:
    over = [u > lim for u, lim in ((row.ram_bytes, row.ram_limit_bytes), (row.flash_bytes, row.flash_limit_bytes))
            if not (math.isnan(u) or math.isnan(lim))]
    return None if not over else not any(over)


def _estimates(row) -> str:
    flags = [name for name, value, est in (("latency", row.latency_us, row.latency_estimate),
                                           ("energy", row.energy_uj, row.energy_estimate))
             if est and not math.isnan(value)]
    return ", ".join(flags) if flags else "none"


# --- display formats -----------------------------------------------------------------------------------------

DISPLAY_COLUMNS = ["variant", "method", "board", "backend", "top-1 % (n; 95% CI)", "latency", "latency min–max",
                   "energy", "instr./cycles", "flash", "RAM", "arena", "MACs", "bit-exact", "estimates"]


def _acc_text(r) -> str:
    if pd.isna(r.accuracy_pct):
        return "does not fit" if r.fits is False else "—"
    if pd.isna(r.samples):
        return f"{r.accuracy_pct:.1f}"
    ci = "" if pd.isna(r.accuracy_ci_low_pct) else f"; {r.accuracy_ci_low_pct:.0f}–{r.accuracy_ci_high_pct:.0f}"
    return f"{r.accuracy_pct:.1f} ({int(r.samples)}{ci})"


def _span(lo_ms, hi_ms) -> str:
    if pd.isna(lo_ms) or pd.isna(hi_ms):
        return "—"
    return f"{units.time_us(lo_ms * 1e3)} – {units.time_us(hi_ms * 1e3)}"


def _count(v, unit) -> str:
    short = {"instructions": "instr.", "cycles": "cycles"}.get(unit, unit or "")
    return units.count(v, short)


def _si(v) -> str:
    """103.59 M / 17.47 k / 812 ("—" when not measured)."""
    return units.count(v)


def display_table(table: pd.DataFrame, dagger: str = DAGGER) -> pd.DataFrame:
    """Human-readable strings of a :func:`tradeoff_table`: units in every cell (ms/mJ, µs/µJ below 1, k/M
    counts, KiB/MiB), top-1 with n and its 95 % Wilson interval, a ``dagger`` after every estimated value,
    "—" for a metric that was not measured, "does not fit" for a model over its board's limit."""
    def est(value: str, flag) -> str:
        return value + dagger if flag and value != units.DASH else value

    rows = []
    for r in table.itertuples():
        rows.append([
            r.variant, r.method_short, f"{r.board} ({r.target})" if r.target != "board" else r.board, r.backend,
            _acc_text(r), est(units.time_us(r.latency_ms * 1e3), r.latency_estimate),
            _span(r.latency_min_ms, r.latency_max_ms), est(units.energy_uj(r.energy_mj * 1e3), r.energy_estimate),
            _count(r.count_median, r.count_unit), units.kib(r.flash_bytes), units.kib(r.ram_bytes),
            units.kib(r.arena_bytes), _si(r.macs),
            {True: "yes", False: "NO"}.get(r.bit_exact, units.DASH), r.estimates,
        ])
    return pd.DataFrame(rows, columns=DISPLAY_COLUMNS)


def footnotes(table: pd.DataFrame) -> list[str]:
    """Short notes printed under every display format: what † means, units, what "—" means."""
    notes = []
    if (table["estimates"] != "none").any():
        notes.append(f"{DAGGER} estimate, not a measurement: on twins instructions are counted exactly and time and "
                     "energy are derived from them with a per-board model (sources listed in the report).")
    notes.append("top-1 % (n; 95% CI): accuracy over n clips with its 95% Wilson score interval; latency: median "
                 "per inference (min–max over the measurement windows); instr./cycles: median per inference (twin: "
                 "exact instruction count; board: cycle counter); KiB = 1024 bytes (exact bytes in the CSV); "
                 "— = not measured.")
    return notes


def estimate_sources(frame: pd.DataFrame) -> list[str]:
    """One line per (board, metric, source) of the estimated values in a runs frame: where each estimate's
    model comes from (CPI, power model, datasheet)."""
    lines = []
    for metric, col, flag in (("latency", "latency_source", "latency_estimate"),
                              ("energy", "energy_source", "energy_estimate")):
        if col not in frame:
            continue
        sub = frame[frame[flag].fillna(False).astype(bool) & frame[col].notna()]
        for (board, source), _ in sub.groupby(["board", col], sort=True):
            lines.append(f"{board} {metric}: {source}")
    return lines


def to_markdown(table: pd.DataFrame, notes: list[str], sources: list[str] = ()) -> str:
    """GitHub-flavoured Markdown table with the notes below it and the estimate sources as a list."""
    shown = display_table(table)
    md = shown.to_markdown(index=False, colalign=["left"] * 4 + ["right"] * (len(shown.columns) - 4),
                           disable_numparse=True)
    md += "\n\n" + "\n".join(f"{n}  " for n in notes) + "\n"
    if sources:
        md += "\nEstimate sources:\n\n" + "\n".join(f"- {s}" for s in sources) + "\n"
    return md


def to_csv(table: pd.DataFrame, path: Path) -> None:
    """Machine-readable CSV at full precision (no rounding, no exponent for counts): exact bytes, MACs and
    clip counts as integers, ms, mJ and % as Python writes a float; explicit estimate flags; empty = not
    measured."""
    out = table.copy()
    for col in ("correct", "samples", "flash_bytes", "ram_bytes", "arena_bytes", "flash_limit_bytes",
                "ram_limit_bytes", "macs", "runs"):
        out[col] = out[col].astype("Int64")
    out.to_csv(path, index=False)


def latex_frame(table: pd.DataFrame, dagger: str = DAGGER) -> pd.DataFrame:
    """The paper's columns of a :func:`tradeoff_table`, one unit per column (in the header) so numbers align:
    variant (its name carries the method; the short method names are in the figures, Markdown, CSV and HTML),
    board (target in brackets unless every row ran on twins), top-1 % with n and the 95 % Wilson interval, latency (ms), energy (mJ), median count (M), flash and RAM (KiB)."""
    twins_only = set(table["target"]) == {"twin"}
    unit = set(table["count_unit"].dropna())
    count_head = f"{'instr.' if unit == {'instructions'} else 'count'} (M)"
    rows = []
    for r in table.itertuples():
        def est(v, flag):
            return v + dagger if flag and v != units.DASH else v
        rows.append([r.variant, r.board if twins_only else f"{r.board} ({r.target})", _acc_text(r),
                     est(_fmt(r.latency_ms, ",.2f"), r.latency_estimate), est(_fmt(r.energy_mj, ",.2f"), r.energy_estimate),
                     _fmt(r.count_median / 1e6, ",.2f"), _fmt(r.flash_bytes / 1024, ",.1f"), _fmt(r.ram_bytes / 1024, ",.1f")])
    return pd.DataFrame(rows, columns=["variant", "board", "top-1 % (n; CI)", "latency (ms)",
                                       "energy (mJ)", count_head, "flash (KiB)", "RAM (KiB)"])


def _fmt(v, spec: str) -> str:
    return units.DASH if units.missing(v) else format(v, spec)


def to_latex(table: pd.DataFrame, notes: list[str], caption: str = "Platform trade-offs",
             label: str = "tab:tinyhil-tradeoffs") -> str:
    """A booktabs ``table*`` (two-column width, footnotesize) of :func:`latex_frame` with
    \\toprule/\\midrule/\\bottomrule; estimates marked $^\\dagger$; text escaped for LaTeX; the notes under
    it. Needs ``\\usepackage{booktabs}`` in the paper (tested with pdflatex, article twocolumn)."""
    shown = latex_frame(table, dagger="@@DAGGER@@")
    body = shown.to_latex(index=False, escape=True, column_format="ll" + "r" * (len(shown.columns) - 2))
    for a, b in (("@@DAGGER@@", r"$^\dagger$"), ("—", "--"), ("µ", r"$\mu$"), ("–", "--")):
        body = body.replace(a, b)
    twins = " All runs on emulated twins." if set(table["target"]) == {"twin"} else ""
    note_tex = " ".join(_latex_escape(n).replace(DAGGER, r"$^\dagger$") for n in notes) + twins
    return ("\\begin{table*}[t]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3.5pt}\n"
            f"\\caption{{{_latex_escape(caption)}}}\n\\label{{{label}}}\n{body}"
            f"\\par\\smallskip\\parbox{{\\textwidth}}{{\\scriptsize {note_tex}}}\n\\end{{table*}}\n")


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}"),
                 ("—", "--"), ("×", r"$\times$"), ("µ", r"$\mu$"), ("–", "--")):
        text = text.replace(a, b)
    return text


#: optional columns of the console table, dropped in this order when the console is too narrow
CONSOLE_DROP = ["latency min–max", "estimates", "arena", "MACs", "method", "target", "backend", "bit-exact",
                "energy", "RAM", "flash", "instr./cycles"]


def rich_table(table: pd.DataFrame, notes: list[str], title: str = "tinyhil platform trade-offs", *,
               width: int | None = None, wide: bool = False):
    """The table for the console (rich), notes as its caption: the :func:`display_table` columns with the
    target in a column of its own.  Fitted to ``width`` console columns by :func:`harness.report.fit.fit_table`:
    variant and board are never cut; the columns of :data:`CONSOLE_DROP` go first to last (a column equal on
    every row first, named in the caption); ``wide`` or ``width=None`` keeps them all."""
    from harness.report.fit import fit_table

    shown = display_table(table)
    shown.insert(3, "target", list(table["target"]))
    shown["board"] = list(table["board"])
    shown = shown.rename(columns={"top-1 % (n; 95% CI)": "top-1 % (n; CI)"})
    unit, drop = set(table["count_unit"].dropna()), list(CONSOLE_DROP)
    if len(unit) == 1:  # one count unit: it goes into the header, the cells keep the number
        shown["instr./cycles"] = [units.count(v) for v in table["count_median"]]
        u = unit.pop()
        shown = shown.rename(columns={"instr./cycles": {"instructions": "instr."}.get(u, u)})
        drop[-1] = {"instructions": "instr."}.get(u, u)
    rows = [[str(v) for v in row] for row in shown.itertuples(index=False)]
    cols = list(shown.columns)
    return fit_table(title, cols, rows, width or 1_000_000, ids=["variant", "board"], drop_order=drop,
                     wide=wide, right=cols[5:], notes=notes)
