"""Helpers of the report tests: the CLI as a subprocess, and run directories derived from real ones through
``harness.rundir.write_run`` (synthetic data built by the writer the pipeline uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.metrics.accuracy import count_stats
from harness.rundir import read_run, write_run
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_path()
FIXTURE_MODEL = REPO / "tests" / "fixtures" / "models" / "conv_1d_acdnet_first.tflite"
CLIPS = SHARED / "audio" / "esc50-cc0"


def clips_for_classes(classes: int, dest: Path) -> Path:
    """The CC0 clips as an ESC-50 folder for a ``classes``-class fixture model: the audio linked in place, each
    ``target`` taken modulo ``classes`` (bench refuses labels outside the model's classes).  Returns ``dest``."""
    import csv

    (dest / "meta").mkdir(parents=True, exist_ok=True)
    if not (dest / "audio").exists():
        (dest / "audio").symlink_to(CLIPS / "audio", target_is_directory=True)
    with open(CLIPS / "meta" / "esc50.csv", newline="") as src:
        rows = list(csv.DictReader(src))
    with open(dest / "meta" / "esc50.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "target": str(int(r["target"]) % classes)} for r in rows)
    return dest


def tinyhil(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run the CLI as a user does (a subprocess); ``env`` entries are added to the environment."""
    full = {**os.environ, "COLUMNS": "200"}
    full.pop("TINYHIL_DB", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=900)


def derive_run(src: Path, out: Path, run_id: str, count_scale: float = 1.0, date: str | None = None,
               **summary_changes) -> Path:
    """Write run ``run_id`` under ``out`` from the real run ``src``: every count × ``count_scale`` (summary
    statistics recomputed from the rows; latency and energy scaled alike), summary fields replaced by
    ``summary_changes`` (None: not measured), manifest date set to ``date`` when given."""
    run = read_run(src)
    rows = [r.model_copy(update={"count": int(round(r.count * count_scale))}) for r in run.inferences]
    summary = run.summary.model_dump(mode="json")
    summary["counts"] = count_stats([r.count for r in rows], run.summary.counts.unit).as_dict()
    if summary.get("latency"):  # time and energy on a twin are derived from the counts: they scale with them
        summary["latency"].update({k: summary["latency"][k] * count_scale for k in ("median", "min", "max")
                                   if summary["latency"].get(k) is not None})
    if (summary.get("energy") or {}).get("per_inference") is not None:
        summary["energy"]["per_inference"] *= count_scale
    summary.update(summary_changes)
    manifest = run.manifest.model_dump(mode="json") | ({"date": date} if date else {})
    extra = [src / "serial.log"] if (src / "serial.log").exists() else []
    return write_run(out, run_id, manifest, summary, rows, extra_files=extra)
