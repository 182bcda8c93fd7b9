"""Data validation up front: every check on a ``--data`` folder that can fail, run before any build or boot.

:func:`check_data` recognizes the layout (ESC-50: ``audio/*.wav`` + ``meta/esc50.csv``; or a folder of ``.npy``
tensors with an optional ``labels.csv``), then checks every item the run will use:

* ESC-50 or UrbanSound8K (``audio/fold<k>/*.wav`` + ``metadata/UrbanSound8K.csv``), optionally only the
  clips of some official folds (``--fold``): the metadata CSV (read by :mod:`harness.data.metadata`, the one
  reader shared with the training recipes) has rows and the file name/label columns, every label is an
  integer class index within the model's classes, the front end fits the model input, every listed WAV
  exists, decodes, is not truncated (its RIFF ``data`` chunk fits the file) and has at least one sample.  A clip at another sample rate is resampled and a
  multi-channel clip mixed to mono: both are recorded (:meth:`DataCheck.record`, with the source rates) and
  warned about.  A clip shorter than one input crop is zero-padded by the ACDNet rule (``RawCrops``: half a
  crop of zeros on both sides, then to one crop) and counted in the record.
* ``.npy``: each file is a plain (not pickled) NumPy array of exactly the model's input shape, or a stack
  ``[crops, *input shape]``, in the input dtype; a transposed or flattened array is an error naming both
  shapes (nothing is guessed).  ``labels.csv`` rows are ``file,label``: integer labels within the model's
  classes, no ids without a ``.npy`` file.

``limit`` (``--limit``) must be >= 1.  Errors: :class:`harness.errors.DataError`, one line naming the file
(and line), the problem and the fix.
"""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.codegen.graph import Tensor
from harness.data.metadata import parse_label, read_esc50_csv  # noqa: F401 (re-exported: one CSV reader)
from harness.errors import DataError

NPY_MAGIC = b"\x93NUMPY"
AUDIO_KINDS = ("esc50", "urbansound8k")


@dataclass
class DataCheck:
    """What :func:`check_data` found: layout ``kind``, ``samples`` used, and for audio the source sample rates
    ({Hz: clips}), clips ``resampled`` (rate differs from ``target_rate``), ``mixed`` to mono, ``padded``
    (shorter than one crop); ``warnings`` printed to the user."""

    kind: str
    samples: int
    target_rate: int | None = None
    source_rates: dict[int, int] = field(default_factory=dict)
    resampled: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)
    padded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    folds: list[int] | None = None  #: the official folds used (None: every clip listed)

    def record(self) -> dict:
        """Fields for the run manifest's ``preprocessing`` (audio) — empty for ``.npy`` tensors."""
        if self.kind not in AUDIO_KINDS:
            return {}
        return {"source_rates_hz": {str(k): v for k, v in sorted(self.source_rates.items())},
                "resampled_clips": len(self.resampled), "resampled_from_hz": sorted(
                    r for r in self.source_rates if r != self.target_rate),
                "mixed_to_mono_clips": len(self.mixed), "zero_padded_clips": len(self.padded)}


def check_limit(limit: int | None) -> None:
    """``--limit``: None (all samples) or an int >= 1. Raises DataError."""
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise DataError(f"--limit {limit!r}: the number of samples must be >= 1; omit --limit to use them all")


def check_data(folder: str | Path, input_tensor: Tensor, output_tensor: Tensor, limit: int | None = None,
               sample_rate: int = 20000, *, layout: str | None = None, folds=None, front=None) -> DataCheck:
    """Validate the data folder for a model with ``input_tensor``/``output_tensor`` (classes: the output's last
    dimension).  ``layout``: "esc50", "urbansound8k", "npy" or None (detected); ``folds``: official folds to
    use (audio layouts only); ``front``: the bench front end (``RawCrops`` or
    :class:`harness.data.frontends.LogMelInputs`; None: raw crops at ``sample_rate`` Hz).  Returns the
    :class:`DataCheck`.

    Raises DataError (one line: file, line where known, problem, fix) for anything the run would trip on.
    """
    from harness.data.layouts import data_kind
    from harness.data.preprocess import RawCrops

    check_limit(limit)
    folder = Path(folder)
    classes = output_tensor.shape[-1] if output_tensor.shape else 1
    kind = data_kind(folder, layout, folds)
    if kind in AUDIO_KINDS:
        return _check_audio(folder, kind, input_tensor, classes, limit, front or RawCrops(sample_rate=sample_rate),
                            folds)
    return _check_npy(folder, input_tensor, classes, limit)


# ---- audio datasets (ESC-50, UrbanSound8K) ---------------------------------------------------------------------
# The metadata CSVs are read by harness.data.metadata (parse_label, read_esc50_csv: imported above), the one
# reader shared with the training recipes' loaders (harness.data.datasets).


def _check_audio(folder: Path, kind: str, tensor: Tensor, classes: int, limit: int | None, front,
                 folds) -> DataCheck:
    import soundfile as sf

    from harness.data.metadata import dataset_rows

    front.check(tensor)
    rate = front.sample_rate
    raw = not hasattr(front, "front")  # RawCrops: count the clips shorter than one crop
    length = tensor.size
    rows = dataset_rows(folder, kind, folds)[:limit]
    check = DataCheck(kind, len(rows), target_rate=rate, folds=sorted(folds) if folds else None)
    for row in rows:
        parse_label(row.label, row.where, classes)
        wav = row.path
        if not row.name or not wav.is_file():
            raise DataError(f"{row.where}: clip {row.name!r} is missing from {wav.parent}; restore it or fix the csv")
        _check_riff(wav)
        try:
            info = sf.info(str(wav))
        except Exception as exc:  # noqa: BLE001 - soundfile raises LibsndfileError/RuntimeError/TypeError
            raise DataError(f"{wav}: cannot decode ({' '.join(str(exc).split())[:120]}); re-encode it as WAV") from None
        if info.frames < 1 or info.samplerate < 1 or info.channels < 1:
            raise DataError(f"{wav}: has no audio samples; replace the clip or drop its row from {row.csv.name}")
        check.source_rates[info.samplerate] = check.source_rates.get(info.samplerate, 0) + 1
        if info.samplerate != rate:
            check.resampled.append(row.name)
        if info.channels > 1:
            check.mixed.append(row.name)
        if raw and info.frames * rate / info.samplerate < length:
            check.padded.append(row.name)
    if check.resampled:
        rates = ", ".join(f"{r} Hz" for r in sorted(check.source_rates) if r != rate)
        check.warnings.append(f"{len(check.resampled)} clip(s) resampled from {rates} to {rate} Hz (recorded "
                              "in the manifest)")
    if check.mixed:
        check.warnings.append(f"{len(check.mixed)} multi-channel clip(s) mixed to mono (recorded in the manifest)")
    if check.padded:
        check.warnings.append(f"{len(check.padded)} clip(s) shorter than one {length}-sample input crop, "
                              "zero-padded (recorded in the manifest)")
    return check


def _check_riff(path: Path) -> None:
    """A RIFF/WAVE file's ``data`` chunk must fit the file (a truncated copy reads as a shorter clip)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return  # not WAV (FLAC, OGG ...): libsndfile checks it
            size = path.stat().st_size
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk, n = struct.unpack("<4sI", f.read(8))
                if chunk == b"data":
                    if n != 0xFFFFFFFF and pos + 8 + n > size:
                        raise DataError(f"{path}: truncated WAV ({size - pos - 8} of {n} data bytes present); "
                                        "copy the clip again")
                    return
                pos += 8 + n + (n & 1)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    raise DataError(f"{path}: WAV file without a data chunk (truncated or empty); copy the clip again")


# ---- .npy tensors ------------------------------------------------------------------------------------------
def load_npy(path: Path, tensor: Tensor) -> np.ndarray:
    """One ``.npy`` input file as [crops, *tensor.shape]. Raises DataError for a non-.npy, pickled, empty or
    misshapen file, or a wrong dtype, naming the file and both shapes."""
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic != NPY_MAGIC:
            raise ValueError("no .npy header" if magic else "empty file")
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy's header parser raises ValueError, EOFError, TokenError,
        # SyntaxError, MemoryError ... on a damaged file: each means "not a plain .npy"
        reason = " ".join(str(exc).split())[:100] or type(exc).__name__
        raise DataError(f"{path.name} is not a plain NumPy .npy array ({reason}); save it with "
                        "numpy.save(path, array) of a numeric array, or remove it from the folder") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path.name} holds several arrays (.npz); save one array per .npy file")
    shape = tuple(tensor.shape)
    if arr.shape == shape:
        arr = arr.reshape((1, *shape))
    elif not (arr.ndim == len(shape) + 1 and arr.shape[1:] == shape and arr.shape[0] >= 1):
        raise DataError(f"{path.name} has shape {list(arr.shape)}; the model input is {list(shape)} (or "
                        f"[crops, {', '.join(map(str, shape))}]): save arrays of exactly that shape (transposed "
                        "or flattened arrays are not reshaped)")
    if arr.dtype != np.dtype(tensor.dtype):
        raise DataError(f"{path.name} is {arr.dtype}, the model input is {tensor.dtype}; save tensors in that dtype")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise DataError(f"{path.name} contains NaN or infinite values; fix the tensor")
    return arr


def read_labels_csv(folder: Path, classes: int | None = None, ids: set[str] | None = None) -> dict[str, int]:
    """``labels.csv`` of a .npy folder ({file name: label}); {} without one.  Rows are ``file,label``; a first
    row whose label is not an integer is a header.  Raises DataError for an empty or undecodable file, a
    malformed row, a label outside ``classes``, or ids not in ``ids`` (listed)."""
    path = folder / "labels.csv"
    if not path.exists():
        return {}
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text; write it as lines of file,label") from None
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path} is empty; write one line file,label per .npy file or delete it")
    out: dict[str, int] = {}
    for k, (line, row) in enumerate(rows):
        where = f"{path} line {line}"
        if len(row) < 2:
            raise DataError(f"{where}: {','.join(row)[:60]!r} is not 'file,label'; fix the line")
        if k == 0 and not row[1].strip().lstrip("-").isdigit():
            continue  # header
        name = row[0].strip()
        if name in out:
            raise DataError(f"{where}: {name} is labelled twice; keep one line per file")
        out[name] = parse_label(row[1], where, classes)
    if ids is not None:
        unknown = sorted(set(out) - ids)
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise DataError(f"{path} labels files that are not in the folder: {', '.join(unknown[:5])}{more}; "
                            "fix the names or remove those lines")
    return out


def _check_npy(folder: Path, tensor: Tensor, classes: int, limit: int | None) -> DataCheck:
    files = sorted(folder.glob("*.npy"))
    read_labels_csv(folder, classes, {p.name for p in files})
    used = files[:limit]
    for path in used:
        load_npy(path, tensor)
    return DataCheck("npy", len(used))


def check_run_inputs(model_path: Path, data_dir: Path, limit: int | None, console=None,
                     sample_rate: int = 20000, *, layout: str | None = None, folds=None, front=None) -> DataCheck:
    """The data checks of a bench run, before any build or boot: ``limit``, the model file (read and verified,
    :func:`harness.codegen.reader.read_tflite`, for its input and output tensors), then :func:`check_data`
    (``layout``, ``folds``, ``front`` as there).  Warnings (resampling, channel mixing, padding) are printed on
    ``console`` (a rich Console) when given.  Raises DataError or ModelError."""
    from harness.codegen.reader import read_tflite

    check_limit(limit)
    graph = read_tflite(model_path)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return DataCheck("unchecked", 0)  # the compiler refuses such a model with its own message
    check = check_data(data_dir, graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]], limit,
                       sample_rate, layout=layout, folds=folds, front=front)
    for line in check.warnings if console is not None else ():
        console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    return check
