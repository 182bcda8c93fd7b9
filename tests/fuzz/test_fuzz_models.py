"""Seeded, bounded model fuzzing (~1 minute): random mutants of the fixture models (and ACDNet-20 when
../shared is present) are compiled; every one is refused with a one-line TinyhilError or accepted as valid by
an independent oracle; none raises a raw exception or hangs.  The long run: benchmarks/fuzz_models.py."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import shared_path
from harness.codegen.compiler import compile_model
from fuzzrun import fuzz_models

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
MODELS = ("kws_dscnn_int8", "conv_f32_fc_relu", "conv_fc_relu6_perchannel", "pool_avg_same_3x3_s2_int8",
          "shape_transpose_acdnet_int8", "elem_add_bcast_c_relu_s8", "elem_softmax_50_s8", "pool_mean_hw_int8",
          "shape_concat_channels_int8", "shape_pad_2d_int8", "conv_dw_dm2_s2_same_even")
SEED = 13
COUNT = 1500
BUDGET_S = 50.0  # bounds the run; outcomes are checked per mutant, never timed


def test_fuzzed_models_give_one_line_errors_and_no_accepted_invalid_model(tmp_path):
    models = {name: (FIXTURES / f"{name}.tflite").read_bytes() for name in MODELS}
    acdnet = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
    if acdnet.exists():
        models["acdnet20"] = acdnet.read_bytes()
    tally = fuzz_models(models, COUNT, SEED, tmp_path, compile_model, hang_s=20.0, deadline_s=BUDGET_S)
    examples = tally.examples or {}
    assert tally.tried >= 200, tally
    assert tally.tracebacks == 0, examples.get("traceback")
    assert tally.hangs == 0, examples.get("hang")
    assert tally.multiline == 0, examples.get("multiline")
    assert tally.accepted_invalid == 0, examples.get("accepted_invalid")
    assert tally.refused > 0 and tally.accepted > 0  # the mutations both break and spare models
