"""Run directories as typed records (harness/rundir.py): write/read round trip, the previous release's format
(schema version 1) still imports, "hardware" is read as "board", a missing value is None and shown as "—" or
"not measured", never 0.

The version-1 fixtures under fixtures/v1/ were made by the previous release (commit 257760d) itself: a
`tinyhil bench --model conv_fc_2d_pertensor.tflite --data <2 .npy inputs> --board stm32f746 --emulate` run
directory, and the history database that bench recorded it in (as an SQL dump, history-v1.sql)."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

import numpy as np
import pytest

from harness.metrics.regression import compare_runs
from harness.errors import ResultsError
from harness.cli.history import _show_rows
from harness.report.console import run_table
from harness.report.table import runs_frame
from harness.rundir import (Counts, DataRef, Energy, Firmware, Inference, Latency, Manifest, Memory, ModelRef,
                            Summary, Variant, read_run, summary_metrics, write_run)
from harness.runner import InferenceRecord
from harness.history import RunStore

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "v1"
V1_RUN = FIXTURES / "20261129T140449266758Z-conv_fc_2d_pertensor-stm32f746-twin"
V1_CONFIG_ID = "ea94297c53d453f2"  # what the previous release computed for it (history-v1.sql)


def _manifest(**changes) -> Manifest:
    fields = dict(tinyhil_version="0.2.0", git_commit="abc123", date=datetime(2026, 12, 1, 3, tzinfo=timezone.utc),
                  model=ModelRef(file="tiny.tflite", path="models/tiny.tflite", sha256="ab" * 32),
                  board="nrf52840", board_title="nRF52840-DK", core="cortex-m4", clock_hz=64_000_000, target="board",
                  firmware=Firmware(compiler="gcc 12", flags=("-O2", "-mthumb"), sizes={"text": 9100}, kind="board"),
                  timer_source="cycles", data=DataRef(path="/data/npy", kind="npy", samples=2),
                  preprocessing={"kind": "npy tensors"})
    return Manifest(**{**fields, **changes})


def _summary(**changes) -> Summary:
    fields = dict(model="tiny.tflite", board="nrf52840", target="board", samples=2, inferences=2, accuracy=0.5,
                  correct=1, counts=Counts(unit="cycles", median=1500.5, min=1400, max=1601, n=2),
                  memory=Memory(flash_bytes=9100, ram_bytes=10632, sections={".text": 8908}, peak_stack_bytes=300),
                  arena_bytes=48, weight_bytes=280, macs=240, bit_exact=True, mismatches=0, wall_time_s=2.5,
                  latency=Latency(median=23.4, min=22.0, max=25.0, estimate=False, source="DWT cycle counter"),
                  energy=Energy(per_inference=1.5, avg_power_mw=30.0, estimate=True, source="power model"),
                  predictions={"a.npy": 3, "b.npy": 1}, labels={"a.npy": 3, "b.npy": None},
                  variant=Variant(name="tiny-pruned", method="magnitude-pruning", base="tiny"), params=1234,
                  tags=("ci",))
    return Summary(**{**fields, **changes})


def _records() -> list[InferenceRecord]:
    return [InferenceRecord("a.npy", 0, 3, 3, 3, 1400, np.array([-5, 7, 127], np.int8), True),
            InferenceRecord("b.npy", 0, None, 1, 1, 1601, np.array([0.25, -1.5e-07, 3.0], np.float32), None)]


def test_write_then_read_round_trips_unchanged(tmp_path):
    manifest, summary = _manifest(), _summary()
    path = write_run(tmp_path, "run1", manifest, summary, _records())
    run = read_run(path)
    assert run.manifest == manifest and run.summary == summary and run.run_id == "run1"
    assert run.inferences == tuple(Inference.from_record(r, "cycles") for r in _records())
    assert run.inferences[1].output == tuple(np.array([0.25, -1.5e-07, 3.0], np.float32).tolist())
    assert run.tags == ("ci",) and run.target == "board" and run.variant.name == "tiny-pruned"
    # the files hold exactly the models, stamped with the schema version; rewriting them changes no byte
    doc = json.loads((path / "summary.json").read_text())
    assert set(doc) == set(Summary.model_fields) and doc["schema_version"] == 2
    again = write_run(tmp_path, "run2", run.manifest, run.summary, run.inferences)
    for name in ("manifest.json", "summary.json", "inferences.csv"):
        assert (again / name).read_bytes() == (path / name).read_bytes()
    assert not list(tmp_path.glob(".*partial"))


def test_dicts_are_validated_into_the_models(tmp_path):
    """The transition path of harness/bench.py: plain dicts, "hardware" for a board."""
    m = _manifest().model_dump(mode="json") | {"target": "hardware"}
    s = _summary().model_dump(mode="json") | {"target": "hardware"}
    del m["schema_version"], s["schema_version"]
    run = read_run(write_run(tmp_path, "r", m, s, _records()))
    assert run.manifest == _manifest() and run.summary == _summary()
    with pytest.raises(ValueError, match="unknown field.*acuracy"):  # a misspelt field is an error, not dropped
        write_run(tmp_path, "bad", m, {**s, "acuracy": 1.0}, _records())
    with pytest.raises(ResultsError, match="already exists"):
        write_run(tmp_path, "r", m, s, _records())


def test_previous_release_run_directory_still_reads_and_imports(tmp_path):
    assert "schema_version" not in json.loads((V1_RUN / "summary.json").read_text())  # really version 1
    run = read_run(V1_RUN)
    assert run.manifest.schema_version == 1 and run.summary.schema_version == 1
    assert run.target == "twin" and run.board == "stm32f746" and run.summary.counts.unit == "instructions"
    assert run.manifest.firmware.kind == "twin"  # version 1 said `"twin": true`
    assert run.summary.accuracy == 0.0  # a measured zero stays zero
    assert len(run.inferences) == 2 and run.inferences[0].matches_reference is True
    assert run.config_id == V1_CONFIG_ID  # the same configuration as the previous release said
    with RunStore(tmp_path / "fresh.sqlite") as store:
        assert store.import_tree(FIXTURES) == {V1_RUN.name: "added"}
        stored = store.get(V1_RUN.name)
        assert stored.summary == run.summary and stored.config_id == V1_CONFIG_ID
        metrics = {name: (value, unit) for name, value, unit, *_ in store.metrics(V1_RUN.name)}
        assert metrics["count_median"] == (1743.0, "instructions") and metrics["accuracy"] == (0.0, "fraction")
        assert metrics["memory.component.flash.kernels"][1] == "bytes"
        assert len(store.inferences(V1_RUN.name)) == 2


def _v1_copy(tmp_path: Path, **changes) -> Path:
    """The version-1 fixture run copied, with top-level keys of both JSON files changed."""
    dst = tmp_path / "v1" / V1_RUN.name
    shutil.copytree(V1_RUN, dst)
    for name in ("manifest.json", "summary.json"):
        doc = json.loads((dst / name).read_text())
        (dst / name).write_text(json.dumps(doc | changes, indent=2))
    return dst


class _Kind(str, Enum):
    BOARD = "board"


def test_hardware_is_read_as_board(tmp_path):
    run = read_run(_v1_copy(tmp_path, target="hardware", future_field={"kept": False}))  # unknown keys ignored
    assert run.manifest.target == run.summary.target == run.target == "board"
    assert Summary(target=_Kind.BOARD).target == "board" and Manifest(target="hardware").target == "board"
    with pytest.raises(ValueError):
        Summary(target="laptop")


def test_previous_release_database_is_migrated(tmp_path):
    dump = (FIXTURES / "history-v1.sql").read_text()
    twin_db, board_db = tmp_path / "twin.sqlite", tmp_path / "board.sqlite"
    sqlite3.connect(twin_db).executescript(dump)
    sqlite3.connect(board_db).executescript(dump.replace('"target": "twin"', '"target": "hardware"')
                                            .replace("'stm32f746','twin'", "'stm32f746','hardware'"))
    with RunStore(twin_db) as store:
        assert store.get(V1_RUN.name).config_id == V1_CONFIG_ID
        assert store.import_run(V1_RUN) == "unchanged"  # the same files the previous release imported
    with RunStore(board_db) as store:
        run = store.get(V1_RUN.name)
        assert run.target == "board" and run.config_id == read_run(_v1_copy(tmp_path, target="hardware")).config_id
        assert run.config_id != V1_CONFIG_ID
    con = sqlite3.connect(board_db)
    assert con.execute("SELECT value FROM meta").fetchall() == [("3",)]  # through version 2 to 3 (profiles)
    assert con.execute("SELECT COUNT(*) FROM profiles").fetchone() == (0,)
    assert con.execute("SELECT config_id, target FROM configurations").fetchall() == [(run.config_id, "board")]


def test_missing_values_are_none_never_zero(tmp_path):
    summary = _summary(memory=Memory(sections=None), latency=None, energy=None, accuracy=None, macs=None,
                       counts=Counts(unit="cycles"), bit_exact=None)
    run = read_run(write_run(tmp_path, "empty", _manifest(clock_hz=None, firmware=None), summary, _records()))
    doc = json.loads((run.path / "summary.json").read_text())
    assert doc["memory"]["flash_bytes"] is None and doc["latency"] is None and doc["accuracy"] is None
    names = {m.name for m in summary_metrics(run.summary)}
    assert not names & {"flash_bytes", "ram_bytes", "latency_median", "energy_per_inference", "accuracy", "macs",
                        "count_median", "bit_exact"}
    shown = dict(_show_rows(run))
    assert shown["latency"] == shown["energy"] == "not measured" and "—" in shown["board"]
    assert shown["sections"] == "—" and shown["compiler"] == "—"
    from rich.console import Console

    console = Console(width=250, record=True)
    console.print(run_table([run.summary]))
    row = console.export_text().splitlines()[-1]  # the last row (no bottom border)
    assert row.count("—") >= 5 and " 0 " not in row
    frame = runs_frame([run])
    assert all(math.isnan(frame.loc[0, c]) for c in ("flash_bytes", "ram_bytes", "latency_us", "energy_uj", "macs"))
    changes = {c.metric: c for c in compare_runs(run, run).changes}
    assert changes["flash"].status == changes["RAM"].status == "n/a" and changes["flash"].baseline is None


def test_damaged_files_are_one_line_errors(tmp_path):
    bad = _v1_copy(tmp_path, accuracy="high")
    with pytest.raises(ResultsError, match=r"summary.json: accuracy: .*rerun the benchmark"):
        read_run(bad)
    ok = _v1_copy(tmp_path / "2")
    (ok / "inferences.csv").write_text("input_id,crop\na.npy,zero\n")
    with pytest.raises(ResultsError, match="inferences.csv row 2 is malformed"):
        read_run(ok)
    hidden = tmp_path / ".r.partial"
    hidden.mkdir()
    with pytest.raises(ResultsError, match="unfinished run"):
        read_run(hidden)


def test_peak_ram_is_linked_ram_less_the_untouched_stack_and_becomes_a_metric(tmp_path):
    """The walk-through metric of the run-pipeline issue: computed once (metrics/device.py), typed once
    (rundir Memory), flattened into the history without naming it anywhere else."""
    from harness.metrics.device import add_measurements, peak_ram_bytes

    stack = {"size_bytes": 8192, "base_bytes": 200, "peak_bytes": 1500}
    assert peak_ram_bytes(312_728, stack) == 312_728 - (8192 - 1500)
    assert peak_ram_bytes(None, stack) is None and peak_ram_bytes(10, {**stack, "peak_bytes": None}) is None
    summary = {"memory": {"flash_bytes": 9100, "ram_bytes": 20_000}}
    add_measurements(summary, {"latency": None, "energy": None, "stack": stack}, tmp_path / "no.elf")
    run = read_run(write_run(tmp_path, "peak", _manifest(), _summary(memory=Memory(**summary["memory"])),
                             _records()))
    metrics = {m.name: m for m in summary_metrics(run.summary)}
    assert run.summary.memory.peak_ram_bytes == 20_000 - 6692
    assert metrics["peak_ram_bytes"].value == 13_308 and metrics["peak_ram_bytes"].unit == "bytes"


def test_backend_is_recorded_selected_and_shown(tmp_path):
    """Runs of one model on one board with two backends: two configurations, selectable by backend, one row
    each in the trade-off table; a run of tinyhil's own code keeps the configuration id it had before."""
    from harness.history import Selection
    from harness.report.table import display_table, tradeoff_table

    plain = write_run(tmp_path, "a", _manifest(), _summary(), _records())
    tflm = write_run(tmp_path, "b", _manifest(backend="tflm-cmsis-nn"), _summary(backend="tflm-cmsis-nn"),
                     _records())
    runs = {p.name: read_run(p) for p in (plain, tflm)}
    assert runs["a"].backend == "tinyhil" and runs["b"].backend == "tflm-cmsis-nn"
    assert "backend" not in runs["a"].config_fields() and runs["b"].config_fields()["backend"] == "tflm-cmsis-nn"
    assert runs["a"].config_id != runs["b"].config_id
    with RunStore(tmp_path / "h.sqlite") as store:
        store.import_tree(tmp_path)
        only = store.select(Selection(backends=("tflm-cmsis-nn",)))
        both = store.select(Selection())
    assert [r.run_id for r in only] == ["b"] and len(both) == 2
    shown = display_table(tradeoff_table(runs_frame(both)))
    assert sorted(shown["backend"]) == ["tflm-cmsis-nn", "tinyhil"]
