"""Short run ids: shown by `runs`, accepted by `show`, `report`, `compare`; an unknown or ambiguous prefix is a
one-line error (exit 2).  `compare` of two run directories needs no history database.  An empty history says
where `bench --out` wrote runs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from rich.console import Console

from harness.bench import RunResult
from harness.cli.bench_output import print_bench
from harness.rundir import read_run

INT8_M7 = "20261120T010000Z-acdnet20-int8-stm32f746-twin"
FILTER_M7 = "20261120T030000Z-acdnet20-filter50-int8-stm32f746-twin"
FOLD4_M7 = "20261120T000000Z-acdnet20_esc50_fold4_int8-stm32f746-twin"


def one_line_error(res, *words: str) -> None:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert all(w in lines[0] for w in words), (words, lines[0])


def test_short_ids_are_accepted_by_show_report_and_compare(cli, selection, tmp_path):
    listing = json.loads(cli("runs", "--results", selection, "--json").stdout)
    short = {r["run_id"]: r["short_id"] for r in listing["runs"]}
    assert short[INT8_M7] == "20261120T01" and len(set(short.values())) == 16
    res = cli("show", short[INT8_M7], "--results", selection)
    assert res.exit_code == 0, res.output
    assert INT8_M7 in res.stdout and "426.92 ms" in res.stdout
    res = cli("report", short[INT8_M7], short[FILTER_M7], "--results", selection, "--out", tmp_path / "rep",
              "--json")
    assert res.exit_code == 0, res.output
    assert sorted(r["run_id"] for r in json.loads(res.stdout)["rows"]) == sorted([INT8_M7, FILTER_M7])
    res = cli("compare", short[FOLD4_M7], short[INT8_M7], "--results", selection)
    assert res.exit_code == 0 and "no regression" in res.stdout, res.output
    assert f"baseline {FOLD4_M7}" in res.stdout and f"current  {INT8_M7}" in res.stdout


def test_unknown_or_ambiguous_prefixes_are_one_line_errors(cli, selection, tmp_path):
    one_line_error(cli("show", "2026112", "--results", selection), "'2026112' is ambiguous", "give more of the id")
    one_line_error(cli("show", "19990101", "--results", selection), "no run '19990101'", "tinyhil runs")
    one_line_error(cli("report", "2026112", "--results", selection, "--out", tmp_path / "r"), "ambiguous")
    one_line_error(cli("compare", "20261120T0", "20261120T01", "--results", selection), "ambiguous")
    assert not (tmp_path / "r").exists()


def test_compare_two_run_directories_without_a_database(cli, selection, tmp_path, monkeypatch):
    here = tmp_path / "elsewhere"
    here.mkdir()
    for name in (FOLD4_M7, INT8_M7, FILTER_M7):
        shutil.copytree(selection / name, here / name)
    monkeypatch.chdir(here)  # no results/ folder and no history.sqlite here
    res = cli("compare", FOLD4_M7, INT8_M7, columns=80)
    assert res.exit_code == 0, res.output
    assert "instructions (median)" in res.stdout and "no regression" in res.stdout
    res = cli("compare", FILTER_M7, INT8_M7, "--json")  # filter50 -> int8: 91 % more instructions
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["baseline"]["run_id"] == FILTER_M7 and doc["current"]["run_id"] == INT8_M7
    verdicts = {c["metric"]: c["status"] for c in doc["changes"]}
    assert verdicts["instructions (median)"] == "REGRESSION" and verdicts["accuracy"] == "improved"
    assert doc["regressions"] == sum(v == "REGRESSION" for v in verdicts.values())
    assert not list(tmp_path.rglob("*.sqlite")) and not (here / "results").exists()
    res = cli("compare", "--baseline", FOLD4_M7, INT8_M7)  # the option form and one argument still work
    assert res.exit_code == 0, res.output
    res = cli("compare", FOLD4_M7)
    assert res.exit_code == 2 and "needs a baseline and a current run" in res.output


def test_empty_history_names_where_bench_wrote_runs(cli, selection, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the cli fixture's cache folder
    run = selection / INT8_M7
    print_bench(Console(file=io.StringIO()), [RunResult(run, read_run(run).summary)], [], [], n_boards=1,
                out=selection)  # what `bench --out SELECTION` prints last: it remembers the folder
    monkeypatch.chdir(tmp_path)
    res = cli("runs")  # results/ does not exist here
    one_line_error(res, "no history database", str(selection.resolve()), "--results DIR")
    (tmp_path / "results").mkdir()
    res = cli("runs")
    assert res.exit_code == 0 and res.stdout == ""
    assert f"tinyhil runs --results {selection.resolve()}" in " ".join(res.stderr.split())
    res = cli("runs", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == {"schema": 1, "runs": []}
    res = cli("runs", "--results", selection, "--board", "esp32")
    assert res.exit_code == 0 and res.stdout == "" and "no run matches board=esp32 among the 16 runs" in res.stderr
