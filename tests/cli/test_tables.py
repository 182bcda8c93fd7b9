"""Console tables at 80 and 120 columns ($COLUMNS): they fit, identifiers are whole, dropped columns are named,
--wide shows everything; the bench summary has a model column and short run ids."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tests.cli.cli_helpers import lines_fit
from harness.bench import RunResult
from harness.boards import load_catalog
from harness.cli.bench_output import print_bench
from harness.rundir import read_run

REPO = Path(__file__).resolve().parents[2]
MODELS = ["acdnet20_esc50_fold4_int8", "acdnet20-int8", "acdnet20-magnitude50-int8", "acdnet20-filter50-int8",
          "raw_mini_int8", "acdnet20-float32"]


def header(text: str, first: str) -> list[str]:
    """The column names of the table whose header line starts with ``first``."""
    line = next(ln for ln in text.splitlines() if ln.startswith(first + "  "))
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.parametrize("columns", [80, 120])
def test_runs_fits_and_keeps_every_identifier_whole(cli, selection, columns):
    res = cli("runs", "--results", selection, columns=columns)
    assert res.exit_code == 0, res.output
    assert lines_fit(res.stdout, columns), res.stdout
    assert "…" not in res.stdout
    for model in MODELS:
        assert re.search(rf"\s{re.escape(model)}\s", res.stdout), model
    ids = sorted(p.name for p in selection.iterdir() if p.name.startswith("2026"))
    shown = [ln.split()[0] for ln in res.stdout.splitlines() if ln.startswith("2026")]
    assert len(shown) == 16 and len(set(shown)) == 16  # short ids, unique
    assert all(sum(i.startswith(s) for i in ids) == 1 for s in shown)  # each names exactly one run
    assert header(res.stdout, "run id") == {
        80: ["run id", "model", "board", "top-1", "instr.", "flash"],
        120: ["run id", "date (UTC)", "model", "board", "top-1", "instr.", "flash", "RAM", "bit-exact"]}[columns]
    assert "same on every row: target twin; backend tinyhil" in res.stdout
    assert "(--wide shows all)" in " ".join(res.stdout.split())


def test_wide_shows_every_column_and_full_ids(cli, selection):
    res = cli("runs", "--results", selection, "--wide", columns=80)
    assert res.exit_code == 0
    cols = header(res.stdout, "run id")
    assert cols == ["run id", "date (UTC)", "model", "method", "board", "target", "backend", "top-1", "instr.",
                    "flash", "RAM", "bit-exact", "tags"]
    assert "20261120T010000Z-acdnet20-int8-stm32f746-twin" in res.stdout
    assert "post-training compression of ACDNet-20 (no retraining)" in res.stdout  # the whole method text
    assert "--wide shows all" not in res.stdout


@pytest.mark.parametrize("columns", [80, 120])
def test_report_console_table_fits(cli, selection, tmp_path, columns):
    res = cli("report", "--results", selection, "--out", tmp_path / "rep", columns=columns)
    assert res.exit_code == 0, res.output
    table = res.stdout.split("\nmarkdown")[0]
    assert lines_fit(table, columns) and "…" not in table
    cols = header(table, "variant")
    assert cols[:2] == ["variant", "board"] and "top-1 % (n; CI)" in cols and "latency" in cols
    assert "acdnet20-magnitude50-int8" in table and "does not fit" in table
    assert ("energy" in cols) == (columns == 120)
    assert "not shown for width: latency min–max, estimates" in " ".join(table.split())


def test_boards_and_inspect_fit_80_columns(cli):
    res = cli("boards", columns=80)
    assert res.exit_code == 0 and lines_fit(res.stdout, 80)
    assert all(b in res.stdout for b in ("stm32f746", "nrf52840", "esp32", "rp2040"))
    res = cli("inspect", "--model", REPO / "tests/fixtures/models/raw_mini_int8.tflite", columns=80)
    assert res.exit_code == 0, res.output
    assert lines_fit(res.stdout.split("operators:")[1], 80)
    assert header(res.stdout, "board") == ["board", "backend", "RAM needed B", "RAM B", "flash needed B", "flash B",
                                           "fits"]
    assert "tensor arena plan" in res.stdout


def _bench_results(selection: Path, models: list[str], boards: list[str]) -> list[RunResult]:
    dirs = [p for p in sorted(selection.iterdir()) if any(f"-{m}-{b}-" in p.name for m in models for b in boards)]
    return [RunResult(p, read_run(p).summary) for p in dirs]


@pytest.mark.parametrize("columns", [80, 120])
def test_bench_summary_of_several_models_and_boards_has_a_model_column(selection, monkeypatch, tmp_path, columns):
    """The tables `bench --model A --model B --board X --board Y` prints (print_bench, the CLI's own printing
    code) on runs written by the pipeline's writer: a run id and a model column, boards told apart."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    models, boards = ["acdnet20-int8", "raw_mini_int8"], ["stm32f746", "nrf52840"]
    results = _bench_results(selection, models, boards)
    catalog = load_catalog()
    compared = [(catalog[read_run(r.path).board], r.summary, "") for r in results]
    compared.append((catalog["stm32f746"], None, "does not fit: RAM overflowed by 891 KiB", "acdnet20-float32",
                     "tinyhil"))
    buf = io.StringIO()
    print_bench(Console(file=buf, width=columns), results, ["acdnet20-float32 (tinyhil) on stm32f746: ..."],
                compared, n_boards=2, out=selection)
    text = buf.getvalue()
    results_table, boards_table = text.split("tinyhil boards compared")
    assert header(results_table, "run")[:3] == ["run", "model", "board"]
    assert header(boards_table, "board")[:2] == ["board", "model"]
    rows = [ln.split()[:2] for ln in boards_table.splitlines() if ln.startswith(("stm32f746", "nrf52840"))]
    assert sorted(map(tuple, rows)) == sorted({(b, m) for b in boards for m in models} | {("stm32f746",
                                                                                          "acdnet20-float32")})
    assert lines_fit(text.split("run directory:")[0], columns) and "…" not in text


def test_subprocess_honours_COLUMNS_and_pipes_default_to_120(selection, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    for columns, want in (("80", 80), (None, 120)):
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "runs", "--results", str(selection)],
                              env={**env, **({"COLUMNS": columns} if columns else {})}, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        widest = max(len(ln.rstrip()) for ln in proc.stdout.splitlines())
        assert want - 25 < widest <= want, (want, widest)


def test_fit_order_constant_columns_then_abbreviations_then_drops_and_a_dropped_column_comes_back():
    from harness.report.fit import fit_table, visible_columns

    cols = ["run", "model", "target", "date", "note"]
    rows = [["20261129T101010123456Z-a-stm32f746", "a", "twin", "2026-11-29 10:10", "x" * 30],
            ["20261129T111010123456Z-b-stm32f746", "b", "twin", "2026-11-29 11:10", "y" * 30]]
    short = {"run": ["20261129T10", "20261129T11"]}

    def fitted(width):
        return fit_table("t", cols, rows, width, ids=["run", "model"], drop_order=["run", "note", "date", "target"],
                         short=short)

    assert visible_columns(fitted(200)) == cols and fitted(200).caption is None
    t = fitted(70)  # target (same on every row) goes first, then the run id is abbreviated: that fits
    assert visible_columns(t) == ["run", "model", "date", "note"]
    assert "same on every row: target twin" in t.caption and "abbreviated: run" in t.caption
    t = fitted(40)  # note and date go too; date, removed last, fits again once note is gone and comes back
    assert visible_columns(t) == ["run", "model", "date"]
    assert "not shown for width: note" in t.caption and "date" not in t.caption and "target twin" in t.caption
    t = fitted(28)  # date does not fit any more; the 4-character target does and comes back
    assert visible_columns(t) == ["run", "model", "target"] and "not shown for width: note, date" in t.caption
    t = fitted(5)  # narrower than the identifiers: they stay whole, and the CLI prints the table that wide
    assert visible_columns(t) == ["run", "model"] and t.needed_width >= len("20261129T10") + 1


def test_identifiers_are_whole_even_on_a_console_narrower_than_them(cli, selection):
    res = cli("runs", "--results", selection, "--model", "magnitude50", columns=30)
    assert res.exit_code == 0, res.output
    assert "acdnet20-magnitude50-int8" in res.stdout and "…" not in res.stdout
    rows = [ln.split() for ln in res.stdout.splitlines() if ln.startswith("2026")]
    assert [r[1:3] for r in rows] == [["acdnet20-magnitude50-int8", b] for b in ("stm32f746", "nrf52840", "rp2040")]
