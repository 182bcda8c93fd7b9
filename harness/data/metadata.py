"""The one reader of the datasets' metadata CSVs, shared by `tinyhil bench` (``harness.data.validate`` and
``harness.data.layouts``) and the training recipes (``harness.data.datasets``).

- ESC-50 (Piczak 2015, github.com/karolpiczak/ESC-50): ``meta/esc50.csv`` with the columns filename, fold (1-5),
  target (0-49), category, esc10, src_file, take; clips in ``audio/<filename>``.
- UrbanSound8K (Salamon, Jacoby & Bello 2014, urbansounddataset.weebly.com): ``metadata/UrbanSound8K.csv`` with
  slice_file_name, fsID, start, end, salience, fold (1-10), classID (0-9), class; clips in
  ``audio/fold<fold>/<slice_file_name>``.

Official folds are used as given (the datasets' own rule: never mix one fold's clips into another).  Errors are
:class:`DatasetError` (a DataError): one line naming the file, the 1-based line where known, and the fix.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DataError


class DatasetError(DataError):
    """A dataset folder does not have the standard layout, or a selection is empty."""


@dataclass(frozen=True)
class Layout:
    """Where a dataset keeps its metadata and which columns hold the file name, label, fold and class name."""

    name: str
    csv: str  # relative to the dataset root
    filename: str
    label: str
    fold: str
    category: str

    def clip_path(self, root: Path, filename: str, fold: int | None) -> Path:
        """The audio file of a row (UrbanSound8K keeps each fold in its own folder)."""
        if self.name == "urbansound8k":
            return root / "audio" / f"fold{fold}" / filename
        return root / "audio" / filename


LAYOUTS = {
    "esc50": Layout("esc50", "meta/esc50.csv", "filename", "target", "fold", "category"),
    "urbansound8k": Layout("urbansound8k", "metadata/UrbanSound8K.csv", "slice_file_name", "classID", "fold",
                           "class"),
}


@dataclass(frozen=True)
class Clip:
    """One labelled recording: path, class index, fold number, class name."""

    path: Path
    label: int
    fold: int
    category: str


def parse_label(text: str, where: str, classes: int | None = None) -> int:
    """An integer class label from ``text`` (``where`` names file and line); within 0..classes-1 when
    ``classes`` is given.  Raises DataError."""
    t = text.strip()
    try:
        value = int(t)
    except ValueError:
        raise DatasetError(f"{where}: label {t!r} is not an integer class index; fix the file") from None
    if value < 0 or (classes is not None and value >= classes):
        rng = f"0..{classes - 1}" if classes is not None else ">= 0"
        raise DatasetError(f"{where}: label {value} is outside the model's classes {rng}; fix the label "
                           "or use the model trained for these classes")
    return value


@dataclass(frozen=True)
class Row:
    """One clip listed in a metadata CSV: its audio ``path``, file ``name``, raw ``label`` text, ``fold`` (None
    when the CSV has no fold column), class name ``category``, and where it is listed (``csv`` path, 1-based
    ``line``) for error messages."""

    path: Path
    name: str
    label: str
    fold: int | None
    category: str
    csv: Path
    line: int
    columns: dict = field(default_factory=dict, compare=False, repr=False)  # every column of the row

    @property
    def where(self) -> str:
        return f"{self.csv} line {self.line}"


def read_csv_rows(root: str | Path, kind: str) -> list[dict]:
    """Rows of the ``kind`` ("esc50" or "urbansound8k") metadata CSV of ``root`` as dicts, each with its 1-based
    ``line``.  Raises DatasetError for an unreadable, non-UTF-8 or empty file, or one without the file name and
    label columns."""
    lay = LAYOUTS[kind]
    path = Path(root) / lay.csv
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}; restore {lay.csv} (is --data the dataset's "
                           "root folder?)") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text; restore {lay.csv} from the official dataset") from None
    reader = csv.DictReader(io.StringIO(text))
    needed = {lay.filename, lay.label}
    if not reader.fieldnames or not needed <= set(reader.fieldnames):
        raise DatasetError(f"{path} lacks the {' and '.join(sorted(needed))} columns of {kind} (header "
                           f"{','.join(reader.fieldnames or [])!r}); restore the header line")
    rows = [dict(r, line=reader.line_num) for r in reader]
    if not rows:
        raise DatasetError(f"{path} lists no clips; add rows or pick another --data")
    return rows


def read_esc50_csv(folder: str | Path) -> list[dict]:
    """Rows of ``meta/esc50.csv`` as dicts with their 1-based ``line`` (see :func:`read_csv_rows`)."""
    return read_csv_rows(folder, "esc50")


def _fold(row: dict, lay: Layout, path: Path, required: bool) -> int | None:
    text = (row.get(lay.fold) or "").strip()
    if not text and not required:
        return None
    try:
        return int(text)
    except ValueError:
        raise DatasetError(f"{path} line {row['line']}: fold {text!r} is not an integer; fix the line") from None


def dataset_rows(root: str | Path, kind: str, folds: list[int] | set[int] | tuple[int, ...] | None = None,
                 need_fold: bool = False) -> list[Row]:
    """The clips ``kind`` lists under ``root``, in CSV order, optionally only those of ``folds`` (the official
    fold numbers).  ``need_fold``: every row must have an integer fold even without a selection (UrbanSound8K
    always needs it: it names the clip's folder).

    Raises DatasetError (one line) for a bad CSV (see :func:`read_csv_rows`), a non-integer fold, or a fold
    selection that matches no row (the folds present are named)."""
    root = Path(root)
    lay = LAYOUTS[kind]
    path = root / lay.csv
    rows = read_csv_rows(root, kind)
    required = need_fold or folds is not None or kind == "urbansound8k"
    if required and lay.fold not in rows[0]:
        raise DatasetError(f"{path} has no {lay.fold} column, so folds cannot be chosen; restore the official "
                           "metadata or omit --fold")
    out = []
    for r in rows:
        fold = _fold(r, lay, path, required)
        if folds is not None and fold not in folds:
            continue
        name = (r.get(lay.filename) or "").strip()
        label = (r.get(lay.label) or "").strip()
        out.append(Row(lay.clip_path(root, name, fold), name, label, fold, (r.get(lay.category) or label).strip(),
                       path, r["line"], r))
    if folds is not None and not out:
        present = sorted({_fold(r, lay, path, True) for r in rows})
        raise DatasetError(f"{path} lists no clips in fold {','.join(map(str, sorted(folds)))} (its folds: "
                           f"{', '.join(map(str, present))}); pick one of those")
    return out


def detect_dataset(root: str | Path) -> str | None:
    """"esc50" or "urbansound8k" when ``root`` has that dataset's metadata CSV and ``audio/`` folder, else None."""
    root = Path(root)
    for kind, lay in LAYOUTS.items():
        if (root / lay.csv).is_file() and (root / "audio").is_dir():
            return kind
    return None
