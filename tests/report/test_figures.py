"""Figures and tables a paper can print, on the realistic selection of issue 15 (tests/report/realistic.py: five
models × three twins, one model that does not fit, a board without an energy model, coincident points): every
selected run appears in every figure (plotted inside the axes or listed in the not-plotted strip), no two texts
overlap (matplotlib renderer extents), fonts are ≥ 7 pt at print size, figures are 3.5 or 7.2 in wide, LaTeX
compiles, CSV keeps full precision, and a recorded `tinyhil profile` result reaches the report. No emulator."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
from itertools import combinations

import pytest
from matplotlib.text import Text

from harness.history import RunStore, record_profile_file
from harness.report import bars, style, tradeoff
from harness.report.detail import confusion_figure
from harness.report.stats import confusion, wilson
from harness.report.table import runs_frame
from harness.rundir import read_run

from realistic import profile_document, write_selection
from report_runs import tinyhil


@pytest.fixture(scope="module")
def selection(tmp_path_factory):
    out = tmp_path_factory.mktemp("issue15")
    return out, [read_run(p) for p in write_selection(out)]


@pytest.fixture(scope="module")
def frame(selection):
    return runs_frame(selection[1])


def _figures(frame, runs):
    figs = {"tradeoffs": tradeoff.tradeoff_figure(frame, list(tradeoff.PANELS), style.TWO_COLUMN_IN)[0]}
    for name in tradeoff.PANELS:
        figs[f"accuracy_vs_{name}"] = tradeoff.tradeoff_figure(frame, [name], style.ONE_COLUMN_IN)[0]
    figs["accuracy_vs_instructions"] = tradeoff.tradeoff_figure(
        frame, [tradeoff.count_panel("instructions")], style.ONE_COLUMN_IN)[0]
    figs["board_cost"], figs["memory"] = bars.cost_bars(frame), bars.memory_bars(frame)
    r = next(r for r in runs if r.summary.predictions)
    figs["confusion"] = confusion_figure(confusion(r.summary), f"{r.variant.name} @ nrf52840, rp2040, stm32f746")
    return figs


@pytest.fixture(scope="module")
def figures(frame, selection):
    return _figures(frame, selection[1])


def test_selection_is_the_issue_case(selection, frame):
    runs = selection[1]
    assert len(runs) == 16 and frame["board"].nunique() == 3
    assert frame["energy_uj"].isna().sum() == 6  # five models on rp2040 (no energy model) + the one that does not fit
    assert set(frame.loc[frame["energy_uj"].isna() & frame["accuracy"].notna(), "board"]) == {"rp2040"}
    assert (frame["ram_bytes"] > frame["ram_limit_bytes"]).sum() == 1


def test_every_selected_run_is_in_every_figure(figures, frame):
    newest = set(tradeoff.latest_rows(frame)["run_id"])
    for name, fig in figures.items():
        if name == "confusion":
            continue
        fig.canvas.draw()
        plotted, strip = tradeoff.figure_runs(fig)
        assert plotted | strip == newest, name
        assert not (plotted & strip and name.startswith("accuracy_vs")), name  # one panel: plotted or listed
        for ax in fig.axes:  # each panel on its own: a run is drawn in it or listed in the strip
            in_ax = {a.get_gid()[4:] for a in ax.get_children() if (a.get_gid() or "").startswith("run:")}
            if in_ax:
                assert in_ax | strip == newest, (name, ax.get_xlabel())
            for coll in ax.collections:  # a plotted point lies inside the axes (not hidden off-limits)
                if (coll.get_gid() or "").startswith("run:"):
                    (x, y), = coll.get_offsets()
                    lo, hi = sorted(ax.get_xlim())
                    assert lo <= x <= hi and ax.get_ylim()[0] <= y <= ax.get_ylim()[1], (name, coll.get_gid())


def test_strip_says_why_a_run_is_not_plotted(figures):
    fig = figures["tradeoffs"]
    texts = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "does not fit: +891 KiB RAM" in texts and "acdnet20-float32 @ stm32f746" in texts
    assert "energy not measured (rp2040 has no energy model" in texts
    assert "coincident points spread sideways" in texts and "Wilson" in texts
    labels = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else \
        [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert {"int8 PTQ: acdnet20", "magnitude 50% + int8", "filter 50% + int8", "float32 (not plotted)"} <= set(labels)
    assert not any("no retraining" in lab for lab in labels)  # the recipe's sentence is not a legend entry


def _texts(fig):
    """(Text, window extent) of every text the renderer draws: visible, non-empty, and for tick labels only
    those of ticks inside the view limits (matplotlib keeps label objects for ticks it does not draw)."""
    renderer = fig.canvas.get_renderer()
    tick_labels, drawn = set(), set()
    for ax in fig.axes + [c for a in fig.axes for c in a.child_axes]:
        for axis in ax._axis_map.values():
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((tick.label1, tick.label2))
            if ax.axison and axis.get_visible():
                for tick in axis._update_ticks():
                    drawn.update(label for label in (tick.label1, tick.label2) if label.get_visible())
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (t in tick_labels and t not in drawn):
            continue
        b = t.get_window_extent(renderer)
        if b.width > 0 and b.height > 0:
            out.append((t, b))
    return out


def test_no_text_overlaps_and_fonts_are_readable(figures):
    for name, fig in figures.items():
        fig.canvas.draw()
        assert round(fig.get_figwidth(), 2) in (style.ONE_COLUMN_IN, style.TWO_COLUMN_IN), name
        texts = _texts(fig)
        assert len(texts) > 10, name
        fbox = fig.bbox
        for t, b in texts:
            assert t.get_fontsize() >= style.MIN_FONT_PT, (name, t.get_text(), t.get_fontsize())
            assert b.x0 >= fbox.x0 - 1 and b.x1 <= fbox.x1 + 1 and b.y0 >= fbox.y0 - 1 and b.y1 <= fbox.y1 + 1, \
                (name, t.get_text(), "outside the figure")
        for (t1, b1), (t2, b2) in combinations(texts, 2):
            inter_w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
            inter_h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
            assert inter_w <= 0 or inter_h <= 0, (name, t1.get_text(), t2.get_text())


def test_overlap_check_can_fail():
    """The overlap measure above finds two labels drawn on top of each other (the failure of issue 15)."""
    fig = style.figure(3.5, 2)
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "acdnet20-int8")
    ax.text(0.5, 0.5, "acdnet20_esc50_fold4_int8")
    fig.canvas.draw()
    (t1, b1), (t2, b2) = [(t, b) for t, b in _texts(fig) if t.get_text().startswith("acdnet")]
    assert min(b1.x1, b2.x1) - max(b1.x0, b2.x0) > 1 and min(b1.y1, b2.y1) - max(b1.y0, b2.y0) > 1


@pytest.fixture(scope="module")
def cli_report(selection, tmp_path_factory):
    """`tinyhil report` of the selection as a user makes it: run directories under results/, a `tinyhil profile`
    result saved under results/profiles/ and recorded in the history database. Returns (results, report dir,
    the profiled run)."""
    out, runs = selection
    tmp = tmp_path_factory.mktemp("cli-report")
    m7 = next(r for r in runs if r.variant.name == "acdnet20-int8" and r.board == "stm32f746")
    results = tmp / "results"
    shutil.copytree(out, results)
    saved = results / "profiles" / "acdnet20-int8-stm32f746-twin" / "profile.json"
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps(profile_document(m7.path)))
    pid, run_id = record_profile_file(saved, results / "history.sqlite")
    assert run_id is None  # nothing imported into that database yet: recorded without a run ...
    with RunStore(results / "history.sqlite") as store:
        store.import_tree(results)
        assert store.record_profile(json.loads(saved.read_text()), saved) == (pid, m7.run_id)  # ... now with it
    proc = tinyhil("report", "--results", str(results), "--out", str(tmp / "rep"))
    assert proc.returncode == 0, proc.stderr
    return results, tmp / "rep", m7


def test_report_files_tables_and_units(cli_report, selection):
    rep_dir, runs = cli_report[1], selection[1]
    from PIL import Image

    pngs = sorted((rep_dir / "plots").rglob("*.png"))
    assert {p.stem for p in pngs} >= {"tradeoffs", "accuracy_vs_latency", "accuracy_vs_energy", "accuracy_vs_ram",
                                      "accuracy_vs_flash", "accuracy_vs_instructions", "board_cost", "memory",
                                      "layer_profile"}
    assert len(list((rep_dir / "plots" / "confusion").glob("*.png"))) == 5  # one per model: identical on 3 twins
    for png in pngs:  # PDF + 300-dpi PNG of every figure, 3.5 or 7.2 in wide
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        with Image.open(png) as im:
            assert round(im.info["dpi"][0]) == 300 and im.width in (1050, 2160), png.name
    raw = (rep_dir / "runs.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert "e+" not in raw and "103589551" in raw  # the exact minimum count, not 1.0359e+08
    row = next(r for r in rows if r["variant"] == "acdnet20_esc50_fold4_int8" and r["board"] == "stm32f746")
    assert int(row["flash_bytes"]) == 175076 and float(row["latency_us"]) == runs[0].summary.latency.median
    trade = list(csv.DictReader(open(rep_dir / "tradeoffs.csv")))
    t = next(r for r in trade if r["variant"] == "acdnet20-int8" and r["board"] == "stm32f746")
    lo, hi = wilson(4, 7)
    assert (t["correct"], t["samples"]) == ("4", "7") and float(t["accuracy_ci_low_pct"]) == 100 * lo
    assert float(t["accuracy_ci_high_pct"]) == 100 * hi and t["method_short"] == "int8 PTQ"
    assert next(r for r in trade if r["variant"] == "acdnet20-float32")["fits"] == "False"
    md = (rep_dir / "tradeoffs.md").read_text()
    assert "57.1 (7; 25–84)" in md and "426.92 ms†" in md and "143.70 mJ†" in md and "386.3 µJ†" in md
    assert "103.61 M instr." in md and "171.0 KiB" in md and "does not fit" in md
    overlap = next(line for line in md.splitlines() if "calibration and evaluation data overlap" in line)
    assert "acdnet20-int8" in overlap and "raw_mini" not in overlap and "float32" not in overlap
    page = (rep_dir / "report.html").read_text()
    assert "<nav>" in page and "class='scroll'" in page and "overflow-x:auto" in page
    assert page.count("<figure") == len(pngs) and "95% CI (Wilson)" in page and "<th>accuracy</th>" in page


def _tex_document(table: str) -> str:
    return ("\\documentclass[twocolumn]{article}\n\\usepackage{booktabs}\n"
            "\\begin{document}\n" + table + "\\end{document}\n")


def test_latex_table_is_booktabs_and_compiles(cli_report, tmp_path):
    tex = (cli_report[1] / "tradeoffs.tex").read_text()
    body = tex.split("\\midrule")[1].split("\\bottomrule")[0]
    assert tex.count("\\toprule") == tex.count("\\midrule") == tex.count("\\bottomrule") == 1
    assert len(body.strip().splitlines()) == 16
    assert all(line.count("&") == 7 for line in body.strip().splitlines())  # 8 columns in every row
    assert "µ" not in tex and "_" not in body.replace("\\_", "")
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-recommended); structure checked above")
    (tmp_path / "doc.tex").write_text(_tex_document(tex))
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "doc.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Overfull \\hbox" not in proc.stdout  # fits the two-column page width


def test_recorded_profile_reaches_the_report(cli_report):
    results, rep_dir, m7 = cli_report
    with RunStore(results / "history.sqlite") as store:
        layers = store.profiles_for(store.select())
    assert list(layers) == [m7.run_id] and len(layers[m7.run_id]) == 23
    assert sum(l["count"] for l in layers[m7.run_id]) == int(m7.summary.counts.median)
    assert (rep_dir / "plots" / "layer_profile.png").is_file()
    top = list(csv.DictReader(open(rep_dir / "profiles.csv")))
    assert top[0]["operator"] == "CONV_2D" and 4 < float(top[0]["count_per_mac"]) < 7
    assert "Top operators: acdnet20-int8 @ stm32f746" in (rep_dir / "report.html").read_text()


def test_version_2_database_gets_the_profiles_table(selection, tmp_path):
    db = tmp_path / "h.sqlite"
    with RunStore(db) as store:
        store.import_tree(selection[0])
        n = store.table_counts()["runs"]
    con = sqlite3.connect(db)
    con.executescript("DROP TABLE profiles; UPDATE meta SET value='2' WHERE key='schema_version';")
    con.close()
    with RunStore(db) as store:
        assert store.table_counts()["runs"] == n and store.table_counts()["profiles"] == 0
    assert sqlite3.connect(db).execute("SELECT value FROM meta").fetchone() == ("3",)


def test_show_prints_ms_mj_and_the_interval(selection, tmp_path):
    out, runs = selection
    proc = tinyhil("show", "20261120T010000Z-acdnet20-int8", "--results", str(out), "--db", str(tmp_path / "h.sqlite"))
    assert proc.returncode == 0, proc.stderr
    assert "426.92 ms" in proc.stdout and "143.70 mJ" in proc.stdout and "us " not in proc.stdout
    assert "57.1% (4/7 clips; 95% Wilson interval 25.0–84.2%)" in proc.stdout and "103.61 M" in proc.stdout


def test_backends_get_their_own_groups(selection, tmp_path):
    """With a second deployment backend selected, the per-board bars group by board × backend."""
    from harness.rundir import write_run

    runs = [r for r in selection[1] if r.variant.name in ("raw_mini_int8", "acdnet20-int8")]
    extra = [read_run(write_run(tmp_path, r.run_id + "-tflm", r.manifest.model_copy(update={"backend": "tflm"}),
                                r.summary.model_copy(update={"backend": "tflm"}), []))
             for r in runs if r.board == "stm32f746"]
    frame = runs_frame(runs + extra)
    fig = bars.cost_bars(frame)
    fig.canvas.draw()
    groups = [t.get_text() for ax in fig.axes for c in ax.child_axes for t in c.get_xticklabels()]
    assert "stm32f746\ntflm" in groups and "stm32f746\ntinyhil" in groups and len(set(groups)) == 4
    plotted, strip = tradeoff.figure_runs(fig)
    assert plotted | strip == {r.run_id for r in runs + extra}
