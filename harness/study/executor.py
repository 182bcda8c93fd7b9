"""Running a study's cells: N at once on twins (one slot per job), or one slot per labgrid place.

Each slot is a thread that takes the next pending cell it can run (a place slot: cells of its board type),
runs it in its own worker process (:mod:`harness.study.worker`: its own QEMU, serial port and build
directory ``<build root>/jobs/<slot>``) and reads the outcome from the cell's state file.  A cell whose worker
reports the place lost (exit status :data:`EXIT_PLACE_LOST`) goes back to the queue for another place of the
same board type; that place is not used again in this study run.  Finished cells (done and recorded, or
does-not-fit) are skipped, so re-running a study resumes it.

Interrupting (Ctrl-C, SIGTERM) stops the workers (each records its cell as failed: interrupted and releases its
emulator or place); a SIGKILL of the study kills the workers too (PR_SET_PDEATHSIG) and their ``running``
states read as stale, i.e. pending, next time.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.study.cells import Cell, CellStates

EXIT_PLACE_LOST = 4


@dataclass
class Slot:
    """Where a worker runs: ``name`` (``job1``..., or the place name), ``board`` (None: any board, twins),
    ``place`` (a labgrid place name or None), ``build_root`` (the slot's own build directory)."""

    name: str
    build_root: Path
    board: str | None = None
    place: str | None = None
    lost: bool = False


@dataclass
class Outcome:
    """What a study run did: cells ``ran`` (labels with status), ``skipped`` (already finished), wall seconds."""

    ran: list[tuple[Cell, dict]] = field(default_factory=list)
    skipped: list[Cell] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def failed(self) -> list[tuple[Cell, dict]]:
        return [(c, r) for c, r in self.ran if r["status"] == "failed"]


def twin_slots(jobs: int, build_root: Path) -> list[Slot]:
    """``jobs`` slots for twins or attached boards, each with its own build directory."""
    return [Slot(f"job{i + 1}", Path(build_root) / "jobs" / str(i + 1)) for i in range(max(1, jobs))]


def run_cells(cells: list[Cell], slots: list[Slot], states: CellStates, out: Path, *, coordinator: str | None = None,
              log=print, catalog: Path | None = None) -> Outcome:
    """Run every unfinished cell of ``cells`` on ``slots``; returns the :class:`Outcome`.

    ``out``: the results folder (run directories, ``history.sqlite``).  ``coordinator``: the labgrid
    coordinator of place slots.  Raises KeyboardInterrupt after stopping the workers when interrupted."""
    started = time.monotonic()
    recorded = states.recorded_runs()
    outcome = Outcome()
    queue: collections.deque[Cell] = collections.deque()
    for cell in cells:
        (outcome.skipped if states.finished(cell, recorded) else queue).append(cell)
    if outcome.skipped:
        log(f"{len(outcome.skipped)} of {len(cells)} cells already finished: skipped")
    lock, procs, stop = threading.Lock(), {}, threading.Event()
    changed = threading.Condition(lock)
    inflight = [0]

    def take(slot: Slot) -> Cell | None:
        """The next cell this slot can run; waits while others run cells that may come back (a lost place)."""
        with changed:
            while not stop.is_set():
                for cell in list(queue):
                    if slot.board is None or cell.board == slot.board:
                        queue.remove(cell)
                        inflight[0] += 1
                        return cell
                if inflight[0] == 0:
                    return None
                changed.wait(0.5)
        return None

    def loop(slot: Slot) -> None:
        while not stop.is_set() and not slot.lost:
            cell = take(slot)
            if cell is None:
                return
            try:
                run_one(slot, cell)
            finally:
                with changed:
                    inflight[0] -= 1
                    changed.notify_all()

    def run_one(slot: Slot, cell: Cell) -> None:
        t0 = time.monotonic()
        code = _run_worker(cell, slot, states, out, coordinator, catalog, procs, lock)
        rec = states.read(cell)
        if code == EXIT_PLACE_LOST and not stop.is_set():
            slot.lost = True
            with lock:
                others = [s for s in slots if s.board == cell.board and not s.lost]
                if others:
                    queue.appendleft(cell)
                    log(f"place {slot.place} lost ({rec.get('reason', '')}); {cell.label} retried on another "
                        f"{cell.board} place")
                    return
        if rec["status"] in ("pending", "running"):  # the worker died without a verdict
            rec = {"status": "failed", "reason": f"worker exited with status {code} without recording the cell"}
            states.write(cell, "failed", reason=rec["reason"])
        with lock:
            outcome.ran.append((cell, rec))
        what = rec.get("run_dir") or rec.get("reason", "")
        log(f"[{slot.name}] {rec['status']:12} {cell.label} ({time.monotonic() - t0:.0f} s) {what}")

    threads = [threading.Thread(target=loop, args=(s,), name=f"study-{s.name}", daemon=True) for s in slots]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except BaseException:
        stop.set()
        with lock:
            for proc in procs.values():
                _terminate(proc)
        for t in threads:
            t.join(30)
        raise
    for cell in queue:  # no slot could take them (e.g. no place of that board type)
        reason = f"no place or job can run board {cell.board}"
        states.write(cell, "failed", reason=reason)
        outcome.ran.append((cell, {"status": "failed", "reason": reason}))
    outcome.wall_s = time.monotonic() - started
    return outcome


def _run_worker(cell: Cell, slot: Slot, states: CellStates, out: Path, coordinator: str | None,
                catalog: Path | None, procs: dict, lock: threading.Lock) -> int:
    from harness.flash.qemu import _die_with_parent  # noqa: PLC0415

    cmd = [sys.executable, "-m", "harness.study.worker", "--cell", cell.as_json(), "--out", str(out),
           "--state-dir", str(states.dir), "--build-root", str(slot.build_root)]
    if slot.place:
        cmd += ["--place", slot.place] + (["--coordinator", coordinator] if coordinator else [])
    if catalog:
        cmd += ["--catalog", str(catalog)]
    log_path = states.dir / f"{cell.config_hash}.log"
    states.dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLUMNS": "150"}
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                                preexec_fn=_die_with_parent)
        with lock:
            procs[slot.name] = proc
        try:
            return proc.wait()
        finally:
            with lock:
                procs.pop(slot.name, None)


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
