"""The farm and study commands' bad-input paths: one line naming the problem and the fix, exit status 2."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert all(w in lines[0] for w in words), lines[0]


def test_jobs_needs_twins():
    one_line_error(runner.invoke(app, ["bench", "--jobs", "2", "--board", "rp2040"]), "--jobs", "--emulate")


def test_an_unreachable_coordinator_is_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    one_line_error(runner.invoke(app, ["bench", "--place", "twin-a", "--coordinator", f"127.0.0.1:{port}"]),
                   "cannot reach the labgrid coordinator", f"127.0.0.1:{port}", "labgrid-coordinator")


def test_a_bad_study_file_is_one_line(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text("name: s\nmodels: [{path: x.tflite}]\nboards: [no-such-board]\n")
    one_line_error(runner.invoke(app, ["study", "run", str(study)]), "no-such-board", "known boards")
    one_line_error(runner.invoke(app, ["study", "status", str(tmp_path / "missing.yaml")]), "cannot read study file")


def test_a_failed_jobs_cell_is_a_dut_exit_status(monkeypatch, tmp_path, capfd):
    """`bench --jobs`: a failed cell is listed with its reason and the command exits 4, never 0."""
    import harness.farm.bench as farm_bench
    from harness.boards import get_board

    board = get_board("stm32f746")

    def one_failed(*args, **kwargs):
        return [], [], [(board, None, "failed: the DUT stopped answering", "raw_mini_int8", "tinyhil")], [board]

    monkeypatch.setattr(farm_bench, "bench_elsewhere", one_failed)
    result = runner.invoke(app, ["bench", "--jobs", "2", "--board", "stm32f746", "--emulate", "--out", str(tmp_path)])
    assert result.exit_code == 4, result.output
    assert "stopped answering" in result.output + capfd.readouterr().out
