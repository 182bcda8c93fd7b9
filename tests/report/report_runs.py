"""Helpers of the report tests: the CLI as a subprocess, and run directories derived from real ones through
``harness.results.write_run`` (synthetic data built by the writer the pipeline uses)."""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from harness.metrics import count_stats
from harness.results import write_run
from harness.runner import InferenceRecord

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
FIXTURE_MODEL = REPO / "tests" / "fixtures" / "models" / "conv_1d_acdnet_first.tflite"
CLIPS = SHARED / "audio" / "esc50-cc0"


def tinyhil(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run the CLI as a user does (a subprocess); ``env`` entries are added to the environment."""
    full = {**os.environ, "COLUMNS": "200"}
    full.pop("TINYHIL_DB", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=900)


def read_records(run_dir: Path) -> tuple[list[InferenceRecord], str]:
    """The InferenceRecords and count unit of a run directory's inferences.csv."""
    records, unit = [], "instructions"
    with open(run_dir / "inferences.csv", newline="") as f:
        for r in csv.DictReader(f):
            unit = r["count_unit"]
            records.append(InferenceRecord(
                r["input_id"], int(r["crop"]), None if r["label"] == "" else int(r["label"]), int(r["prediction"]),
                int(r["clip_prediction"]), int(r["count"]), np.array(r["output"].split(), dtype=np.int64),
                {"true": True, "false": False}.get(r["matches_reference"])))
    return records, unit


def derive_run(src: Path, out: Path, run_id: str, count_scale: float = 1.0, date: str | None = None,
               **summary_changes) -> Path:
    """Write run ``run_id`` under ``out`` from the real run ``src``: every count × ``count_scale`` (summary
    statistics recomputed from the records; latency and energy scaled alike), summary keys replaced by ``summary_changes`` (None deletes),
    manifest date set to ``date`` when given."""
    manifest = json.loads((src / "manifest.json").read_text())
    summary = json.loads((src / "summary.json").read_text())
    records, unit = read_records(src)
    records = [InferenceRecord(r.sample_id, r.crop, r.label, r.prediction, r.clip_prediction,
                               int(round(r.count * count_scale)), r.output, r.matches_reference) for r in records]
    summary = copy.deepcopy(summary)
    summary["counts"] = count_stats([r.count for r in records], unit).as_dict()
    if summary.get("latency"):  # time and energy on a twin are derived from the counts: they scale with them
        summary["latency"].update({k: summary["latency"][k] * count_scale for k in ("median", "min", "max")
                                   if summary["latency"].get(k) is not None})
    if (summary.get("energy") or {}).get("per_inference") is not None:
        summary["energy"]["per_inference"] *= count_scale
    for key, value in summary_changes.items():
        if value is None:
            summary.pop(key, None)
        else:
            summary[key] = value
    if date:
        manifest["date"] = date
    extra = [src / "serial.log"] if (src / "serial.log").exists() else []
    return write_run(out, run_id, manifest, summary, records, unit, extra_files=extra)
