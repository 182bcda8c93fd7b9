"""`tinyhil report`: selection, the trade-off pivot, every table format, plots (PNG + PDF) and the HTML page.

Data: the two real twin runs of the session plus runs derived from them through write_run: a pruned variant,
runs with estimated latency/energy (as issue 4's summaries carry them) and a per-operator profile."""

from __future__ import annotations

import csv
import json
import html.parser
import io

import pytest

from harness.report.build import write_report
from harness.report.plots import pareto_front
from harness.report.table import runs_frame, tradeoff_table
from harness.history import RunStore

from report_runs import derive_run, tinyhil

import numpy as np


def _estimates(count: float, clock_hz: float, tag: str) -> dict:
    """Latency/energy fields shaped as in the brief (values: a CPI-1 model, only test data)."""
    us = count / clock_hz * 1e6
    return {"latency": {"unit": "us", "median": us, "min": us, "max": us, "estimate": True,
                        "source": f"{tag}: instructions × CPI 1.0 / clock"},
            "energy": {"unit": "uJ", "per_inference": us * 30e-3, "avg_power_mw": 30.0, "estimate": True,
                       "source": f"{tag}: 30 mW × estimated time"}}


@pytest.fixture(scope="module")
def results(real_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report-results")
    m7, m4 = real_runs["stm32f746"], real_runs["nrf52840"]


    def count(run):
        return json.loads((run / "summary.json").read_text())["counts"]["median"]

    prof = {"unit": "instructions", "operators": [
        {"index": 0, "operator": "CONV_2D", "instructions": int(count(m7) * 0.7), "macs": 1692},
        {"index": 1, "operator": "MAX_POOL_2D", "instructions": int(count(m7) * 0.3), "macs": 0}]}
    derive_run(m7, out, "a-base-m7", date="2026-11-01T01:00:00+00:00", accuracy=0.6,
               **_estimates(count(m7), 216e6, "test"), profile=prof)
    derive_run(m4, out, "b-base-m4", date="2026-11-01T02:00:00+00:00", accuracy=0.6,
               **_estimates(count(m4), 64e6, "test"))
    derive_run(m7, out, "c-pruned-m7", count_scale=0.5, date="2026-11-01T03:00:00+00:00", accuracy=0.5,
               variant={"name": "conv_1d-pruned50", "method": "magnitude-pruning", "base": "conv_1d_acdnet_first"},
               **_estimates(count(m7) * 0.5, 216e6, "test"))
    derive_run(m4, out, "d-pruned-m4", count_scale=0.5, date="2026-11-01T04:00:00+00:00", accuracy=0.5,
               variant={"name": "conv_1d-pruned50", "method": "magnitude-pruning", "base": "conv_1d_acdnet_first"},
               latency=None, energy=None)  # as a run that measured neither
    derive_run(m7, out, "e-base-m7-again", date="2026-11-02T01:00:00+00:00", accuracy=0.7,
               **_estimates(count(m7), 216e6, "test"), profile=prof, tags=["nightly"])
    return out


@pytest.fixture(scope="module")
def runs(results, tmp_path_factory):
    with RunStore(tmp_path_factory.mktemp("db") / "h.sqlite") as store:
        store.import_tree(results)
        return store.select()


def test_pivot_rows_are_variant_by_board_newest_run_first(runs):
    table = tradeoff_table(runs_frame(runs))
    keys = list(zip(table["variant"], table["board"]))
    assert keys == [("conv_1d-pruned50", "nrf52840"), ("conv_1d-pruned50", "stm32f746"),
                    ("conv_1d_acdnet_first", "nrf52840"), ("conv_1d_acdnet_first", "stm32f746")]
    base_m7 = table.iloc[3]
    assert base_m7.run_id == "e-base-m7-again" and base_m7.runs == 2 and base_m7.accuracy_pct == pytest.approx(70)
    # estimates flagged; a metric nobody measured stays empty, never 0
    assert base_m7.latency_estimate and base_m7.estimates == "latency, energy"
    pruned_m4 = table.iloc[0]
    assert np.isnan(pruned_m4.latency_ms) and np.isnan(pruned_m4.energy_mj) and pruned_m4.estimates == "none"
    assert pruned_m4.count_median == pytest.approx(0.5 * table.iloc[2].count_median, abs=1)


def test_every_format_is_written_and_marks_estimates(runs, tmp_path):
    rep = write_report(runs, tmp_path)
    md = rep.files["markdown"].read_text()
    assert md.count("\n|") >= 5 and "†" in md and "estimate, not a measurement" in md
    assert "| conv_1d-pruned50" in md and "—" in md
    rows = list(csv.DictReader(io.StringIO(rep.files["csv"].read_text())))
    assert len(rows) == 4 and {"latency_ms", "latency_estimate", "energy_mj", "energy_estimate", "flash_bytes",
                               "ram_bytes", "arena_bytes", "macs", "estimates"} <= set(rows[0])
    assert rows[0]["latency_ms"] == "" and rows[3]["latency_estimate"] == "True"
    assert int(rows[3]["flash_bytes"]) == runs[-1].summary.memory.flash_bytes
    tex = rep.files["latex"].read_text()
    for cmd in (r"\toprule", r"\midrule", r"\bottomrule", r"$^\dagger$", r"conv\_1d"):
        assert cmd in tex
    assert "_" not in tex.replace(r"\_", "").split(r"\label")[0].split(r"\caption")[1]  # escaped in body


def test_plots_are_written_as_png_and_pdf(runs, tmp_path):
    rep = write_report(runs, tmp_path)
    stems = {p.stem for k, p in rep.files.items() if k.startswith("plot:")}
    assert stems == {"tradeoffs", "accuracy_vs_latency", "accuracy_vs_energy", "accuracy_vs_ram", "accuracy_vs_flash",
                     "accuracy_vs_instructions", "board_cost", "memory", "layer_profile"}
    # a confusion matrix for every newest (variant, board) run that recorded predictions and labels; runs that
    # predicted exactly alike share one (its caption names them)
    captions = " ".join(f.caption for f in rep.figures if f.section == "confusion")
    newest = {r.run_id for r in runs if r.summary.predictions and r.summary.labels} - {"a-base-m7"}
    assert newest and all(rid in captions for rid in newest)
    for stem in stems:
        png, pdf = tmp_path / "plots" / f"{stem}.png", tmp_path / "plots" / f"{stem}.pdf"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert pdf.read_bytes()[:5] == b"%PDF-"
    assert rep.omitted == []


def test_html_is_one_self_contained_file(runs, tmp_path):
    rep = write_report(runs, tmp_path)

    class Refs(html.parser.HTMLParser):
        refs: list = []

        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k in ("src", "href"):
                    self.refs.append((tag, v))
            if tag in ("script", "link", "iframe"):
                self.refs.append((tag, "forbidden"))

    page = rep.files["html"].read_text()
    parser = Refs()
    parser.feed(page)
    images = [v for tag, v in parser.refs if tag == "img"]
    anchors = [v for tag, v in parser.refs if tag == "a"]
    assert images and all(v.startswith("data:image/png;base64,") for v in images)
    assert len(images) == len(rep.figures) >= 9 and len(images) + len(anchors) == len(parser.refs)
    # the table of contents links only to sections of the page itself
    assert anchors and all(a.startswith("#") and f"id='{a[1:]}'" in page for a in anchors)
    for r in runs:  # every manifest is in the page
        assert r.run_id in page and r.manifest.model.sha256 in page


def test_plots_omitted_when_nothing_measured_them(real_runs, tmp_path):
    """Runs without latency, energy or a profile: those plots are not drawn, and the report says so."""
    from harness.rundir import read_run

    runs = [read_run(derive_run(p, tmp_path / "runs", p.name, latency=None, energy=None, profile=None))
            for p in real_runs.values()]
    rep = write_report(runs, tmp_path / "rep")
    assert {p.stem for k, p in rep.files.items() if k.startswith("plot:")} == {
        "tradeoffs", "accuracy_vs_ram", "accuracy_vs_flash", "accuracy_vs_instructions", "memory"}
    assert any("latency" in o for o in rep.omitted) and "not drawn" in rep.files["html"].read_text()


def test_pareto_front():
    x = np.array([1.0, 2.0, 3.0, 2.5, 0.5])
    y = np.array([50.0, 70.0, 80.0, 60.0, 40.0])
    assert list(pareto_front(x, y)) == [4, 0, 1, 2]


def test_report_command_selects_and_writes(results, tmp_path):
    db = tmp_path / "h.sqlite"
    proc = tinyhil("report", "--results", str(results), "--db", str(db), "--board", "stm32f746",
                   "--until", "2026-11-01", "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    assert "tinyhil platform trade-offs" in proc.stdout and "nrf52840" not in proc.stdout.split("markdown")[0]
    rows = list(csv.DictReader(open(tmp_path / "rep" / "tradeoffs.csv")))
    assert [(r["variant"], r["run_id"]) for r in rows] == [("conv_1d-pruned50", "c-pruned-m7"),
                                                            ("conv_1d_acdnet_first", "a-base-m7")]
    proc = tinyhil("report", "--results", str(results), "--db", str(db), "--tag", "nosuchtag", "--out",
                   str(tmp_path / "empty"))
    assert proc.returncode == 2 and "no runs selected" in proc.stderr and "Traceback" not in proc.stderr


def test_runs_and_show_commands(results, tmp_path):
    db = tmp_path / "h.sqlite"
    proc = tinyhil("runs", "--results", str(results), "--db", str(db), "--tag", "nightly", "--ids")
    assert proc.returncode == 0 and proc.stdout.split() == ["e-base-m7-again"]
    proc = tinyhil("runs", "--results", str(results), "--db", str(db), "--model", "pruned")
    assert proc.returncode == 0 and "c-pruned-m7" in proc.stdout and "a-base-m7" not in proc.stdout
    proc = tinyhil("show", "c-pruned", "--results", str(results), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "magnitude-pruning" in proc.stdout and "ESTIMATE" in proc.stdout and "instructions" in proc.stdout
    proc = tinyhil("show", "zz", "--results", str(results), "--db", str(db))
    assert proc.returncode == 2 and "no run 'zz'" in proc.stderr


@pytest.mark.emulator
def test_profile_command_result_reaches_the_report(real_runs, tmp_path):
    """`tinyhil profile` (twin) records its result in the history database; `tinyhil report` draws it for the
    run of the same model, board, target and backend, with the top operators and instructions per MAC."""
    import shutil

    from report_runs import FIXTURE_MODEL

    results = tmp_path / "results"
    shutil.copytree(real_runs["stm32f746"], results / real_runs["stm32f746"].name)
    proc = tinyhil("profile", "--model", str(FIXTURE_MODEL), "--board", "stm32f746", "--emulate",
                   "--out", str(results / "profiles"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "recorded in the history database" in proc.stdout
    with RunStore(results / "history.sqlite") as store:
        assert store.table_counts()["profiles"] == 1
    proc = tinyhil("report", "--results", str(results), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rep" / "plots" / "layer_profile.png").is_file()
    top = list(csv.DictReader(open(tmp_path / "rep" / "profiles.csv")))
    assert top and top[0]["unit"] == "instructions" and float(top[0]["count"]) > 0
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "Top operators: conv_1d_acdnet_first @ stm32f746" in page
