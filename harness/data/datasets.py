"""Dataset loaders for the standard layouts (no torch/tensorflow needed).

- ESC-50 (Piczak 2015): ``audio/*.wav`` + ``meta/esc50.csv`` (filename, fold 1-5, target 0-49, category,
  esc10 True/False).  ``esc10=True`` keeps the ESC-10 subset and renumbers its targets 0-9 (sorted by ESC-50
  target).
- UrbanSound8K (Salamon et al. 2014): ``audio/fold{1..10}/*.wav`` + ``metadata/UrbanSound8K.csv``
  (slice_file_name, fold, classID 0-9, class).

Official folds are used as given: never mix clips of one fold into another (the datasets' own rule).
:func:`download` fetches either through ``soundata`` on a connected machine (``pip install soundata``).
Shared by `tinyhil bench` (``--data``, ``--fold``) and the training recipes (``tinyhil_models``).
Errors: DatasetError (a DataError) naming the folder and what is missing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from harness.errors import DataError


class DatasetError(DataError):
    """A dataset folder does not have the standard layout, or a selection is empty."""


@dataclass(frozen=True)
class Clip:
    """One labelled recording: path, class index, fold number, class name."""

    path: Path
    label: int
    fold: int
    category: str


def _read_csv(path: Path, needed: set[str]) -> list[dict]:
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}; is --data the dataset's root folder?") from None
    if rows and not needed <= set(rows[0]):
        raise DatasetError(f"{path} lacks the columns {sorted(needed - set(rows[0]))}")
    return rows


def esc50(root: str | Path, folds: list[int] | None = None, esc10: bool = False) -> list[Clip]:
    """Clips of an ESC-50 folder, optionally of some folds and/or the ESC-10 subset (targets 0-9)."""
    root = Path(root)
    rows = _read_csv(root / "meta" / "esc50.csv", {"filename", "fold", "target"})
    if esc10:
        if rows and "esc10" not in rows[0]:
            raise DatasetError(f"{root}/meta/esc50.csv has no esc10 column; use the official metadata")
        rows = [r for r in rows if r["esc10"].strip().lower() == "true"]
        remap = {t: i for i, t in enumerate(sorted({int(r["target"]) for r in rows}))}
    clips = []
    for r in rows:
        if folds is not None and int(r["fold"]) not in folds:
            continue
        target = int(r["target"])
        clips.append(Clip(root / "audio" / r["filename"], remap[target] if esc10 else target, int(r["fold"]),
                          r.get("category", str(target))))
    return _checked(clips, root)


def urbansound8k(root: str | Path, folds: list[int] | None = None) -> list[Clip]:
    """Clips of an UrbanSound8K folder (``audio/fold<k>/``), optionally of some folds."""
    root = Path(root)
    rows = _read_csv(root / "metadata" / "UrbanSound8K.csv", {"slice_file_name", "fold", "classID"})
    clips = [Clip(root / "audio" / f"fold{r['fold']}" / r["slice_file_name"], int(r["classID"]), int(r["fold"]),
                  r.get("class", r["classID"]))
             for r in rows if folds is None or int(r["fold"]) in folds]
    return _checked(clips, root)


def _checked(clips: list[Clip], root: Path) -> list[Clip]:
    missing = [c.path for c in clips if not c.path.exists()]
    if missing:
        raise DatasetError(f"{len(missing)} listed clips are missing under {root} (first: {missing[0]}); "
                           "restore them or fix the metadata")
    return clips


def detect(root: str | Path) -> str:
    """"esc50" or "urbansound8k" from the folder layout; raises DatasetError otherwise."""
    root = Path(root)
    if (root / "meta" / "esc50.csv").exists():
        return "esc50"
    if (root / "metadata" / "UrbanSound8K.csv").exists():
        return "urbansound8k"
    raise DatasetError(f"{root} is neither ESC-50 (meta/esc50.csv) nor UrbanSound8K (metadata/UrbanSound8K.csv)")


def load(root: str | Path, folds: list[int] | None = None, esc10: bool = False) -> list[Clip]:
    """Clips of either dataset, by layout."""
    kind = detect(root)
    return esc50(root, folds, esc10) if kind == "esc50" else urbansound8k(root, folds)


def num_classes(clips: list[Clip]) -> int:
    """1 + the largest label (the datasets number classes from 0)."""
    if not clips:
        raise DatasetError("no clips selected; check the folds")
    return 1 + max(c.label for c in clips)


def download(name: str, home: str | Path) -> Path:
    """Download ``esc50`` or ``urbansound8k`` with soundata into ``home`` (connected machines only) and return
    the folder in the standard layout.  Raises DatasetError when soundata is missing or the download fails."""
    try:
        import soundata
    except ImportError:
        raise DatasetError("soundata is not installed; pip install soundata (needs network access)") from None
    ids = {"esc50": "esc50", "urbansound8k": "urbansound8k"}
    if name not in ids:
        raise DatasetError(f"unknown dataset {name!r}; use esc50 or urbansound8k")
    ds = soundata.initialize(ids[name], data_home=str(home))
    try:
        ds.download()
    except Exception as exc:  # network errors of several kinds
        raise DatasetError(f"soundata could not download {name}: {exc}") from None
    root = Path(home)
    nested = [p.parent.parent for p in root.rglob("esc50.csv")] + [p.parent.parent for p in root.rglob("UrbanSound8K.csv")]
    return nested[0] if nested else root
