"""Writing and reading run directories: :func:`write_run` (atomic), :func:`read_run`, :class:`Run`."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pydantic import ValidationError

from harness.errors import ResultsError

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner import InferenceRecord
from harness.rundir.records import INFERENCE_COLUMNS, RUN_FILES, READ_CONTEXT, SCHEMA_VERSION, Inference, Manifest, \
    DataRef, Firmware, Summary, Variant, _Record, as_manifest, as_summary

@dataclass(frozen=True)
class Run:
    """One run: ``run_id`` (the directory name), ``path`` (None when the directory is gone), the manifest, the
    summary, the inference rows (None when not loaded, e.g. runs listed from the history database) and ``tags``
    (the summary's, plus tags added in the history database)."""

    run_id: str
    path: Path | None
    manifest: Manifest
    summary: Summary
    inferences: tuple[Inference, ...] | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def date(self) -> datetime:
        """The manifest's UTC date (read_run refuses a run without one)."""
        return self.manifest.date or datetime.min.replace(tzinfo=timezone.utc)

    @property
    def board(self) -> str:
        return self.summary.board or self.manifest.board or "?"

    @property
    def target(self) -> str:
        return self.summary.target or self.manifest.target or "?"

    @property
    def backend(self) -> str:
        """The deployment backend (tinyhil, tflm, tflm-cmsis-nn)."""
        return self.summary.backend or self.manifest.backend

    @property
    def model(self) -> str:
        return self.summary.model or (self.manifest.model.file if self.manifest.model else None) or "?"

    @property
    def variant(self) -> Variant:
        """The summary's variant, name defaulting to the model file's stem and method to "none"."""
        v = self.summary.variant or Variant()
        return Variant(name=v.name or Path(self.model).stem, method=v.method or "none", base=v.base,
                       recipe_hash=v.recipe_hash)

    def config_fields(self) -> dict:
        """What identifies the configuration: model hash, variant, board, target, core, clock, timer source,
        compiler, flags, preprocessing, data set name/kind/size (JSON-ready values)."""
        m, s = self.manifest, self.summary
        fw, data, v = m.firmware or Firmware(), m.data or DataRef(), self.variant
        return {"model_file": (m.model.file if m.model else None) or s.model,
                "model_sha256": m.model.sha256 if m.model else None,
                "variant": v.name, "method": v.method, "base": v.base,
                "board": s.board or m.board, "target": s.target or m.target, "core": m.core, "clock_hz": m.clock_hz,
                "timer_source": m.timer_source or (s.counts.unit if s.counts else None),
                "compiler": fw.compiler, "flags": json.dumps(list(fw.flags or ())),
                "preprocessing": json.dumps(m.preprocessing or {}, sort_keys=True),
                "data": json.dumps({"name": Path(data.path or "").name, "kind": data.kind, "samples": data.samples},
                                   sort_keys=True),
                # tinyhil's own code is the default backend: left out so configurations keep their earlier ids
                **({"backend": self.backend} if self.backend != "tinyhil" else {})}

    @property
    def config_id(self) -> str:
        """SHA-256 (hex, first 16 digits) of :meth:`config_fields`: equal for runs of the same configuration."""
        return hashlib.sha256(json.dumps(self.config_fields(), sort_keys=True).encode()).hexdigest()[:16]


# --- writing and reading ----------------------------------------------------------------------------------------

def _dump(record: _Record) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def write_run(out_root: str | Path, run_id: str, manifest: Manifest | dict, summary: Summary | dict,
              records: Iterable[InferenceRecord | Inference], extra_files: Iterable[Path] = ()) -> Path:
    """Write the run directory ``<out_root>/<run_id>`` atomically and return its path. The files hold exactly
    the models, stamped with the current ``schema_version``; dicts are validated first. Runner records get
    ``summary.counts.unit`` as their count unit. ``extra_files`` that exist (serial.log, qemu.log) are copied in.
    Raises pydantic.ValidationError (a ValueError) for a dict that is not a valid record, ResultsError when the
    run directory already exists."""
    out_root = Path(out_root)
    final, tmp = out_root / run_id, out_root / f".{run_id}.partial"
    if final.exists():
        raise ResultsError(f"run directory {final} already exists; use a new run id (harness.rundir.new_run_id)")
    manifest = as_manifest(manifest).model_copy(update={"schema_version": SCHEMA_VERSION})
    summary = as_summary(summary).model_copy(update={"schema_version": SCHEMA_VERSION})
    unit = summary.counts.unit if summary.counts else None
    rows = [r if isinstance(r, Inference) else Inference.from_record(r, unit) for r in records]
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        (tmp / "manifest.json").write_text(_dump(manifest))
        (tmp / "summary.json").write_text(_dump(summary))
        with open(tmp / "inferences.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(INFERENCE_COLUMNS)
            for r in rows:
                w.writerow([r.input_id, r.crop, _cell(r.label), r.prediction, r.clip_prediction, _cell(r.count),
                            _cell(r.count_unit), _cell(r.matches_reference), " ".join(str(v) for v in r.output)])
        for extra in map(Path, extra_files):
            if extra.exists():
                shutil.copy(extra, tmp / extra.name)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _cell(value) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def is_run_dir(path: Path) -> bool:
    """A complete run directory: not a hidden partial/work directory, with manifest.json and summary.json."""
    return path.is_dir() and not path.name.startswith(".") and all((path / f).is_file() for f in RUN_FILES)


def read_run(path: str | Path) -> Run:
    """Read a run directory of any schema version (1: no ``schema_version``) into a :class:`Run` with its
    inference rows and the summary's tags. Raises ResultsError (one line naming the directory and the fix) when
    the directory is missing, unfinished or incomplete, a file is malformed, or the manifest has no date or the
    run no board."""
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"run directory {path} does not exist; pass a directory written by `tinyhil bench`")
    if path.name.startswith("."):
        raise ResultsError(f"{path} is an unfinished run (hidden partial directory); rerun the benchmark")
    manifest, summary = _load(path, "manifest.json", Manifest), _load(path, "summary.json", Summary)
    if manifest.date is None:
        raise ResultsError(f"{path}/manifest.json has no 'date': not a tinyhil run manifest; rerun the benchmark")
    if not (summary.board or manifest.board):
        raise ResultsError(f"{path}/summary.json has no 'board': not a tinyhil run summary; rerun the benchmark")
    return Run(run_id=path.name, path=path.resolve(), manifest=manifest, summary=summary,
               inferences=tuple(_read_inferences(path / "inferences.csv")), tags=tuple(sorted(set(summary.tags))))


def _load(path: Path, name: str, model: type[_Record]):
    try:
        doc = json.loads((path / name).read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path} has no {name}: not a complete run directory; rerun `tinyhil bench`") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path / name} is not valid JSON (line {exc.lineno}); the run directory is damaged, "
                           "rerun the benchmark") from None
    if not isinstance(doc, dict):
        raise ResultsError(f"{path / name} is not a JSON object: not a tinyhil run; rerun the benchmark")
    try:
        return model.model_validate(doc, context=READ_CONTEXT)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ResultsError(f"{path / name}: {where}: {err['msg']}; the run directory is damaged, "
                           "rerun the benchmark") from None


def _read_inferences(csv_path: Path) -> list[Inference]:
    if not csv_path.is_file():
        return []
    rows = []
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                rows.append(Inference.model_validate({
                    "input_id": r["input_id"], "crop": r["crop"], "label": r["label"] or None,
                    "prediction": r["prediction"], "clip_prediction": r["clip_prediction"], "count": r["count"] or None,
                    "count_unit": r.get("count_unit") or None,
                    "matches_reference": {"true": True, "false": False}.get((r.get("matches_reference") or "").lower()),
                    "output": tuple(_number(v) for v in (r.get("output") or "").split())}))
            except (KeyError, ValueError) as exc:  # ValidationError is a ValueError
                raise ResultsError(f"{csv_path} row {len(rows) + 2} is malformed ({str(exc).splitlines()[0]}); the "
                                   "run directory is damaged, rerun the benchmark") from None
    return rows


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


