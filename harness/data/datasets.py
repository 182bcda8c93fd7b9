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

from pathlib import Path

from harness.data.metadata import (Clip, DatasetError, dataset_rows, detect_dataset,  # noqa: F401 (re-exported)
                                   parse_label)


def _clips(root: Path, kind: str, folds: list[int] | None, esc10: bool = False) -> list[Clip]:
    rows = dataset_rows(root, kind, folds, need_fold=True)
    if esc10:
        if "esc10" not in rows[0].columns:
            raise DatasetError(f"{root}/meta/esc50.csv has no esc10 column; use the official metadata")
        rows = [r for r in rows if (r.columns.get("esc10") or "").strip().lower() == "true"]
    return [Clip(r.path, parse_label(r.label, r.where), r.fold, r.category) for r in rows]


def esc50(root: str | Path, folds: list[int] | None = None, esc10: bool = False) -> list[Clip]:
    """Clips of an ESC-50 folder, optionally of some folds and/or the ESC-10 subset (targets renumbered 0-9,
    sorted by ESC-50 target).  Raises DatasetError (one line, with the CSV line) for bad metadata, an empty
    fold or missing clips."""
    root = Path(root)
    clips = _clips(root, "esc50", folds, esc10)
    if esc10:
        remap = {t: i for i, t in enumerate(sorted({c.label for c in clips}))}
        clips = [Clip(c.path, remap[c.label], c.fold, c.category) for c in clips]
    return _checked(clips, root)


def urbansound8k(root: str | Path, folds: list[int] | None = None) -> list[Clip]:
    """Clips of an UrbanSound8K folder (``audio/fold<k>/``), optionally of some folds."""
    root = Path(root)
    return _checked(_clips(root, "urbansound8k", folds), root)


def _checked(clips: list[Clip], root: Path) -> list[Clip]:
    missing = [c.path for c in clips if not c.path.exists()]
    if missing:
        raise DatasetError(f"{len(missing)} listed clips are missing under {root} (first: {missing[0]}); "
                           "restore them or fix the metadata")
    return clips


def detect(root: str | Path) -> str:
    """"esc50" or "urbansound8k" from the folder layout; raises DatasetError otherwise."""
    kind = detect_dataset(root)
    if kind is not None:
        return kind
    raise DatasetError(f"{root} is neither ESC-50 (audio/ + meta/esc50.csv) nor UrbanSound8K (audio/ + "
                       "metadata/UrbanSound8K.csv); check the folder")


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
        raise DatasetError("soundata is not installed; pip install 'tinyhil[datasets]' (or soundata), or put a "
                           f"copy in $TINYHIL_LOCAL_DIR/audio/{name}") from None
    ids = {"esc50": "esc50", "urbansound8k": "urbansound8k"}
    if name not in ids:
        raise DatasetError(f"unknown dataset {name!r}; use esc50 or urbansound8k")
    ds = soundata.initialize(ids[name], data_home=str(home))
    try:
        ds.download()
    except Exception as exc:  # noqa: BLE001 - network, checksum and archive errors of several kinds
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DatasetError(f"soundata could not download {name} ({reason}); retry, or put a copy in "
                           f"$TINYHIL_LOCAL_DIR/audio/{name}") from None
    from harness.data.metadata import LAYOUTS  # noqa: PLC0415

    root = Path(home)
    if detect_dataset(root) == name:
        return root
    for csv_file in sorted(root.rglob(Path(LAYOUTS[name].csv).name)):  # an archive unpacked one level deeper
        if detect_dataset(csv_file.parent.parent) == name:
            return csv_file.parent.parent
    return root
