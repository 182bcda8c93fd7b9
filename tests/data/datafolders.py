"""Small dataset folders in the official layouts, made by the tests from clips they already have (the real
shared ESC-50 clips, or the tiny generated dataset of tests/models); nothing is committed."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

US8K_COLUMNS = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]


def _rows(esc50_root: Path) -> list[dict]:
    with open(esc50_root / "meta" / "esc50.csv", newline="") as f:
        return list(csv.DictReader(f))


def esc50_copy(src: Path, root: Path, folds: list[int] | None = None) -> Path:
    """``src`` (ESC-50 layout) copied to ``root``; ``folds`` reassigns the clips' folds in turn (e.g. [1, 2])."""
    rows = _rows(src)
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    for i, r in enumerate(rows):
        shutil.copy(src / "audio" / r["filename"], root / "audio" / r["filename"])
        if folds:
            r["fold"] = str(folds[i % len(folds)])
    with open(root / "meta" / "esc50.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


def urbansound8k_copy(src: Path, root: Path, folds: list[int] | None = None) -> Path:
    """``src`` (ESC-50 layout) as an UrbanSound8K-layout folder: ``audio/fold<k>/<name>.wav`` and
    ``metadata/UrbanSound8K.csv``, same clips, labels and folds (or ``folds`` assigned in turn)."""
    rows = _rows(src)
    (root / "metadata").mkdir(parents=True)
    out = []
    for i, r in enumerate(rows):
        fold = folds[i % len(folds)] if folds else int(r["fold"])
        name = f"{100 + i}-{r['target']}-0-{i}.wav"  # fsID-classID-occurrence-slice, as the dataset names them
        (root / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "audio" / r["filename"], root / "audio" / f"fold{fold}" / name)
        out.append({"slice_file_name": name, "fsID": 100 + i, "start": 0.0, "end": 5.0, "salience": 1,
                    "fold": fold, "classID": r["target"], "class": r.get("category", r["target"])})
    with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=US8K_COLUMNS)
        w.writeheader()
        w.writerows(out)
    return root
