"""Recipes: YAML files naming a base model, compression steps and the variants to export.

A recipe (``models/recipes/*.yaml``)::

    name: hinton-kd-urbansound8k
    method: Hinton KD, VGGish-style teacher -> small CNN student     # one line for tables
    data: {train_folds: [1, ..., 9], val_folds: [10], esc10: false}
    frontend: {kind: logmel}                                          # or {kind: raw, sample_rate, length}
    models:                                                           # PyTorch networks (arch.build) or
      teacher: {arch: vggish, width: 0.5}                             # {keras: zoo:acdnet20-float | path}
    steps:                                                            # run in order
      - {op: train, model: teacher, epochs: 30, lr: 0.01}
      - {op: distill, model: student, teacher: teacher, temperature: 4, alpha: 0.9, epochs: 30}
    variants:                                                         # each exported float32 and/or int8
      - {name: student-kd, model: student, export: [float32, int8]}
    presets:                                                         # named overrides (deep-merged)
      ci: {frontend: {...}, models: {...}, set: {epochs: 1}}

Step ops: train, distill (Hinton KD; ``feature_pairs`` + ``beta`` add multi-layer feature distillation),
embed (SEA: regress a teacher's embedding), copy (``model`` <- ``from``), magnitude_prune, filter_prune,
qat (``teacher`` optional: quantization-aware distillation; ``activations: false`` = weights-only stage),
binarize (``model`` <- an XNOR copy of ``from``, full-precision weights reused as latent weights).
Keras base models take magnitude_prune and filter_prune (no retraining).

:func:`run_recipe` writes ``<out>/<variant>-<dtype>.tflite`` with ``.card.json`` model cards (parameters,
MACs, size, validation accuracy, recipe hash) and returns the cards.  Errors: RecipeError (a ModelsError).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tinyhil_models.errors import ModelsError

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"


class RecipeError(ModelsError):
    """A recipe file is missing, malformed, or names an unknown model, step or preset."""


class Step(BaseModel):
    model_config = ConfigDict(extra="allow")
    op: Literal["train", "distill", "embed", "copy", "magnitude_prune", "filter_prune", "qat", "binarize"]
    model: str


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    model: str
    export: list[Literal["float32", "int8", "xnor-int8"]] = ["float32", "int8"]


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    method: str
    base: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    frontend: dict[str, Any] = Field(default_factory=lambda: {"kind": "raw"})
    models: dict[str, dict[str, Any]]
    steps: list[Step] = Field(default_factory=list)
    variants: list[Variant]
    presets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    calibration_clips: int = 64
    seed: int = 0


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def resolve_path(name: str | Path) -> Path:
    """A recipe path, or a bare name under models/recipes/ (with or without .yaml)."""
    p = Path(name)
    if p.exists():
        return p
    for cand in (RECIPES_DIR / p.name, RECIPES_DIR / f"{p.name}.yaml"):
        if cand.exists():
            return cand
    import difflib

    names = sorted(x.stem for x in RECIPES_DIR.glob("*.yaml"))
    close = difflib.get_close_matches(p.stem, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise RecipeError(f"recipe {name} not found; {hint}give a path or one of: {', '.join(names)}")


def load_recipe(path: str | Path, preset: str | None = None) -> tuple[Recipe, str]:
    """Parse and validate a recipe, apply a preset; returns (recipe, recipe hash = SHA-256 of the canonical
    JSON of the effective recipe).  Raises RecipeError with the field that is wrong."""
    path = resolve_path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path} must be a mapping with name, method, models, steps, variants")
    if preset:
        prof = (raw.get("presets") or {}).get(preset)
        if prof is None:
            raise RecipeError(f"{path.name} has no preset {preset!r}; presets: {sorted(raw.get('presets') or {})}")
        prof = dict(prof)
        setters = prof.pop("set", {})
        raw = _merge(raw, prof)
        for step in raw.get("steps", []):
            for k, v in setters.items():
                if k in step:
                    step[k] = v
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise RecipeError(f"{path.name}: {where}: {err['msg']}") from None
    for step in recipe.steps:
        for key in ("model", "teacher", "from"):
            ref = getattr(step, key, None) if key != "from" else (step.model_extra or {}).get("from")
            if key == "teacher":
                ref = (step.model_extra or {}).get("teacher")
            if ref is not None and ref not in recipe.models:
                raise RecipeError(f"{path.name}: step {step.op} names model {ref!r}, not under models:")
    for v in recipe.variants:
        if v.model not in recipe.models:
            raise RecipeError(f"{path.name}: variant {v.name} names model {v.model!r}, not under models:")
    canonical = json.dumps(recipe.model_dump(exclude={"presets"}), sort_keys=True)
    return recipe, hashlib.sha256(canonical.encode()).hexdigest()


def make_frontend(spec: dict):
    from harness.data.frontends import front_end_from_spec
    from harness.errors import DataError

    try:
        return front_end_from_spec(spec)
    except DataError as exc:
        raise RecipeError(f"bad frontend: {exc}") from None


def run_recipe(path: str | Path, data_dir: str | Path, out: str | Path, preset: str | None = None,
               local: str | Path | None = None, log=print) -> list[dict]:
    """Run a recipe on a dataset folder; write variants and model cards under ``out``; return the cards."""
    from tinyhil_models import datasets

    recipe, recipe_hash = load_recipe(path, preset)
    frontend = make_frontend(recipe.frontend)
    d = recipe.data
    train_clips = datasets.load(data_dir, d.get("train_folds"), bool(d.get("esc10", False)))
    val_clips = datasets.load(data_dir, d.get("val_folds"), bool(d.get("esc10", False)))
    if not train_clips or not val_clips:
        raise RecipeError(f"no clips in the train folds {d.get('train_folds')} or val folds {d.get('val_folds')} "
                          f"of {data_dir}; check data: in the recipe")
    n_classes = int(d.get("classes") or datasets.num_classes(train_clips + val_clips))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(recipe.seed)
    calib_clips = [train_clips[i] for i in rng.permutation(len(train_clips))[: recipe.calibration_clips]]
    calibration = np.concatenate([frontend.eval_crops(c.path) for c in calib_clips]).reshape(
        (-1, *frontend.input_shape()[1:]))
    is_keras = {k: "keras" in spec for k, spec in recipe.models.items()}
    if any(is_keras.values()):
        from tinyhil_models.backend_keras import KerasRunner

        runner = KerasRunner(recipe, frontend, local, log)
    else:
        from tinyhil_models.backend_torch import TorchRunner

        runner = TorchRunner(recipe, frontend, n_classes, train_clips, val_clips, log)
    started = time.time()
    for i, step in enumerate(recipe.steps):
        log(f"step {i + 1}/{len(recipe.steps)}: {step.op} {step.model}")
        runner.step(step)
    cards = []
    for variant in recipe.variants:
        for dtype in variant.export:
            file = out / f"{variant.name}-{dtype}.tflite"
            info = runner.export(variant.model, file, dtype, calibration)
            card = _card(recipe, recipe_hash, preset, variant, dtype, file, info, frontend, val_clips,
                         data_dir, time.time() - started)
            file.with_name(file.stem + ".card.json").write_text(json.dumps(card, indent=2) + "\n")
            cards.append(card)
            log(f"wrote {file} ({card['size_bytes']:,} B, {card['macs']:,} MACs, "
                f"val top-1 {card['val_accuracy_tflite']:.3f})")
    return cards


def _card(recipe, recipe_hash, preset, variant, dtype, file: Path, info: dict, frontend, val_clips, data_dir,
          elapsed) -> dict:
    from harness.codegen.compiler import compile_model

    compiled = compile_model(file)  # proves the compiler accepts it; gives MACs and weight bytes
    acc = tflite_accuracy(file, val_clips, frontend)
    return {
        "name": f"{variant.name}-{dtype}",
        "method": recipe.method,
        "base": recipe.base or variant.model,
        "recipe": recipe.name,
        "recipe_hash": recipe_hash,
        "preset": preset,
        "dtype": dtype,
        "file": file.name,
        "sha256": compiled.sha256,
        "params": info["params"],
        "nonzero_params": info.get("nonzero_params"),
        "macs": compiled.macs,
        "size_bytes": file.stat().st_size,
        "weight_bytes": compiled.weight_bytes,
        "arena_bytes": compiled.plan.arena_bytes,
        "val_accuracy_float": info.get("val_accuracy"),
        "val_accuracy_tflite": acc,
        "val_clips": len(val_clips),
        "val_reference": "harness.codegen.host.HostModel" if dtype == "xnor-int8" else "TFLM host interpreter",
        "data": str(data_dir),
        "frontend": frontend.describe(),
        "input": {"shape": list(compiled.input_tensor.shape), "dtype": compiled.input_tensor.dtype},
        "history": info.get("history", []),
        "elapsed_s": round(elapsed, 1),
    }


def tflite_accuracy(file: Path, clips, frontend) -> float:
    """Clip-level top-1 of a .tflite on clips: every evaluation crop quantized with the input tensor's own
    scale/zero point, outputs dequantized and averaged (as `tinyhil bench`).  Standard operators run on the
    TFLM host interpreter; models with tinyhil's custom XNOR operator on the host build of the firmware C."""
    from harness.codegen.compiler import compile_model
    from harness.data.frontends import quantize_input

    compiled = compile_model(file)
    inp, outp = compiled.input_tensor, compiled.output_tensor
    if any(op.opcode.startswith("CUSTOM:") for op in compiled.graph.operators):
        from harness.codegen.host import HostModel

        runner = HostModel(compiled).run
    else:
        from harness.reference.tflm import ReferenceInterpreter

        runner = ReferenceInterpreter(file).run
    correct = 0
    for clip in clips:
        crops = frontend.eval_crops(clip.path).reshape((-1, *inp.shape))
        outs = []
        for x in crops:
            if inp.dtype == "int8":
                x = quantize_input(x, inp.scale, inp.zero_point)
            y = runner(x).astype(np.float64).reshape(-1)
            if outp.quant is not None:
                y = (y - outp.zero_point) * outp.scale
            outs.append(y)
        correct += int(np.mean(outs, axis=0).argmax() == clip.label)
    return correct / max(1, len(clips))


def environment_threads() -> None:
    """Keep torch/TF to the machine's cores (CI machines have 2)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
