"""History database: idempotent import, schema contents, selection, run references, damaged input."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harness.errors import ResultsError
from harness.rundir import read_run
from harness.history import RunStore, Selection, parse_date, record_run, resolve_run

from report_runs import derive_run


@pytest.fixture
def history(tmp_path, real_runs):
    """Five runs: two real ones and three derived (a pruned variant, a later nightly, an older run)."""
    out = tmp_path / "results"
    m7, m4 = real_runs["stm32f746"], real_runs["nrf52840"]
    runs = {
        "m7": derive_run(m7, out, "r1-m7", date="2026-11-01T02:00:00+00:00"),
        "m4": derive_run(m4, out, "r2-m4", date="2026-11-02T02:00:00+00:00"),
        "pruned": derive_run(m7, out, "r3-m7-pruned", count_scale=0.6, date="2026-11-03T02:00:00+00:00",
                             variant={"name": "tiny-pruned", "method": "magnitude-pruning", "base": "conv_1d"}),
        "night": derive_run(m7, out, "r4-m7-night", count_scale=1.03, date="2026-11-04T02:00:00+00:00",
                            tags=["nightly"]),
    }
    return out, runs


def test_import_is_idempotent_and_fills_every_table(history, tmp_path):
    out, runs = history
    db = tmp_path / "h.sqlite"
    with RunStore(db) as store:
        first = store.import_tree(out)
        counts = store.table_counts()
        dump = list(sqlite3.connect(db).iterdump())
        again = store.import_tree(out)
        assert store.import_run(runs["m7"]) == "unchanged"
        assert store.table_counts() == counts
    assert set(first.values()) == {"added"} and set(again.values()) == {"unchanged"}
    assert [l for l in sqlite3.connect(db).iterdump()] == dump
    # one configuration per (model, variant, board); inference rows = rows of every inferences.csv
    assert counts["runs"] == 4 and counts["configurations"] == 3
    n_rows = sum(len((p / "inferences.csv").read_text().splitlines()) - 1 for p in runs.values())
    assert counts["inferences"] == n_rows and counts["tags"] == 4  # "ci" from the bench runs x3, "nightly" x1


def test_changed_run_directory_replaces_its_rows(history, tmp_path):
    out, runs = history
    with RunStore(tmp_path / "h.sqlite") as store:
        store.import_tree(out)
        store.add_tags("r1-m7", ["baseline"])
        summary = json.loads((runs["m7"] / "summary.json").read_text())
        summary["accuracy"] = 0.5
        (runs["m7"] / "summary.json").write_text(json.dumps(summary))
        assert store.import_run(runs["m7"]) == "updated"
        acc = dict((n, v) for n, v, *_ in store.metrics("r1-m7"))["accuracy"]
        assert acc == 0.5 and store.get("r1-m7").tags == ("baseline", "ci")  # user tag kept
        assert store.table_counts()["runs"] == 4


def test_metrics_keep_units_and_never_record_missing_as_zero(history, tmp_path):
    out, runs = history
    derive_run(runs["m7"], out, "r5-est", latency={"unit": "us", "median": 12.5, "min": 12.0, "max": 13.0,
                                                   "estimate": True, "source": "instructions x CPI / clock"},
               energy=None)
    with RunStore(tmp_path / "h.sqlite") as store:
        store.import_tree(out)
        m = {n: (v, u, e, s) for n, v, u, e, s in store.metrics("r5-est")}
    assert m["latency_median"] == (12.5, "us", 1, "instructions x CPI / clock")
    assert "energy_per_inference" not in m and "avg_power" not in m
    assert m["count_median"][1] == "instructions" and m["flash_bytes"][1] == "bytes" and m["bit_exact"][0] == 1


def test_selection_by_model_board_date_tag_and_id(history, tmp_path):
    out, _ = history
    with RunStore(tmp_path / "h.sqlite") as store:
        store.import_tree(out)

        def ids(**kw):
            return [r.run_id for r in store.select(Selection(**kw))]

        assert ids() == ["r1-m7", "r2-m4", "r3-m7-pruned", "r4-m7-night"]
        assert ids(boards=("nrf52840",)) == ["r2-m4"]
        assert ids(models=("pruned",)) == ["r3-m7-pruned"]
        assert ids(models=("conv_1d*",)) == ["r1-m7", "r2-m4", "r3-m7-pruned", "r4-m7-night"]  # base matches too
        assert ids(models=("tiny-*",)) == ["r3-m7-pruned"]
        assert ids(since=parse_date("2026-11-02"), until=parse_date("2026-11-03", end_of_day=True)) == \
            ["r2-m4", "r3-m7-pruned"]
        assert ids(tags=("nightly",)) == ["r4-m7-night"]
        assert ids(run_ids=("r3",)) == ["r3-m7-pruned"]
        assert ids(boards=("stm32f746",), latest=1) == ["r4-m7-night"]


def test_previous_run_of_the_same_configuration(history, tmp_path):
    out, runs = history
    with RunStore(tmp_path / "h.sqlite") as store:
        store.import_tree(out)
        night = store.get("r4")
        assert store.previous(night).run_id == "r1-m7"      # not the pruned variant, not the other board
        assert store.previous(store.get("r1-m7")) is None
        assert resolve_run(runs["m4"], None).run_id == "r2-m4"   # a directory needs no database
        with pytest.raises(ResultsError, match="ambiguous"):
            store.get("r")
        with pytest.raises(ResultsError, match="no run 'zz'"):
            store.get("zz")


def test_pipeline_recorded_the_real_runs(real_runs):
    """`tinyhil bench` itself recorded both runs in the database given by $TINYHIL_DB."""
    db = real_runs["stm32f746"].parent / "bench-history.sqlite"
    with RunStore(db) as store:
        assert sorted(store.run_ids()) == sorted(p.name for p in real_runs.values())
        assert store.inferences(real_runs["nrf52840"].name)[0][6] == "instructions"
        assert store.get(real_runs["nrf52840"].name).tags == ("ci",)  # bench --tag


def test_damaged_run_directories_are_one_line_errors(history, tmp_path):
    out, runs = history
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(ResultsError, match="no manifest.json"):
        read_run(bad)
    (bad / "manifest.json").write_text("{")
    (bad / "summary.json").write_text("{}")
    with pytest.raises(ResultsError, match="not valid JSON"):
        read_run(bad)
    with pytest.raises(ResultsError, match="does not exist"):
        record_run(tmp_path / "missing")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ResultsError, match="not a usable SQLite"):
        RunStore(tmp_path / "junk.sqlite").import_run(runs["m7"])
