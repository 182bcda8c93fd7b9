"""`--json`: the whole of stdout is one JSON document with the documented keys (harness/cli/records.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import emulator_skip_reason, shared_skip_reason

REPO = Path(__file__).resolve().parents[2]
RAW_MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"
RUN_KEYS = {"run_id", "short_id", "path", "date", "model", "variant", "method", "base", "board", "target", "backend",
            "tags", "samples", "correct", "accuracy", "count_unit", "count_median", "count_min", "count_max",
            "latency_us", "latency_estimate", "energy_uj", "energy_estimate", "flash_bytes", "ram_bytes",
            "arena_bytes", "weight_bytes", "macs", "bit_exact", "mismatches"}


def document(res) -> dict:
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # fails on anything else printed to stdout


def test_runs_and_show(cli, selection):
    doc = document(cli("runs", "--results", selection, "--json", "--board", "rp2040"))
    assert doc["schema"] == 1 and len(doc["runs"]) == 5 and all(set(r) == RUN_KEYS for r in doc["runs"])
    int8 = next(r for r in doc["runs"] if r["variant"] == "acdnet20-int8")
    assert int8["count_unit"] == "instructions" and int8["accuracy"] == pytest.approx(4 / 7)
    assert int8["energy_uj"] is None and int8["latency_estimate"] is True  # rp2040: no power model, not 0
    shown = document(cli("show", int8["short_id"], "--results", selection, "--json"))
    assert shown["run"] == int8
    assert shown["manifest"]["board"] == "rp2040" and shown["summary"]["counts"]["median"] == int8["count_median"]


def test_report_boards_inspect_compile(cli, selection, tmp_path):
    rep = document(cli("report", "--results", selection, "--out", tmp_path / "rep", "--json", "--board", "stm32f746"))
    assert len(rep["rows"]) == 6 and rep["selection"] == "board=stm32f746"
    row = next(r for r in rep["rows"] if r["variant"] == "acdnet20-float32")
    assert row["fits"] is False and row["accuracy_pct"] is None  # not measured: null, never 0
    assert Path(rep["files"]["csv"]).is_file() and rep["notes"]
    boards = document(cli("boards", "--json"))["boards"]
    esp32 = next(b for b in boards if b["name"] == "esp32")
    assert esp32["twin"] is None and esp32["clock_hz"] == 240_000_000 and esp32["flasher"]["kind"] == "esptool"
    card = document(cli("inspect", "--model", RAW_MINI, "--json"))
    from harness.codegen.compiler import compile_model  # noqa: PLC0415 - the compiler's own figure, not a copied number

    assert card["model"] == "raw_mini_int8.tflite" and card["macs"] == 940_414
    assert card["arena_bytes"] == compile_model(RAW_MINI).plan.arena_bytes
    assert {f["board"] for f in card["board_fit"]} == {b["name"] for b in boards}
    compiled = document(cli("compile", "--model", RAW_MINI, "--out", tmp_path / "c", "--json"))
    assert compiled["arena_bytes"] == card["arena_bytes"] and compiled["steps"][0]["index"] == 0
    assert (tmp_path / "c" / "model.c").is_file()
    probes = document(cli("probes", "--json"))
    assert set(probes) == {"schema", "not_listed", "attached"}
    assert all(set(a) == {"probe", "probe_name", "port", "usb_id", "boards"} for a in probes["attached"])


@pytest.mark.emulator
def test_bench_json_on_a_twin_then_runs_and_show(cli, tmp_path, monkeypatch):
    """One twin run: `bench --json` prints only the document (build lines on stderr), its short id works in
    `show`, and `runs` elsewhere names the --out folder; its console table fits 80 columns."""
    reason = emulator_skip_reason() or shared_skip_reason("audio/esc50-cc0")
    if reason:
        pytest.skip(reason)
    from tests.conftest import shared_path

    out = tmp_path / "out"
    res = cli("bench", "--model", RAW_MINI, "--data", shared_path("audio", "esc50-cc0"), "--board", "rp2040",
              "--emulate", "--limit", "1", "--out", out, "--json", columns=80, env={"TINYHIL_DB": None})
    doc = document(res)
    assert "compiled raw_mini_int8.tflite" in res.stderr
    (run,) = doc["runs"]
    assert set(run) == RUN_KEYS and doc["not_run"] == []
    assert run["board"] == "rp2040" and run["target"] == "twin" and run["count_unit"] == "instructions"
    assert run["count_median"] > 0 and Path(run["path"]).parent == out
    res = cli("show", run["short_id"], "--results", out, columns=80)
    assert res.exit_code == 0 and run["run_id"] in res.stdout
    assert all(len(ln.rstrip()) <= 80 for ln in res.stdout.split(f"run {run['run_id']}")[1].splitlines())
    prof = document(cli("profile", "--model", RAW_MINI, "--board", "rp2040", "--emulate", "--out", out / "profiles",
                        "--json", env={"TINYHIL_DB": None}))
    assert prof["run_id"] == run["run_id"] and prof["unit"] == "instructions" and prof["operators"]
    assert sum(op["instructions"] for op in prof["operators"]) == prof["total"]
    assert Path(prof["files"]["csv"]).is_file()
    monkeypatch.chdir(tmp_path)
    res = cli("runs")
    assert res.exit_code == 2 and f"tinyhil runs --results {out.resolve()}" in " ".join(res.stderr.split())
