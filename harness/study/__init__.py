"""Stage "study": a YAML file names a whole benchmark matrix (models x boards/places x backends x repeats);
tinyhil runs its cells, N at once, and resumes a study that was interrupted.

* :mod:`harness.study.schema` — the study file (pydantic), paths resolved against the file's folder.
* :mod:`harness.study.cells` — the cells, their configuration hashes and their state files.
* :mod:`harness.study.executor` — runs pending cells on N twins or one per acquired labgrid place.
* :mod:`harness.study.worker` — one cell in its own process (``python -m harness.study.worker``).
* :mod:`harness.study.status` — the ``tinyhil study status`` matrix.
* :mod:`harness.study.plan` — study file -> cells -> run -> report (:func:`~harness.study.plan.run_study`).
* :mod:`harness.study.adhoc` — ``tinyhil bench --jobs N`` through the same executor.
"""
