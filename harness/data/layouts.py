"""Input data folders: ESC-50 layout (``audio/*.wav`` + ``meta/esc50.csv``) or ``.npy`` input tensors.

A :class:`Sample` is one labelled item the runner feeds to the DUT: its input tensors (one per crop) and
its label.  For ESC-50 folders the tensors come from a preprocessing (e.g. :class:`RawCrops`); a ``.npy``
file holds one tensor of the model's input shape, or a stack ``[crops, *shape]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from harness.codegen.graph import Tensor
from harness.errors import DataError
from harness.data.preprocess import RawCrops
from harness.data.validate import check_limit, load_npy, parse_label, read_esc50_csv, read_labels_csv


@dataclass(frozen=True, eq=False)
class Sample:
    """One input item: id (file name), label (class index or None), inputs [crops, *input shape]."""

    id: str
    label: int | None
    inputs: np.ndarray


def data_kind(folder: Path) -> str:
    """"esc50" or "npy". Raises DataError when the folder is neither."""
    if not folder.is_dir():
        raise DataError(f"--data {folder} is not a folder; pass an ESC-50 folder (audio/*.wav + meta/esc50.csv) "
                        "or a folder of .npy input tensors")
    if (folder / "meta" / "esc50.csv").exists() and (folder / "audio").is_dir():
        return "esc50"
    if any(folder.glob("*.npy")):
        return "npy"
    raise DataError(f"{folder} is neither an ESC-50 folder (audio/*.wav + meta/esc50.csv) nor a folder of .npy "
                    "tensors; check --data")


def esc50_rows(folder: Path, folds: set[int] | None = None) -> list[dict]:
    """Rows of meta/esc50.csv (dicts with filename, fold, target, category, and ``line``), optionally of some
    folds.  Raises DataError for an unreadable or empty file, missing columns or a non-integer fold."""
    rows = read_esc50_csv(folder)
    if folds is None:
        return rows
    out = []
    for r in rows:
        try:
            fold = int(r.get("fold") or "")
        except ValueError:
            raise DataError(f"{folder}/meta/esc50.csv line {r['line']}: fold {r.get('fold')!r} is not an "
                            "integer; fix the line") from None
        if fold in folds:
            out.append(r)
    return out


def iter_samples(folder: str | Path, tensor: Tensor, preprocessing: RawCrops | None = None,
                 limit: int | None = None) -> Iterator[Sample]:
    """Samples of ``folder`` shaped for the model input ``tensor``. Raises DataError on malformed data."""
    folder = Path(folder)
    check_limit(limit)
    kind = data_kind(folder)
    if kind == "esc50":
        pre = preprocessing or RawCrops()
        rows = esc50_rows(folder)[:limit]
        for row in rows:
            wav = folder / "audio" / row["filename"]
            label = parse_label(row["target"] or "", f"{folder}/meta/esc50.csv line {row['line']}")
            if not wav.exists():
                raise DataError(f"{wav} is listed in meta/esc50.csv but missing; restore it or fix the csv")
            yield Sample(row["filename"], label, pre.inputs(wav, tensor))
        return
    files = sorted(folder.glob("*.npy"))
    labels = read_labels_csv(folder, ids={p.name for p in files})
    for path in files[:limit]:
        yield Sample(path.name, labels.get(path.name), load_npy(path, tensor))
