"""Notes a reader of a report needs beside the numbers: calibration/evaluation overlap, class names.

Calibration overlap: a compression recipe's model card (``<model>.card.json`` beside the .tflite, written by
``tinyhil variants``) names the data folder its int8 calibration clips came from (``data``); when that is the
folder the run evaluated (``manifest.data.path``), the accuracy is measured on calibration data and the
report says so (the ``acdnet20-no-retraining`` recipe does this on the shared CC0 clips).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from harness.rundir import Run


def _card(run: Run) -> dict | None:
    model = run.manifest.model
    if not model or not model.path:
        return None
    card = Path(model.path).with_name(Path(model.path).stem + ".card.json")
    try:
        return json.loads(card.read_text()) if card.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def calibration_overlaps(runs: list[Run]) -> list[str]:
    """One note per evaluation data folder that some variants (with an accuracy) were also calibrated on, naming
    those variants; [] when there is no overlap."""
    folders: dict[str, set[str]] = {}
    for r in runs:
        card, data = _card(r), r.manifest.data
        if r.summary.accuracy is not None and card and data and _same(card.get("data"), data.path):
            folders.setdefault(data.path, set()).add(r.variant.name)
    return [f"calibration and evaluation data overlap: {', '.join(sorted(v))} were calibrated (int8) on clips of "
            f"{path}, the clips their accuracy was measured on; their accuracy is optimistic."
            for path, v in sorted(folders.items())]


def class_names(run: Run) -> dict[int, str]:
    """{class id: category} from ``meta/esc50.csv`` of the run's data folder ({} when there is none)."""
    data = run.manifest.data
    meta = Path(data.path) / "meta" / "esc50.csv" if data and data.path else None
    if meta is None or not meta.is_file():
        return {}
    with open(meta, newline="") as f:
        return {int(row["target"]): row["category"] for row in csv.DictReader(f) if row.get("target")}
