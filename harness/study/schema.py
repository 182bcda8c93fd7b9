"""The study file: what a study runs, as one YAML document validated with pydantic.

Example (``examples/studies/acdnet20-twins.yaml``)::

    name: acdnet20-twins
    models:
      - zoo: acdnet20-int8                    # a zoo model (harness/data/fetch.py)
      - path: ../../variants/*/*_int8.tflite  # files or globs, relative to this file
      - recipe: acdnet20-no-retraining        # `tinyhil variants` recipe, run first when its folder is empty
        data: ../../../shared/audio/esc50-cc0
    boards: [stm32f746, nrf52840, rp2040]
    emulate: true                             # the boards' twins; false: places or attached boards
    places: []                                # labgrid places (names or board=NAME selections)
    backends: [tinyhil, tflm-cmsis-nn]
    data: ../../../shared/audio/esc50-cc0     # ESC-50 folder or .npy folder; fold: only that ESC-50 fold
    fold: null
    limit: 2                                  # first N clips
    repeats: 1
    tags: [nightly]
    out: ../../results/acdnet20-twins         # run directories, history.sqlite and the cell states
    report: report                            # the trade-off report, relative to out

Errors: :class:`StudyError` (a one-line message naming the field and the fix).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import StudyError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSource(_Strict):
    """One entry of ``models``: exactly one of ``path`` (file or glob), ``zoo`` (zoo model name) or ``recipe``
    (a `tinyhil variants` recipe name or YAML; its ``.tflite`` int8 variants; ``data`` is the recipe's data,
    ``preset`` its preset; ``out`` its folder, default ``variants/<recipe>`` beside the study file)."""

    path: str | None = None
    zoo: str | None = None
    recipe: str | None = None
    data: str | None = None
    preset: str | None = None
    out: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "ModelSource":
        if sum(x is not None for x in (self.path, self.zoo, self.recipe)) != 1:
            raise ValueError("give exactly one of path, zoo or recipe")
        return self


class Study(_Strict):
    """A study file.  ``root`` is the folder relative paths are resolved against (the file's folder)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    models: list[ModelSource] = Field(min_length=1)
    boards: list[str] = Field(default_factory=list)
    emulate: bool = True
    places: list[str] = Field(default_factory=list)
    coordinator: str | None = None
    backends: list[str] = Field(default_factory=lambda: ["tinyhil"])
    data: str | None = None
    fold: int | None = None
    limit: int | None = Field(default=None, ge=1)
    repeats: int = Field(default=1, ge=1)
    quantization: Literal["model", "peak"] = "model"
    tags: list[str] = Field(default_factory=list)
    out: str = "results"
    report: str | None = "report"
    root: Path = Path(".")

    @model_validator(mode="after")
    def _where(self) -> "Study":
        if not self.boards and not self.places:
            raise ValueError("name the boards (twins or attached) or the labgrid places to run on")
        return self

    def resolve(self, path: str | Path) -> Path:
        """``path`` relative to the study file's folder (absolute paths and ``~`` kept; ``$VAR`` expanded)."""
        p = Path(os.path.expandvars(str(path))).expanduser()
        return p if p.is_absolute() else (self.root / p).resolve()

    @property
    def out_dir(self) -> Path:
        """The results folder: run directories, ``history.sqlite``, ``.study/<name>/`` cell states."""
        return self.resolve(self.out)

    @property
    def state_dir(self) -> Path:
        """Where the cell state files live."""
        return self.out_dir / ".study" / self.name


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.  Raises StudyError (missing file, bad YAML, a field that fails)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise StudyError(f"cannot read study file {path}: {exc.strerror}; check the path") from None
    except yaml.YAMLError as exc:
        raise StudyError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}); fix the file") from None
    if not isinstance(raw, dict):
        raise StudyError(f"{path} must be a mapping with name, models, boards/places, ...; see docs/farm.md")
    try:
        return Study(**raw, root=path.resolve().parent)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "file"
        raise StudyError(f"{path}: {where}: {err['msg']}; see docs/farm.md for the study file fields") from None


def model_files(study: Study, produce: bool = True, log=print) -> list[Path]:
    """The study's .tflite files in file order (duplicates dropped).  ``recipe`` entries whose folder holds no
    int8 variant are produced first with `tinyhil variants` when ``produce``.  Raises StudyError for a path or
    glob that matches nothing, FetchError for an unknown zoo model."""
    from harness.data.fetch import fetch_model  # noqa: PLC0415

    files: list[Path] = []
    for src in study.models:
        if src.zoo:
            files.append(fetch_model(src.zoo))
        elif src.path:
            pattern = str(study.resolve(src.path))
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
            if not found:
                raise StudyError(f"models: {src.path} matches no file (looked for {pattern}); fix the path or glob")
            files += found
        else:
            files += _recipe_variants(study, src, produce, log)
    return list(dict.fromkeys(p.resolve() for p in files))


def _recipe_variants(study: Study, src: ModelSource, produce: bool, log) -> list[Path]:
    name = Path(src.recipe).stem
    out = study.resolve(src.out or f"variants/{name}")
    found = sorted(out.glob("*int8*.tflite"))
    if found or not produce:
        return found
    if src.data is None:
        raise StudyError(f"models: recipe {src.recipe} has no variants in {out} yet and no data to produce them; "
                         "add data: <ESC-50 folder> to the entry")
    from tinyhil_models.recipes import run_recipe  # noqa: PLC0415

    log(f"study {study.name}: producing the variants of {src.recipe} in {out}")
    run_recipe(src.recipe, study.resolve(src.data), out, preset=src.preset, log=log)
    found = sorted(out.glob("*int8*.tflite"))
    if not found:
        raise StudyError(f"models: recipe {src.recipe} wrote no int8 .tflite into {out}; check the recipe")
    return found
