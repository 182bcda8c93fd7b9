"""One self-contained static HTML file for a set of runs: the trade-off table, every plot (PNG embedded as
base64 ``data:`` URIs), the list of runs and each run's manifest. No scripts, no external links, inline CSS:
it opens offline and can be attached to a mail or a CI artifact as is."""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from harness import __version__
from harness.report.table import display_table
from harness.rundir import Run

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #444;background:#f4f4f4}
td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}
figure{display:inline-block;margin:0.5em;vertical-align:top}
figure img{width:480px;border:1px solid #eee}
figcaption{font-size:12px;color:#555;max-width:480px}
pre{background:#f7f7f7;padding:0.6em;overflow-x:auto;font-size:12px}
.note{font-size:12px;color:#555}
"""


def _img(png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}">'


def render_html(table: pd.DataFrame, notes: list[str], runs: list[Run], figures: list[tuple[str, Path]],
                selection: str, omitted: list[str] = ()) -> str:
    """The report as one HTML string. ``figures``: (caption, PNG path) pairs, embedded; ``omitted``: plots not
    drawn and why (shown as notes)."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>tinyhil report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>tinyhil report</h1>",
        f"<p class='note'>{len(runs)} runs selected by {html.escape(selection)}; generated "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} by tinyhil {html.escape(__version__)}.</p>",
        "<h2>Platform trade-offs</h2>",
        display_table(table).to_html(index=False, escape=True, border=0, na_rep="—"),
        "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes),
        "<h2>Plots</h2>",
    ]
    for caption, png in figures:
        parts.append(f"<figure>{_img(png)}<figcaption>{html.escape(caption)}</figcaption></figure>")
    for line in omitted:
        parts.append(f"<p class='note'>not drawn: {html.escape(line)}</p>")
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>date (UTC)</th><th>variant</th><th>board</th>"
                 "<th>target</th><th>tags</th><th>git commit</th></tr>")
    for r in runs:
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            r.run_id, r.date.isoformat(timespec="seconds"), r.variant.name, r.board, r.target, ", ".join(r.tags),
            (r.manifest.git_commit or "—")[:12])) + "</tr>")
    parts.append("</table><h2>Manifests</h2>")
    for r in runs:
        manifest = json.dumps(r.manifest.model_dump(mode="json"), indent=2, sort_keys=True)
        parts.append(f"<details><summary>{html.escape(r.run_id)}</summary><pre>{html.escape(manifest)}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
