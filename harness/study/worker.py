"""One study cell in its own process: ``python -m harness.study.worker --cell JSON --out DIR --state-dir DIR``.

Records ``running`` (pid, host, place), runs the benchmark (:func:`harness.bench.run_bench`, recorded in the
history database ``<out>/history.sqlite``), then ``done`` (run directory), ``does-not-fit`` or ``failed``
(the one-line error).  With ``--place`` the cell runs on that labgrid place, acquired for the cell and released
on every exit path.  Exit status: 0 done or does-not-fit, 2 failed, 4 the place was lost (link or flash
failure on a place: the executor retries the cell on another place), 130 interrupted (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from harness.study.cells import Cell, CellStates
from harness.study.executor import EXIT_PLACE_LOST


def _interrupt(signum, frame):  # SIGTERM from the executor: unwind like Ctrl-C, releasing QEMU and the place
    raise KeyboardInterrupt


def run_cell(cell: Cell, out: Path, states: CellStates, build_root: Path, place: str | None = None,
             coordinator: str | None = None, catalog: Path | None = None) -> int:
    """Run ``cell`` and record its state; returns the exit status (see the module docstring)."""
    from rich.console import Console  # noqa: PLC0415

    from harness.backends import parse_backend  # noqa: PLC0415
    from harness.bench import BenchConfig, run_bench  # noqa: PLC0415
    from harness.boards import get_board  # noqa: PLC0415
    from harness.errors import FlashError, MemoryOverflowError, TinyhilError, TransportError  # noqa: PLC0415
    from harness.history import default_db  # noqa: PLC0415

    states.write(cell, "running", pid=os.getpid(), host=socket.gethostname(), place=place)
    try:
        with contextlib.ExitStack() as stack:
            connector = None
            if place:
                from harness.farm import PlaceSession  # noqa: PLC0415

                session = stack.enter_context(PlaceSession(place, coordinator=coordinator, catalog=catalog))
                target, connector = session.target(emulate=cell.emulate), session.connector()
                tags = (*cell.tags, f"place-{session.name}")  # which board of the farm ran it
            else:
                target = get_board(cell.board, catalog).target(cell.emulate)
                tags = tuple(cell.tags)
            cfg = BenchConfig(model=Path(cell.model), data=Path(cell.data) if cell.data else None, target=target,
                              out=out, quantization=cell.quantization, limit=cell.limit, build_root=build_root,
                              tags=tags, backend=parse_backend(cell.backend), connector=connector)
            result = run_bench(cfg, Console(width=150))
    except MemoryOverflowError as exc:
        states.write(cell, "does-not-fit", reason=str(exc), place=place)
        return 0
    except (TransportError, FlashError) as exc:
        states.write(cell, "failed", reason=str(exc), place=place)
        return EXIT_PLACE_LOST if place else 2
    except TinyhilError as exc:
        states.write(cell, "failed", reason=str(exc), place=place)
        return 2
    except KeyboardInterrupt:
        states.write(cell, "failed", reason="interrupted (the study was stopped)", place=place)
        return 130
    if result.path.name not in CellStates(states.dir, default_db(out)).recorded_runs():
        states.write(cell, "failed", reason=f"{result.path} was not recorded in the history database", place=place)
        return 2
    s = result.summary
    states.write(cell, "done", run_dir=str(result.path), place=place, bit_exact=s.bit_exact,
                 count=s.counts.median if s.counts else None, unit=s.counts.unit if s.counts else None)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.study.worker", description=__doc__.splitlines()[0])
    ap.add_argument("--cell", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--state-dir", required=True, type=Path)
    ap.add_argument("--build-root", required=True, type=Path)
    ap.add_argument("--place")
    ap.add_argument("--coordinator")
    ap.add_argument("--catalog", type=Path)
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    from harness.history import default_db  # noqa: PLC0415

    states = CellStates(a.state_dir, default_db(a.out))
    return run_cell(Cell.from_json(a.cell), a.out, states, a.build_root, a.place, a.coordinator, a.catalog)


if __name__ == "__main__":
    sys.exit(main())
