"""From a study file to cells, and a whole study run: plan, run the pending cells, write the report.

:func:`plan_cells` expands models x boards x backends x repeats (places: their boards, from the tags);
:func:`run_study` runs them (:mod:`harness.study.executor`) and writes the trade-off report of the study's
done cells (:func:`harness.report.build.write_report`).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StudyError
from harness.study.cells import Cell, CellStates, file_sha256
from harness.study.executor import Outcome, Slot, run_cells, twin_slots
from harness.study.schema import Study, model_files


def states_of(study: Study, session: str | None = None) -> CellStates:
    """The cell states of ``study`` (one folder per ``session``, e.g. a night's date)."""
    from harness.history import default_db  # noqa: PLC0415

    base = study.state_dir / session if session else study.state_dir
    return CellStates(base, default_db(study.out_dir))


def fold_data(study: Study, states: CellStates) -> Path | None:
    """The study's data folder; with ``fold``, an ESC-50 view of that fold only (symbolic links to the clips and
    the fold's rows of meta/esc50.csv) under the state folder.  Raises StudyError when ``fold`` selects no clip
    or the folder is not ESC-50."""
    if study.data is None:
        if study.fold is not None:
            raise StudyError("fold needs data: an ESC-50 folder (audio/ and meta/esc50.csv)")
        return None
    data = study.resolve(study.data)
    if study.fold is None:
        return data
    from harness.data.layouts import esc50_rows  # noqa: PLC0415

    if not (data / "meta" / "esc50.csv").is_file():
        raise StudyError(f"fold {study.fold}: {data} is not an ESC-50 folder (meta/esc50.csv missing)")
    rows = esc50_rows(data, {study.fold})
    if not rows:
        raise StudyError(f"fold {study.fold} selects no clip of {data}/meta/esc50.csv; use a fold it has")
    view = states.dir / f"data-{data.name}-fold{study.fold}"
    (view / "audio").mkdir(parents=True, exist_ok=True)
    (view / "meta").mkdir(exist_ok=True)
    with open(view / "meta" / "esc50.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        link = view / "audio" / r["filename"]
        if not link.exists():
            link.symlink_to(data / "audio" / r["filename"])
    return view


def plan_cells(study: Study, boards: list[str], data: Path | None, produce: bool = True, log=print,
               extra_tags: tuple[str, ...] = ()) -> list[Cell]:
    """Every cell of ``study`` on ``boards`` (catalog names), in the order models x boards x backends x repeats.
    Raises StudyError, CatalogError (unknown board), UnknownBackendError."""
    from harness.backends import parse_backend  # noqa: PLC0415

    backends = [parse_backend(b).value for b in dict.fromkeys(study.backends)]
    tags = tuple(dict.fromkeys((*study.tags, f"study-{study.name}", *extra_tags)))
    cells = []
    for model in model_files(study, produce=produce, log=log):
        digest = file_sha256(model)
        for board in boards:
            for backend in backends:
                for r in range(study.repeats):
                    cells.append(Cell(model=str(model), model_sha256=digest, board=board, emulate=study.emulate,
                                      backend=backend, repeat=r, data=str(data) if data else None,
                                      limit=study.limit, fold=study.fold, quantization=study.quantization, tags=tags))
    first: dict[str, Cell] = {}
    for c in cells:  # model files with the same content are the same cell: run once
        first.setdefault(c.config_hash, c)
    unique = list(first.values())
    if len(unique) < len(cells):
        log(f"study {study.name}: {len(cells) - len(unique)} cells duplicate others (model files with the same "
            "content) and run once")
    return unique


@dataclass
class StudyRun:
    """A study run: its cells, what ran, and the report folder (None: not written)."""

    cells: list[Cell]
    outcome: Outcome
    report: Path | None


def study_slots(study: Study, jobs: int | None, build_root: Path, catalog: Path | None = None,
                coordinator: str | None = None) -> tuple[list[Slot], list[str]]:
    """The slots and the boards of the study: ``jobs`` twin/board slots, or one slot per labgrid place (its
    board from the place's ``board`` tag).  Raises StudyError, FarmError."""
    from harness.boards import get_board  # noqa: PLC0415

    if study.places:
        from harness.farm import place_boards  # noqa: PLC0415

        found = place_boards(study.places, coordinator=coordinator or study.coordinator, catalog=catalog)
        slots = [Slot(name, Path(build_root) / "jobs" / name, board=board, place=name) for name, board in found]
        boards = list(dict.fromkeys([*study.boards, *(b for _, b in found)]))
        return slots, boards
    for b in study.boards:
        get_board(b, catalog)
    return twin_slots(jobs or os.cpu_count() or 1, build_root), list(dict.fromkeys(study.boards))


def run_study(study: Study, *, jobs: int | None = None, session: str | None = None, build_root: Path | None = None,
              catalog: Path | None = None, coordinator: str | None = None, log=print) -> StudyRun:
    """Run the unfinished cells of ``study`` (``jobs`` at once; default the number of cores) and write its report.
    ``build_root``: default $TINYHIL_BUILD_ROOT, else .tinyhil/build (each job builds in ``<root>/jobs/<slot>``).
    Raises StudyError, FarmError, KeyboardInterrupt (workers stopped, states recorded)."""
    from harness.orchestrate import BUILD_ROOT  # noqa: PLC0415

    states = states_of(study, session)
    build_root = Path(build_root or os.environ.get("TINYHIL_BUILD_ROOT") or BUILD_ROOT)
    slots, boards = study_slots(study, jobs, build_root, catalog, coordinator)
    data = fold_data(study, states)
    cells = plan_cells(study, boards, data, log=log, extra_tags=(session,) if session else ())
    log(f"study {study.name}: {len(cells)} cells on {len(slots)} "
        f"{'places' if study.places else 'jobs'}; results in {study.out_dir}")
    outcome = run_cells(cells, slots, states, study.out_dir, coordinator=coordinator or study.coordinator,
                        log=log, catalog=catalog)
    report = write_study_report(study, cells, states, log) if study.report else None
    return StudyRun(cells, outcome, report)


def write_study_report(study: Study, cells: list[Cell], states: CellStates, log=print) -> Path | None:
    """The trade-off report of the study's done cells in ``<out>/<report>``; None when no cell is done."""
    from harness.report.build import write_report  # noqa: PLC0415
    from harness.rundir import read_run  # noqa: PLC0415

    runs = [read_run(rec["run_dir"]) for rec in (states.read(c) for c in cells) if rec["status"] == "done"]
    if not runs:
        log(f"study {study.name}: no cell done, no report written")
        return None
    out = study.out_dir / study.report
    write_report(runs, out, selection=f"study {study.name}")
    log(f"report: {out}")
    return out
