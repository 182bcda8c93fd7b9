"""Variants made by the recipes (ci preset, tiny data) run on the STM32F746 twin, in one process, every
output byte equal to the TFLM host interpreter's: one int8 variant per input kind (raw waveform, log-mel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

pytestmark = pytest.mark.emulator

CASES = [("acdnet-micro-esc50", "acdnet-filter80-int8"), ("hinton-kd-urbansound8k", "student-kd-int8"),
         ("sea-l3-urbansound8k", "sea-student-int8")]


def _npy_inputs(card: dict, tflite: Path, clips, out: Path) -> Path:
    """The recipe front end's evaluation crops of ``clips``, quantized with the model's input parameters."""
    from harness.codegen.compiler import compile_model
    from tinyhil_models.recipes import make_frontend

    inp = compile_model(tflite).input_tensor
    fe = make_frontend(card["frontend"])
    out.mkdir(parents=True)
    lines = []
    for clip in clips:
        x = fe.eval_crops(clip.path).reshape((-1, *inp.shape))
        q = np.clip(np.rint(x / np.float32(inp.scale)) + inp.zero_point, -128, 127).astype(np.int8)
        np.save(out / f"{clip.path.stem}.npy", q)
        lines.append(f"{clip.path.stem}.npy,{clip.label}")
    (out / "labels.csv").write_text("\n".join(lines) + "\n")
    return out


def test_recipe_variants_run_bit_exactly_on_the_m7_twin(ran, tiny, tmp_path):
    from harness.boards import get_board
    from harness.bench import BenchConfig, run_bench
    from tinyhil_models import datasets

    clips = datasets.esc50(tiny, folds=[2])[::5][:2]
    for recipe, variant in CASES:
        folder, cards = ran[recipe]
        card = next(c for c in cards if c["name"] == variant)
        tflite = folder / card["file"]
        data = _npy_inputs(card, tflite, clips, tmp_path / f"{variant}-inputs")
        result = run_bench(BenchConfig(model=tflite, data=data, target=get_board("stm32f746").target(True),
                                       out=tmp_path / "results"), Console(quiet=True))
        s = result.summary
        assert s.bit_exact is True and s.mismatches == 0, (variant, s.mismatches)
        assert s.samples == 2 and s.inferences >= 2
        assert s.variant.name == variant and s.params == card["params"]
        assert s.counts.unit == "instructions" and s.counts.median > 0
