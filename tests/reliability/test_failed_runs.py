"""A failed or interrupted run's folder is evidence, never a valid run: the history refuses it, and the journal
keeps exactly the inferences that finished (a row cut short by a crash is dropped)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import ResultsError
from harness.history import RunStore
from harness.rundir.journal import Journal
from harness.rundir.progress import mark_failed, read_resume_state, write_resume_state


def test_history_refuses_a_run_marked_failed(tmp_path):
    work = tmp_path / "run"
    write_resume_state(work, "run", {"model": None})
    mark_failed(work, "run", "dut: no reply", 3)
    with RunStore(tmp_path / "history.sqlite") as store, pytest.raises(ResultsError, match="failed or interrupted.*--resume"):
        store.import_run(work)
    assert read_resume_state(work) == ("run", {"model": None})


def test_journal_keeps_finished_rows_and_drops_a_torn_one(tmp_path):
    journal = Journal(tmp_path)
    journal.append("a.wav", 0, np.array([[-128, 5, 127]], np.int8), 21093734, "instructions", True)
    journal.append("a.wav", 1, np.array([[1, 2, 3]], np.int8), 21093735, "instructions", None)
    with open(journal.path, "a") as f:
        f.write("b.wav,0,2109")  # killed mid-write: no line end
    done = journal.load()
    assert sorted(done) == [("a.wav", 0), ("a.wav", 1)]
    assert done[("a.wav", 0)].output == (-128, 5, 127) and done[("a.wav", 0)].count == 21093734
    assert done[("a.wav", 0)].matches_reference is True and done[("a.wav", 1)].matches_reference is None
    journal.append("b.wav", 0, np.array([[9, 9, 9]], np.int8), 7, "instructions", False)  # the resumed run goes on
    assert Journal(tmp_path).load()[("b.wav", 0)].output == (9, 9, 9)
