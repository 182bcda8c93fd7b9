"""Run directories: the self-describing record of one benchmark run.

Layout of ``<out>/<run id>/``:
- ``manifest.json``: what ran where (tinyhil version and git commit, model file and SHA-256, board, twin or
  hardware, compiler and flags, QEMU version, preprocessing, timer source, date);
- ``inferences.csv``: one row per inference (input id, crop, label, prediction, clip prediction, count,
  reference match, raw output values space-separated in ``output``);
- ``summary.json``: accuracy, count statistics, memory, arena, bit-exactness;
- ``serial.log``: the raw serial transcript (when the DUT is a device).
A run is written only once it is complete (to a temporary name, then renamed), so a failed run never
leaves a directory that looks valid.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from harness import __version__
from harness.runner import InferenceRecord

REPO = Path(__file__).resolve().parent.parent


def git_commit() -> str:
    """The repository's HEAD commit (with '+dirty' when the tree has changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def base_manifest() -> dict:
    """Fields every manifest carries: tinyhil version, git commit, UTC date."""
    return {
        "tinyhil_version": __version__,
        "git_commit": git_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def new_run_id(model_name: str, board: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    stem = Path(model_name).stem
    return f"{stamp}-{stem}-{board}"


INFERENCE_COLUMNS = ["input_id", "crop", "label", "prediction", "clip_prediction", "count", "count_unit",
                     "matches_reference", "output"]


def write_run(out_root: str | Path, run_id: str, manifest: dict, summary: dict,
              records: list[InferenceRecord], count_unit: str, extra_files: list[Path] = ()) -> Path:
    """Write a complete run directory atomically (``extra_files``, e.g. serial.log, are copied in);
    returns its path."""
    out_root = Path(out_root)
    final = out_root / run_id
    tmp = out_root / f".{run_id}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    with open(tmp / "inferences.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(INFERENCE_COLUMNS)
        for r in records:
            w.writerow([r.sample_id, r.crop, "" if r.label is None else r.label, r.prediction, r.clip_prediction,
                        r.count, count_unit, "" if r.matches_reference is None else str(r.matches_reference).lower(),
                        " ".join(str(v) for v in r.output.reshape(-1).tolist())])
    for extra in extra_files:
        if extra.exists():
            shutil.copy(extra, tmp / extra.name)
    tmp.rename(final)
    return final
