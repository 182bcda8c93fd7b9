"""The executor's scheduling without QEMU: workers replaced by a function that records a verdict the way
``harness.study.worker`` does.  Covers: every cell once, board-typed place slots, a lost place handing its cell
to another place of the same type, a cell no slot can run."""

from __future__ import annotations

import threading

import pytest

from harness.study import executor
from harness.study.cells import Cell, CellStates
from harness.study.executor import EXIT_PLACE_LOST, Slot, run_cells, twin_slots


def cells(*boards):
    return [Cell(model=f"m{i}.tflite", model_sha256=f"{i:064x}", board=b, emulate=False, backend="tinyhil")
            for i, b in enumerate(boards)]


@pytest.fixture
def fake_worker(monkeypatch):
    calls: list[tuple[str, str]] = []
    lost: set[str] = set()
    lock = threading.Lock()

    def run(cell, slot, states, out, coordinator, catalog, procs, plock):
        with lock:
            calls.append((cell.model, slot.name))
        if slot.place in lost:
            states.write(cell, "failed", reason=f"link to {slot.place} lost")
            return EXIT_PLACE_LOST
        states.write(cell, "does-not-fit", reason="fake")  # a finished verdict that needs no run directory
        return 0

    monkeypatch.setattr(executor, "_run_worker", run)
    return calls, lost


def test_each_cell_runs_once_on_n_slots(tmp_path, fake_worker):
    calls, _ = fake_worker
    cs = cells(*["stm32f746", "rp2040", "nrf52840"] * 3)
    out = run_cells(cs, twin_slots(2, tmp_path / "b"), CellStates(tmp_path / "s", tmp_path / "h"), tmp_path,
                    log=lambda m: None)
    assert sorted(m for m, _ in calls) == sorted(c.model for c in cs)
    assert {s for _, s in calls} <= {"job1", "job2"} and len(out.ran) == 9
    again = run_cells(cs, twin_slots(2, tmp_path / "b"), CellStates(tmp_path / "s", tmp_path / "h"), tmp_path,
                      log=lambda m: None)
    assert not again.ran and len(again.skipped) == 9 and len(calls) == 9  # finished cells are skipped


def test_a_lost_place_hands_its_cell_to_another_place_of_that_board(tmp_path, fake_worker):
    calls, lost = fake_worker
    lost.add("pA")
    slots = [Slot("pA", tmp_path / "a", board="stm32f746", place="pA"),
             Slot("pB", tmp_path / "b", board="stm32f746", place="pB"),
             Slot("pC", tmp_path / "c", board="rp2040", place="pC")]
    cs = cells("stm32f746", "stm32f746", "rp2040")
    lines: list[str] = []
    out = run_cells(cs, slots, CellStates(tmp_path / "s", tmp_path / "h"), tmp_path, log=lines.append)
    assert all(rec["status"] == "does-not-fit" for _, rec in out.ran) and len(out.ran) == 3, lines
    assert all(slot != "pA" for m, slot in calls if m == "m2.tflite")  # rp2040 cell only on the rp2040 place
    assert [s for _, s in calls].count("pA") == 1  # a lost place is not used again
    assert any("retried on another stm32f746 place" in line for line in lines)


def test_a_cell_no_slot_can_run_fails_with_the_reason(tmp_path, fake_worker):
    slots = [Slot("pA", tmp_path / "a", board="stm32f746", place="pA")]
    out = run_cells(cells("rp2040"), slots, CellStates(tmp_path / "s", tmp_path / "h"), tmp_path, log=lambda m: None)
    assert out.ran[0][1] == {"status": "failed", "reason": "no place or job can run board rp2040"}
