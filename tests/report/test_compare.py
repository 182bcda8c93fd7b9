"""`tinyhil compare`: exit status 1 when a regression threshold is passed, 0 otherwise, 2 on bad input.

Baseline and "identical rerun" are two real runs of the same model on the stm32f746 twin (exact instruction
counts); regressed runs are derived from the real one through write_run (counts scaled, summary fields changed).
"""

from __future__ import annotations

import json

import pytest

from harness.metrics.regression import Thresholds, compare_runs, load_thresholds
from harness.errors import ResultsError
from harness.rundir import read_run

from report_runs import derive_run, tinyhil


def compare(baseline, current, *extra, cwd=None):
    kwargs = {"cwd": cwd} if cwd else {}
    return tinyhil("compare", "--baseline", str(baseline), "--current", str(current), "--db",
                   str(current.parent / "compare.sqlite"), "--results", str(current.parent), *extra, **kwargs)


@pytest.fixture(scope="module")
def base(real_runs):
    return real_runs["stm32f746"]


def test_identical_rerun_passes(real_runs):
    proc = compare(real_runs["stm32f746"], real_runs["stm32f746-rerun"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no regression" in proc.stdout and "REGRESSION" not in proc.stdout
    cmp = compare_runs(read_run(real_runs["stm32f746"]), read_run(real_runs["stm32f746-rerun"]))
    assert {c.metric.split(" ")[0]: c.status for c in cmp.changes}["instructions"] == "unchanged"


def test_three_percent_slower_fails(base, tmp_path):
    slower = derive_run(base, tmp_path, "slower-3pct", count_scale=1.03)
    proc = compare(base, slower)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "REGRESSION" in proc.stdout and "+3.0" in proc.stdout
    cmp = compare_runs(read_run(base), read_run(slower))
    assert [c.metric for c in cmp.regressions][0] == "instructions (median)"


def test_one_and_a_half_percent_slower_passes(base, tmp_path):
    assert compare(base, derive_run(base, tmp_path, "slower-1.5pct", count_scale=1.015)).returncode == 0


@pytest.mark.parametrize("change, regressed", [
    ({"accuracy": 0.494}, "accuracy"), ({"accuracy": 0.496}, None),
    ({"ram_bytes": 2048}, "RAM"), ({"flash_bytes": 1025}, "flash"), ({"flash_bytes": 1024}, None),
    ({"bit_exact": False, "mismatches": 3}, "bit-exact vs reference"),
    ({"bit_exact": None}, "bit-exact vs reference"),   # not checked any more: bit-exactness lost too
])
def test_each_threshold(base, tmp_path, change, regressed):
    """Baseline: the real run with accuracy 0.5; current: one field changed (memory fields: bytes added)."""
    summary = json.loads((base / "summary.json").read_text())
    baseline = derive_run(base, tmp_path, "baseline", accuracy=0.5)
    fields = {"accuracy": 0.5}
    for key, value in change.items():
        if key.endswith("_bytes"):
            fields["memory"] = {**summary["memory"], key: summary["memory"][key] + value}
        else:
            fields[key] = value
    current = derive_run(base, tmp_path, "changed", **fields)
    cmp = compare_runs(read_run(baseline), read_run(current))
    assert [c.metric for c in cmp.regressions] == ([regressed] if regressed else [])
    assert compare(baseline, current).returncode == (1 if regressed else 0)


def test_thresholds_from_pyproject(base, tmp_path):
    slower = derive_run(base, tmp_path / "runs", "slower-3pct", count_scale=1.03)
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[tool.tinyhil.compare]\ncount_increase_pct = 5.0\n"
                                         "latency_increase_pct = 5.0\nenergy_increase_pct = 5.0\n")
    proc = compare(base, slower, cwd=proj / "sub")   # found from a subdirectory, like git finds its root
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(proj / "pyproject.toml") in proc.stdout.replace("\n", "")
    (proj / "pyproject.toml").write_text("[tool.tinyhil.compare]\ncount_increase_pc = 5.0\n")
    proc = compare(base, slower, cwd=proj)
    assert proc.returncode == 2 and "count_increase_pc" in proc.stderr and "valid keys" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_repository_pyproject_states_the_defaults():
    """The repository's own [tool.tinyhil.compare] (an example for users) must equal the built-in defaults."""
    from pathlib import Path

    t, source = load_thresholds(Path(__file__).resolve().parents[2] / "pyproject.toml")
    assert source is not None and t == Thresholds()


def test_previous_baseline_from_the_history(base, tmp_path):
    night1 = derive_run(base, tmp_path, "20261101T020000Z-night1", date="2026-11-01T02:00:00+00:00")
    night2 = derive_run(base, tmp_path, "20261102T020000Z-night2", count_scale=1.03, date="2026-11-02T02:00:00+00:00")
    proc = compare("previous", night2)
    assert proc.returncode == 1 and "night1" in proc.stdout
    proc = compare("previous", night1)
    assert proc.returncode == 5 and "no earlier run" in proc.stderr  # nothing to compare (README exit statuses)


def test_missing_run_is_a_one_line_error(base, tmp_path):
    proc = compare(tmp_path / "nope", base)
    assert proc.returncode == 2 and "no run" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(ResultsError):
        load_thresholds(tmp_path / "absent.toml")
