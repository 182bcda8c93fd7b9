"""``tinyhil study run STUDY.yaml`` and ``tinyhil study status STUDY.yaml``: a whole benchmark matrix from one
file, N cells at once, resumable (see :mod:`harness.study`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

study_app = typer.Typer(help="Run a study file (models x boards/places x backends) and show its matrix.",
                        no_args_is_help=True)

SessionOpt = typer.Option(None, "--session", help="Name of this study run, e.g. the night's date: cells are "
                          "resumed within a session; a new session runs every cell again (and tags its runs)")


def register(app: typer.Typer, console, guarded) -> None:
    """Add the ``study`` command group to ``app``."""

    @study_app.command("run")
    @guarded
    def run(study_file: Path = typer.Argument(..., help="Study YAML (see docs/farm.md)"),
            jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Cells at once on twins or "
                                               "attached boards (default: the number of cores); with places: one "
                                               "per place"),
            session: Optional[str] = SessionOpt,
            out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder instead of the study's out"),
            coordinator: Optional[str] = typer.Option(None, "--coordinator", help="labgrid coordinator HOST[:PORT] "
                                                      "(default: the study's, else $LG_COORDINATOR)"),
            catalog: Optional[Path] = typer.Option(None, "--catalog", help="Board catalog YAML")) -> None:
        """Run the unfinished cells of a study and write its report; finished cells are skipped (resume).
        Exit status 1 when a cell failed."""
        from harness.study.plan import run_study
        from harness.study.schema import load_study

        study = load_study(study_file)
        if out is not None:
            study = study.model_copy(update={"out": str(out.resolve())})
        result = run_study(study, jobs=jobs, session=session, catalog=catalog, coordinator=coordinator,
                           log=lambda m: console.print(m, highlight=False, markup=False, soft_wrap=True))
        o = result.outcome
        console.print(f"study {study.name}: {len(o.ran)} cells ran, {len(o.skipped)} skipped (finished), "
                      f"{len(o.failed)} failed; wall {o.wall_s:.1f} s", highlight=False)
        _status(study, session, console, result.cells)
        if o.failed:
            raise typer.Exit(1)

    @study_app.command("status")
    @guarded
    def status(study_file: Path = typer.Argument(..., help="Study YAML"), session: Optional[str] = SessionOpt,
               out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder instead of the study's"),
               ids: bool = typer.Option(False, "--ids", help="Print only the run ids of the done cells"),
               coordinator: Optional[str] = typer.Option(None, "--coordinator", help="labgrid coordinator"),
               catalog: Optional[Path] = typer.Option(None, "--catalog", help="Board catalog YAML")) -> None:
        """The study's matrix: done, failed (reason), running, pending, does not fit."""
        from harness.study.schema import load_study

        study = load_study(study_file)
        if out is not None:
            study = study.model_copy(update={"out": str(out.resolve())})
        if ids:
            from harness.study.plan import states_of

            states = states_of(study, session)
            for c in _cells(study, session, catalog, coordinator):
                rec = states.read(c)
                if rec["status"] == "done":
                    print(Path(rec["run_dir"]).name)
            return
        _status(study, session, console, None, catalog, coordinator)

    app.add_typer(study_app, name="study")


def _cells(study, session, catalog, coordinator):
    from harness.study.plan import fold_data, plan_cells, states_of, study_slots
    from harness.orchestrate import BUILD_ROOT

    _, boards = study_slots(study, 1, BUILD_ROOT, catalog, coordinator)
    return plan_cells(study, boards, fold_data(study, states_of(study, session)), produce=False, log=lambda m: None,
                      extra_tags=(session,) if session else ())


def _status(study, session, console, cells=None, catalog=None, coordinator=None) -> None:
    from harness.study.plan import states_of
    from harness.study.status import status_table

    cells = cells if cells is not None else _cells(study, session, catalog, coordinator)
    table, counts = status_table(f"study {study.name}" + (f" ({session})" if session else ""), cells,
                                 states_of(study, session))
    console.print(table)
    console.print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())), highlight=False)
