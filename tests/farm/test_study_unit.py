"""Study files and cells without running anything: validation, configuration hashes, states, resume rules."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from harness.errors import StudyError
from harness.study.cells import Cell, CellStates
from harness.study.plan import fold_data, plan_cells, states_of
from harness.study.schema import load_study, model_files

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(text)
    return p


def test_a_study_expands_to_models_x_boards_x_backends_x_repeats(tmp_path):
    shutil.copy(MINI, tmp_path / "a_int8.tflite")
    (tmp_path / "b_int8.tflite").write_bytes(MINI.read_bytes() + b"\0")  # another model (content differs)
    shutil.copy(MINI, tmp_path / "c_same_as_a_int8.tflite")  # the same model under another name: no new cells
    study = load_study(write(tmp_path, "name: s\nmodels: [{path: '*_int8.tflite'}]\nboards: [stm32f746, rp2040]\n"
                                       "backends: [tinyhil, tflm]\nrepeats: 2\nout: res\n"))
    cells = plan_cells(study, study.boards, None, log=lambda m: None)
    assert len(cells) == 2 * 2 * 2 * 2
    assert len({c.config_hash for c in cells}) == 16
    assert study.out_dir == (tmp_path / "res").resolve()
    assert {"study-s"} <= set(cells[0].tags)


def test_the_configuration_hash_follows_content_not_paths(tmp_path):
    a = Cell(model="/x/a.tflite", model_sha256="ab" * 32, board="stm32f746", emulate=True, backend="tinyhil",
             data="/one/esc50-cc0", limit=2)
    moved = Cell(model="/elsewhere/a.tflite", model_sha256="ab" * 32, board="stm32f746", emulate=True,
                 backend="tinyhil", data="/two/esc50-cc0", limit=2, tags=("other",))
    assert a.config_hash == moved.config_hash
    for change in ({"board": "rp2040"}, {"emulate": False}, {"backend": "tflm"}, {"repeat": 1}, {"limit": 3},
                   {"model_sha256": "cd" * 32}, {"fold": 4}):
        assert Cell(**{**a.__dict__, **change}).config_hash != a.config_hash, change
    assert Cell.from_json(a.as_json()) == a


@pytest.mark.parametrize("text, words", [
    ("name: s\nmodels: []\nboards: [stm32f746]\n", ["models", "at least 1"]),
    ("name: s\nmodels: [{path: x.tflite, zoo: acdnet20-int8}]\nboards: [stm32f746]\n", ["exactly one"]),
    ("name: s\nmodels: [{path: x.tflite}]\n", ["boards", "places"]),
    ("name: s\nmodels: [{path: x.tflite}]\nboards: [stm32f746]\nrepeats: 0\n", ["repeats"]),
    ("name: s\nmodels: [{path: x.tflite}]\nboard: [stm32f746]\n", ["board", "Extra"]),
    ("name: [s\n", ["not valid YAML"]),
    ("- a\n- b\n", ["mapping"]),
])
def test_a_bad_study_file_is_one_line_naming_the_field(tmp_path, text, words):
    with pytest.raises(StudyError) as err:
        load_study(write(tmp_path, text))
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_a_glob_that_matches_nothing_is_refused(tmp_path):
    study = load_study(write(tmp_path, "name: s\nmodels: [{path: 'nothing/*.tflite'}]\nboards: [stm32f746]\n"))
    with pytest.raises(StudyError, match="matches no file"):
        model_files(study)


def test_cell_states_done_only_when_the_run_is_complete_and_recorded(tmp_path):
    states = CellStates(tmp_path / "st", tmp_path / "history.sqlite")
    cell = Cell(model="m.tflite", model_sha256="00" * 32, board="rp2040", emulate=True, backend="tinyhil")
    assert states.read(cell)["status"] == "pending" and not states.finished(cell, set())
    run = tmp_path / "20260101T000000000000Z-m-rp2040-twin"
    states.write(cell, "done", run_dir=str(run))
    assert not states.finished(cell, {run.name})  # no run directory
    run.mkdir()
    (run / "manifest.json").write_text("{}")
    (run / "summary.json").write_text("{}")
    assert not states.finished(cell, set())  # not recorded in the history
    assert states.finished(cell, {run.name})
    states.write(cell, "failed", reason="link lost")
    assert not states.finished(cell, {run.name})  # failed cells run again
    states.write(cell, "does-not-fit", reason="RAM overflowed")
    assert states.finished(cell, set())  # deterministic: not retried


def test_a_running_cell_whose_worker_died_reads_as_pending(tmp_path):
    states = CellStates(tmp_path / "st", tmp_path / "h.sqlite")
    cell = Cell(model="m.tflite", model_sha256="00" * 32, board="rp2040", emulate=True, backend="tinyhil")
    states.write(cell, "running", pid=os.getpid(), host=socket.gethostname())
    assert states.read(cell)["status"] == "running"
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    states.write(cell, "running", pid=dead, host=socket.gethostname())
    rec = states.read(cell)
    assert rec["status"] == "pending" and rec["stale"]
    assert json.loads(states.path(cell).read_text())["status"] == "running"  # the file is left as it was


def test_fold_selects_that_esc50_fold_only(tmp_path):
    data = tmp_path / "esc"
    (data / "audio").mkdir(parents=True)
    (data / "meta").mkdir()
    rows = ["filename,fold,target,category"] + [f"{i}-x-A-{i}.wav,{1 + i % 2},{i},c{i}" for i in range(4)]
    (data / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    for i in range(4):
        (data / "audio" / f"{i}-x-A-{i}.wav").write_bytes(b"RIFF")
    study = load_study(write(tmp_path, f"name: s\nmodels: [{{path: x.tflite}}]\nboards: [rp2040]\ndata: {data}\n"
                                       "fold: 2\nout: res\n"))
    view = fold_data(study, states_of(study))
    assert sorted(p.name for p in (view / "audio").iterdir()) == ["1-x-A-1.wav", "3-x-A-3.wav"]
    assert (view / "meta" / "esc50.csv").read_text().count("\n") == 3
    bad = load_study(write(tmp_path, f"name: s\nmodels: [{{path: x.tflite}}]\nboards: [rp2040]\ndata: {data}\n"
                                      "fold: 5\n"))
    with pytest.raises(StudyError, match="fold 5 selects no clip"):
        fold_data(bad, states_of(bad))


def test_the_example_studies_are_valid_and_plan_their_cells():
    files = sorted((REPO / "examples" / "studies").glob("*.yaml"))
    assert files, "examples/studies/*.yaml missing"
    for f in files:
        study = load_study(f)
        assert study.boards or study.places
        if study.boards and all(m.zoo is None and m.recipe is None for m in study.models):
            assert plan_cells(study, study.boards, None, produce=False, log=lambda m: None)


def test_a_killed_but_unreaped_worker_counts_as_gone():
    """A worker killed with its study stays a zombie where nobody reaps orphans (a container's init): its cell
    must read as stale, not running."""
    import socket
    import subprocess
    import time

    from harness.study.cells import _alive

    child = subprocess.Popen(["sleep", "0.05"])
    time.sleep(0.5)  # exited, not yet waited for: a zombie
    assert _alive(child.pid, socket.gethostname()) is False
    child.wait()
    import os

    assert _alive(os.getpid(), socket.gethostname()) is True
