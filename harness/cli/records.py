"""What ``--json`` prints: one JSON document on stdout, nothing else there (progress and notes go to stderr).

Keys are stable (new keys may be added, none renamed or removed without a version change of ``"schema"``);
units are in the key names (``_bytes``, ``_us``, ``_uj``, ``_hz``); a value that was not measured is ``null``,
never 0.  The documents, by command:

- ``runs``: ``{"schema": 1, "runs": [RUN, ...]}``; ``show``: ``{"schema": 1, "run": RUN, "manifest": {...},
  "summary": {...}}`` (manifest and summary as in the run directory's JSON files);
- ``bench``: ``{"schema": 1, "runs": [RUN, ...], "not_run": [{"model", "board", "backend", "reason"}]}``;
- ``compare``: ``{"schema": 1, "baseline": RUN, "current": RUN, "thresholds": path|null, "config_differences":
  [...], "regressions": n, "changes": [{"metric", "unit", "baseline", "current", "delta", "pct", "limit",
  "status", "note"}]}``;
- ``boards``: ``{"schema": 1, "boards": [BOARD, ...]}``; ``inspect``: the model card; ``profile``: the
  profile.json document plus ``"run_id"`` and ``"files"``; ``report``: ``{"schema": 1, "selection", "rows":
  [...trade-off rows as in tradeoffs.csv...], "files": {kind: path}, "omitted": [...]}``.

RUN (:func:`run_record`): run_id, short_id, path, date, model, variant, method, base, board, target, backend,
tags, samples, correct, accuracy (fraction 0..1), count_unit, count_median, count_min, count_max, latency_us,
latency_estimate, energy_uj, energy_estimate, flash_bytes, ram_bytes, arena_bytes, weight_bytes, macs,
bit_exact, mismatches.
"""

from __future__ import annotations

from harness.rundir import Counts, Energy, Latency, Memory, Run, energy_uj, latency_us

SCHEMA = 1


def run_record(run: Run, short_id: str | None = None) -> dict:
    """The flat JSON record of one run (keys in the module docstring); ``short_id`` defaults to the full id."""
    s = run.summary
    counts, mem, lat, en = s.counts or Counts(), s.memory or Memory(), s.latency or Latency(), s.energy or Energy()
    v = run.variant
    return {
        "run_id": run.run_id, "short_id": short_id or run.run_id, "path": str(run.path) if run.path else None,
        "date": run.date.isoformat(), "model": run.model, "variant": v.name, "method": v.method, "base": v.base,
        "board": run.board, "target": run.target, "backend": run.backend, "tags": list(run.tags),
        "samples": s.samples, "correct": s.correct, "accuracy": s.accuracy,
        "count_unit": counts.unit, "count_median": counts.median, "count_min": counts.min, "count_max": counts.max,
        "latency_us": latency_us(s), "latency_estimate": lat.estimate if lat.median is not None else None,
        "energy_uj": energy_uj(s), "energy_estimate": en.estimate if en.per_inference is not None else None,
        "flash_bytes": mem.flash_bytes, "ram_bytes": mem.ram_bytes, "arena_bytes": s.arena_bytes,
        "weight_bytes": s.weight_bytes, "macs": s.macs, "bit_exact": s.bit_exact, "mismatches": s.mismatches,
    }


def board_record(board) -> dict:
    """JSON record of a catalog board: name, title, core, clock_hz, flash_bytes, ram_bytes, flasher
    ({kind, target}), twin ({machine, cpu} or null)."""
    twin = {"machine": board.twin.machine, "cpu": board.twin.cpu} if board.twin else None
    return {"name": board.name, "title": board.title, "core": board.core, "clock_hz": board.clock_hz,
            "flash_bytes": board.flash_bytes, "ram_bytes": board.ram_bytes,
            "flasher": {"kind": board.flasher.kind, "target": board.flasher.target}, "twin": twin}
