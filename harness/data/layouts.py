"""Input data folders: ESC-50 layout (``audio/*.wav`` + ``meta/esc50.csv``) or ``.npy`` input tensors.

A :class:`Sample` is one labelled item the runner feeds to the DUT: its input tensors (one per crop) and
its label.  For ESC-50 folders the tensors come from a preprocessing (e.g. :class:`RawCrops`); a ``.npy``
file holds one tensor of the model's input shape, or a stack ``[crops, *shape]``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from harness.codegen.graph import Tensor
from harness.errors import DataError
from harness.data.preprocess import RawCrops


@dataclass(frozen=True, eq=False)
class Sample:
    """One input item: id (file name), label (class index or None), inputs [crops, *input shape]."""

    id: str
    label: int | None
    inputs: np.ndarray


def data_kind(folder: Path) -> str:
    """"esc50" or "npy". Raises DataError when the folder is neither."""
    if (folder / "meta" / "esc50.csv").exists() and (folder / "audio").is_dir():
        return "esc50"
    if folder.is_dir() and any(folder.glob("*.npy")):
        return "npy"
    raise DataError(f"{folder} is neither an ESC-50 folder (audio/*.wav + meta/esc50.csv) nor a folder of .npy "
                    "tensors; check --data")


def esc50_rows(folder: Path, folds: set[int] | None = None) -> list[dict]:
    """Rows of meta/esc50.csv (dicts with filename, fold, target, category), optionally of some folds."""
    try:
        with open(folder / "meta" / "esc50.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise DataError(f"cannot read {folder}/meta/esc50.csv: {exc.strerror}") from None
    if rows and not {"filename", "target"} <= set(rows[0]):
        raise DataError(f"{folder}/meta/esc50.csv lacks the filename/target columns of ESC-50")
    return [r for r in rows if folds is None or int(r["fold"]) in folds]


def iter_samples(folder: str | Path, tensor: Tensor, preprocessing: RawCrops | None = None,
                 limit: int | None = None) -> Iterator[Sample]:
    """Samples of ``folder`` shaped for the model input ``tensor``. Raises DataError on malformed data."""
    folder = Path(folder)
    kind = data_kind(folder)
    if kind == "esc50":
        pre = preprocessing or RawCrops()
        rows = esc50_rows(folder)[:limit]
        for row in rows:
            wav = folder / "audio" / row["filename"]
            if not wav.exists():
                raise DataError(f"{wav} is listed in meta/esc50.csv but missing; restore it or fix the csv")
            yield Sample(row["filename"], int(row["target"]), pre.inputs(wav, tensor))
        return
    labels = _npy_labels(folder)
    for path in sorted(folder.glob("*.npy"))[:limit]:
        arr = np.load(path)
        if arr.size % tensor.size:
            raise DataError(f"{path.name} has {arr.size} values, not a multiple of the input size {tensor.size}")
        if arr.dtype != np.dtype(tensor.dtype):
            raise DataError(f"{path.name} is {arr.dtype}, model input is {tensor.dtype}; save tensors in that dtype")
        yield Sample(path.name, labels.get(path.name), arr.reshape((-1, *tensor.shape)))


def _npy_labels(folder: Path) -> dict[str, int]:
    path = folder / "labels.csv"
    if not path.exists():
        return {}
    out = {}
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 2 and row[1].strip().lstrip("-").isdigit():
                out[row[0].strip()] = int(row[1])
    return out
