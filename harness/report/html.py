"""One self-contained static HTML file for a set of runs: a table of contents, the trade-off table (scrolls
sideways inside its box on a narrow screen instead of being clipped), every figure (PNG embedded as base64
``data:`` URIs at readable size: two-column figures up to the page width, one-column figures half of it),
accuracy statistics with per-class tables, the per-operator profile with the top operators, the list of runs
and each run's manifest. No scripts, no external links, inline CSS: it opens offline and can be attached to
a mail or a CI artifact as is."""

from __future__ import annotations

import base64
import html
import json
import math
from datetime import datetime, timezone

from harness import __version__
from harness.report import units
from harness.report.table import display_table
from harness.rundir import Run

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;
padding:0 1em;line-height:1.4}
nav{background:#f6f6f6;padding:0.4em 1em;border-radius:4px;font-size:14px}nav ol{margin:0.3em 0}
.scroll{overflow-x:auto;max-width:100%;border:1px solid #eee;margin:0.6em 0}
table{border-collapse:collapse;font-size:12.5px}
th,td{padding:3px 7px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #444;background:#f4f4f4;position:sticky;top:0}
td:nth-child(-n+4),th:nth-child(-n+4){text-align:left}
figure{margin:0.8em 0}figure img{width:100%;height:auto;border:1px solid #eee}
figure.wide{max-width:1000px}figure.narrow{max-width:500px;display:inline-block;vertical-align:top;margin-right:1em}
figcaption{font-size:13px;color:#444}
pre{background:#f7f7f7;padding:0.6em;overflow-x:auto;font-size:12px}
.note{font-size:13px;color:#555}.warn{font-size:13px;color:#8a4b00}
@media (max-width:700px){table{font-size:11px}figure.narrow{max-width:100%}}
"""

SECTIONS = [("summary", "Platform trade-off table"), ("tradeoff", "Trade-off figures"),
            ("board", "Per-board comparison"), ("statistics", "Accuracy statistics"),
            ("profile", "Per-operator profile"), ("runs", "Runs"), ("manifests", "Manifests")]


def _img(fig) -> str:
    data = base64.b64encode(fig.web_png or fig.png.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(fig.png.stem)}" src="data:image/png;base64,{data}">'


def _figures(rep, section: str) -> list[str]:
    return [f"<figure class='{'wide' if f.wide else 'narrow'}'>{_img(f)}<figcaption>{html.escape(f.caption)}"
            "</figcaption></figure>" for f in rep.figures if f.section == section]


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def _statistics(rep) -> list[str]:
    t = rep.table
    rows = [[r.variant, r.board, r.backend, units.DASH if math.isnan(r.accuracy_pct) else f"{r.accuracy_pct:.1f}%",
             units.DASH if r.correct != r.correct else f"{int(r.correct)}/{int(r.samples)}",
             units.DASH if math.isnan(r.accuracy_ci_low_pct) else
             f"{r.accuracy_ci_low_pct:.1f}–{r.accuracy_ci_high_pct:.1f}%"] for r in t.itertuples()]
    parts = ["<p class='note'>Top-1 accuracy with n (clips) and the 95% Wilson score interval. With few clips "
             "the interval is wide: compare variants by it, not by the point value.</p>",
             _table(["variant", "board", "backend", "top-1", "correct/n", "95% CI (Wilson)"], rows)]
    for f in rep.figures:
        if f.section != "confusion":
            continue
        rid = f.png.stem
        conf, names = rep.confusions.get(rid, (None, {}))
        parts.append(f"<details><summary>{html.escape(f.caption)}</summary>")
        parts.append(f"<figure class='narrow'>{_img(f)}</figure>")
        if conf is not None:
            per = conf.per_class
            parts.append(_table(["class", "clips", "correct", "accuracy"], [
                [names.get(c, c), int(conf.matrix[i].sum()), int(conf.matrix[i, i]),
                 units.DASH if math.isnan(per[i]) else f"{100 * per[i]:.0f}%"] for i, c in enumerate(conf.classes)]))
        parts.append("</details>")
    return parts


def _profile(rep) -> list[str]:
    parts = _figures(rep, "profile")
    for label, rows in rep.top_ops.items():
        parts.append(f"<h3>Top operators: {html.escape(label)}</h3>")
        parts.append(_table(["#", "operator", "count / inference", "share", "MACs", "count per MAC"], [
            [t["index"], t["operator"], units.count(t["count"], t["unit"] or ""), f"{t['share_pct']:.1f}%",
             units.count(t["macs"]) if t["macs"] else units.DASH,
             f"{t['per_mac']:.2f}" if t["per_mac"] is not None else units.DASH] for t in rows]))
    return parts


def render_html(rep, runs: list[Run], selection: str, sources: list[str] = ()) -> str:
    """The report as one HTML string from a :class:`harness.report.build.Report` (its table, notes, figures
    with their embedded PNGs, statistics, top operators and omissions) and the selected ``runs``."""
    toc = "".join(f"<li><a href='#{k}'>{html.escape(v)}</a></li>" for k, v in SECTIONS)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>tinyhil report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>tinyhil report</h1>",
        f"<p class='note'>{len(runs)} runs selected by {html.escape(selection)}; generated "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} by tinyhil {html.escape(__version__)}.</p>",
        f"<nav><b>Contents</b><ol>{toc}</ol></nav>",
        "<h2 id='summary'>Platform trade-off table</h2>",
        "<div class='scroll'>" + display_table(rep.table).to_html(index=False, escape=True, border=0, na_rep="—")
        + "</div>",
        "".join(f"<p class='{'warn' if 'overlap' in n else 'note'}'>{html.escape(n)}</p>" for n in rep.notes),
        "".join(f"<p class='note'>estimate source — {html.escape(s)}</p>" for s in sources),
        "<h2 id='tradeoff'>Trade-off figures</h2>", *_figures(rep, "tradeoff"),
        "<h2 id='board'>Per-board comparison</h2>", *_figures(rep, "board"),
        "<h2 id='statistics'>Accuracy statistics</h2>", *_statistics(rep),
        "<h2 id='profile'>Per-operator profile</h2>", *_profile(rep),
    ]
    for line in rep.omitted:
        parts.append(f"<p class='note'>not drawn: {html.escape(line)}</p>")
    parts.append("<h2 id='runs'>Runs</h2>")
    parts.append(_table(["run", "date (UTC)", "variant", "board", "target", "backend", "tags", "git commit"], [
        [r.run_id, r.date.isoformat(timespec="seconds"), r.variant.name, r.board, r.target, r.backend,
         ", ".join(r.tags), (r.manifest.git_commit or "—")[:12]] for r in runs]))
    parts.append("<h2 id='manifests'>Manifests</h2>")
    for r in runs:
        manifest = json.dumps(r.manifest.model_dump(mode="json"), indent=2, sort_keys=True)
        parts.append(f"<details><summary>{html.escape(r.run_id)}</summary><pre>{html.escape(manifest)}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
