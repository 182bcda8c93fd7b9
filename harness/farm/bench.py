"""``tinyhil bench --place`` / ``--jobs``: the bench command's runs on a labgrid place or on N twins at once."""

from __future__ import annotations

from pathlib import Path

from harness.errors import FarmError


def bench_elsewhere(place: str | None, coordinator: str | None, jobs: int, models: list, boards: list, backends: list,
                    *, emulate: bool, data: Path | None, out: Path, limit: int | None, quantization: str,
                    tags: tuple[str, ...], local: Path | None, catalog: Path | None, console,
                    bench_one) -> tuple[list, list, list, list]:
    """Run the bench call's cells on ``place`` (held for the whole call; ``--board``/``--emulate`` must agree with
    its tags; ``--board`` is ignored; runs are tagged ``place-<name>``) or ``jobs`` at once on twins.  Returns
    (results, refused, compared, boards) for the bench tables.
    ``bench_one``: the CLI's single-run helper.  Raises FarmError, TinyhilError."""
    from itertools import product  # noqa: PLC0415

    from harness.bench import BenchConfig  # noqa: PLC0415

    if place is None:
        if not emulate:
            raise FarmError("--jobs runs cells on twins (--emulate); attached boards run one at a time, and a farm's "
                            "boards in parallel through a study file with places (docs/farm.md)")
        from harness.study.adhoc import bench_parallel  # noqa: PLC0415

        log = lambda m: console.print(m, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
        results, refused, compared = bench_parallel(models, boards, backends, emulate=emulate, jobs=jobs, data=data,
                                                    out=out, limit=limit, quantization=quantization, tags=tags,
                                                    local=local, catalog=catalog, log=log)
        return results, refused, compared, boards
    from harness.farm.place import PlaceSession  # noqa: PLC0415

    results, refused, compared = [], [], []
    with PlaceSession(place, coordinator=coordinator, catalog=catalog) as session:
        console.print(f"place {session.name}: {session.board.name} {'twin' if session.is_twin else 'board'} "
                      f"via {session.serial_url}", highlight=False)
        if len(boards) > 1:
            raise FarmError(f"--place {place} is one {session.board.name}; drop the extra --board options (the "
                            "place's board tag decides) or run a study over several places")
        target = session.target()
        for one, kind in product(models, backends):
            cfg = BenchConfig(model=one, data=data, target=target, out=out, quantization=quantization, limit=limit,
                              local=local, tags=(*tags, f"place-{session.name}"), backend=kind,
                              connector=session.connector())
            bench_one(cfg, single=len(models) * len(backends) == 1, results=results, refused=refused,
                      compared=compared)
        return results, refused, compared, [session.board]
