"""Input data folders (``--data-layout``): ESC-50 (``audio/*.wav`` + ``meta/esc50.csv``), UrbanSound8K
(``audio/fold1..10/*.wav`` + ``metadata/UrbanSound8K.csv``) or ``.npy`` input tensors.

A :class:`Sample` is one labelled item the runner feeds to the DUT: its input tensors (one per crop or patch)
and its label.  For the audio layouts the tensors come from a front end (:class:`RawCrops`, or log-mel patches
:class:`harness.data.frontends.LogMelInputs`); a ``.npy`` file holds one tensor of the model's input shape, or
a stack ``[crops, *shape]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from harness.codegen.graph import Tensor
from harness.errors import DataError
from harness.data.preprocess import RawCrops
from harness.data.validate import check_limit, load_npy, parse_label, read_labels_csv


@dataclass(frozen=True, eq=False)
class Sample:
    """One input item: id (file name), label (class index or None), inputs [crops, *input shape]."""

    id: str
    label: int | None
    inputs: np.ndarray


LAYOUT_NAMES = ("esc50", "urbansound8k", "npy")
_LAYOUT_HELP = ("an ESC-50 folder (audio/*.wav + meta/esc50.csv), an UrbanSound8K folder (audio/fold1..10 + "
                "metadata/UrbanSound8K.csv) or a folder of .npy input tensors")


def data_kind(folder: Path, layout: str | None = None, folds=None) -> str:
    """"esc50", "urbansound8k" or "npy": ``layout`` when given (``--data-layout``; checked against the folder),
    else detected from the folder (a metadata CSV + ``audio/``, else ``*.npy`` files).  ``folds`` (``--fold``)
    need an audio layout.  Raises DataError (one line) when the folder is none of them, does not have the
    named layout, or folds are asked of .npy tensors."""
    from harness.data.metadata import LAYOUTS, detect_dataset  # noqa: PLC0415

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--data {folder} is not a folder; pass {_LAYOUT_HELP} (or esc50 / urbansound8k to "
                        "download one)")
    if layout is not None and layout not in LAYOUT_NAMES:
        raise DataError(f"--data-layout {layout!r}: use {', '.join(LAYOUT_NAMES)} (or omit it to detect)")
    if layout in LAYOUTS:
        lay = LAYOUTS[layout]
        missing = [x for x in (lay.csv, "audio/") if not (folder / x.rstrip("/")).exists()]
        if missing:
            raise DataError(f"--data-layout {layout}: {folder} has no {' and no '.join(missing)}; fix the folder "
                            "or the layout (omit --data-layout to detect it)")
        kind = layout
    elif layout == "npy":
        if not any(folder.glob("*.npy")):
            raise DataError(f"--data-layout npy: {folder} has no .npy files; fix the folder or the layout")
        kind = "npy"
    else:
        kind = detect_dataset(folder) or ("npy" if any(folder.glob("*.npy")) else "")
        if not kind:
            raise DataError(f"{folder} is neither {_LAYOUT_HELP}; check --data")
    if folds and kind == "npy":
        raise DataError(f"--fold selects official folds of ESC-50 or UrbanSound8K; {folder} holds .npy tensors: "
                        "drop --fold (or pass the dataset folder)")
    return kind


def esc50_rows(folder: Path, folds: set[int] | None = None) -> list[dict]:
    """Rows of meta/esc50.csv (dicts with filename, fold, target, category, and ``line``), optionally of some
    folds ([] when none is in them).  Raises DataError for an unreadable or empty file, missing columns or a
    non-integer fold (:func:`harness.data.metadata.dataset_rows`, the one reader)."""
    from harness.data.metadata import dataset_rows  # noqa: PLC0415

    rows = dataset_rows(folder, "esc50", need_fold=folds is not None)
    return [r.columns for r in rows if folds is None or r.fold in folds]


def iter_samples(folder: str | Path, tensor: Tensor, preprocessing=None, limit: int | None = None, *,
                 layout: str | None = None, folds=None) -> Iterator[Sample]:
    """Samples of ``folder`` shaped for the model input ``tensor``: for an audio layout (``layout`` or
    detected; only ``folds`` when given) each clip through ``preprocessing`` (a bench front end with
    ``inputs(wav, tensor)``: ``RawCrops`` by default, or :class:`harness.data.frontends.LogMelInputs`), for
    .npy tensors the files.  Raises DataError on malformed data."""
    from harness.data.metadata import dataset_rows  # noqa: PLC0415

    folder = Path(folder)
    check_limit(limit)
    kind = data_kind(folder, layout, folds)
    if kind != "npy":
        pre = preprocessing or RawCrops()
        for row in dataset_rows(folder, kind, folds)[:limit]:
            label = parse_label(row.label, row.where)
            if not row.path.exists():
                raise DataError(f"{row.where}: {row.path} is listed but missing; restore it or fix the csv")
            yield Sample(row.name, label, pre.inputs(row.path, tensor))
        return
    files = sorted(folder.glob("*.npy"))
    labels = read_labels_csv(folder, ids={p.name for p in files})
    for path in files[:limit]:
        yield Sample(path.name, labels.get(path.name), load_npy(path, tensor))
