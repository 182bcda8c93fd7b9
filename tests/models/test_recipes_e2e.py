"""Every recipe end to end on a tiny generated dataset (its `ci` preset: seconds of training), then every
exported .tflite compiled by tinyhil and run on the host build of the firmware C, byte for byte against the
TFLM host interpreter.  Needs the `models` extra (torch, torch-pruning, tensorflow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the models extra (pip install -e '.[models]') is not installed")
pytest.importorskip("tensorflow", reason="the models extra (pip install -e '.[models]') is not installed")
pytest.importorskip("torch_pruning", reason="the models extra (pip install -e '.[models]') is not installed")

from harness.codegen.compiler import compile_model  # noqa: E402
from harness.codegen.host import HostModel  # noqa: E402
from harness.reference.tflm import ReferenceInterpreter  # noqa: E402
from tinyhil_models.recipes import RECIPES_DIR, load_recipe, make_frontend  # noqa: E402

from conftest import TRAINED  # noqa: E402
from tests.conftest import shared_path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_path()


def test_every_recipe_in_the_folder_is_exercised():
    on_disk = {p.stem for p in RECIPES_DIR.glob("*.yaml")}
    assert on_disk == set(TRAINED) | {"acdnet20-no-retraining", "xnor-acdnet-esc50"}  # xnor: test_xnor_recipe.py


@pytest.mark.parametrize("name", TRAINED)
def test_recipe_writes_every_variant_with_a_complete_card(ran, name):
    folder, cards = ran[name]
    recipe, digest = load_recipe(name, "ci")
    expected = {f"{v.name}-{d}" for v in recipe.variants for d in v.export}
    assert {c["name"] for c in cards} == expected
    for card in cards:
        tfl = folder / card["file"]
        on_disk = json.loads(tfl.with_name(tfl.stem + ".card.json").read_text())
        assert on_disk == card
        assert card["recipe_hash"] == digest and card["size_bytes"] == tfl.stat().st_size
        assert card["params"] > 0 and card["macs"] > 0 and 0.0 <= card["val_accuracy_tflite"] <= 1.0
        assert card["input"]["dtype"] == ("float32" if card["dtype"] == "float32" else "int8")


@pytest.mark.parametrize("name", TRAINED)
def test_int8_variants_run_bit_exactly_on_the_host_build(ran, name):
    folder, cards = ran[name]
    frontend = make_frontend(load_recipe(name, "ci")[0].frontend)
    rng = np.random.default_rng(0)
    for card in cards:
        compiled = compile_model(folder / card["file"])
        host, ref = HostModel(compiled), ReferenceInterpreter(folder / card["file"])
        inp = compiled.input_tensor
        for _ in range(3):
            x = rng.standard_normal(inp.shape).astype(np.float32)
            if inp.dtype == "int8":
                x = rng.integers(-128, 128, inp.shape).astype(np.int8)
            got, want = host.run(x), ref.run(x)
            if inp.dtype == "int8":
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        assert tuple(inp.shape) == frontend.input_shape()


def test_pruning_steps_shrink_what_they_should(ran):
    _, cards = ran["acdnet-micro-esc50"]
    by = {c["name"]: c for c in cards}
    base, mag, filt = by["acdnet-int8"], by["acdnet-magnitude80-int8"], by["acdnet-filter80-int8"]
    assert mag["params"] == base["params"] and mag["nonzero_params"] < 0.35 * base["nonzero_params"]
    assert filt["params"] < 0.5 * base["params"] and filt["macs"] < base["macs"]
    _, cards = ran["prune-kd-qad-stm32"]
    by = {c["name"]: c for c in cards}
    assert by["student-qad-int8"]["macs"] < by["teacher-int8"]["macs"]
    ops = [h["op"] for h in by["student-qad-int8"]["history"]]
    assert ops[-4:] == ["filter_prune", "distill", "qat", "qat"]


def test_distilled_student_is_smaller_than_its_teacher(ran):
    for name, student in (("hinton-kd-urbansound8k", "student-kd-int8"), ("sea-l3-urbansound8k", "sea-student-int8")):
        by = {c["name"]: c for c in ran[name][1]}
        assert by[student]["params"] < by["teacher-int8"]["params"]


def test_torch_networks_and_their_keras_mirrors_agree():
    from tinyhil_models import arch
    from tinyhil_models.mirror import max_abs_difference, to_keras

    rng = np.random.default_rng(0)
    cases = [(arch.acdnet(5, arch.MICRO_ACDNET_WIDTHS, input_length=4000, sample_rate=8000), (1, 1, 4000, 1)),
             (arch.vggish_teacher(5, width=0.125, frames=32, bands=16), (1, 32, 16, 1)),
             (arch.cnn_student(5, [4, 8], frames=32, bands=16), (1, 32, 16, 1)),
             (arch.with_classifier(arch.l3_embedding(16, width=0.05, frames=32, bands=16), 16, 5), (1, 32, 16, 1))]
    import torch

    for net, shape in cases:
        for m in net.modules():  # non-trivial BatchNorm statistics
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        diff = max_abs_difference(net, to_keras(net, shape), rng.standard_normal((2, *shape[1:])).astype(np.float32))
        assert diff < 1e-4


def test_xnor_acdnet_binarizes_weights_and_activations():
    import torch

    from tinyhil_models import arch

    net = arch.xnor_acdnet(3, arch.MICRO_ACDNET_WIDTHS, input_length=4000, sample_rate=8000).eval()
    binary = [m for m in net if isinstance(m, arch.BinaryConv2d)]
    assert len(binary) == 8  # TFEB 3x3 convs but the first (1 input channel): full precision, as the 1x1
    assert isinstance(net[0], torch.nn.Conv2d) and not isinstance(net[0], arch.BinaryConv2d)
    assert isinstance(net[-1], torch.nn.Linear)
    w = binary[0].binary_weight().detach()
    alpha = binary[0].weight.detach().abs().mean(dim=(1, 2, 3))
    assert torch.allclose(w.abs().amax(dim=(1, 2, 3)), alpha) and torch.allclose(w.abs().amin(dim=(1, 2, 3)), alpha)
    x = torch.tensor([-0.5, 0.0, 0.3], requires_grad=True)
    y = arch.sign(x)
    assert y.tolist() == [-1.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    assert net(torch.randn(2, 1, 1, 4000)).shape == (2, 3)


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_float.h5", "audio/esc50-cc0")
def test_real_acdnet20_post_training_variants_through_the_cli(tmp_path):
    env = {**os.environ, "TINYHIL_LOCAL_DIR": str(SHARED), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "variants", "--recipe", "acdnet20-no-retraining",
                           "--data", str(SHARED / "audio" / "esc50-cc0"), "--out", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cards = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.card.json")}
    assert set(cards) == {f"acdnet20-{n}.card.json" for n in ("float32", "int8", "magnitude50-int8", "filter50-int8")}
    base, mag, filt = (cards[f"acdnet20-{n}.card.json"] for n in ("int8", "magnitude50-int8", "filter50-int8"))
    assert base["params"] == 132117 and base["macs"] == 17466660
    assert abs(mag["nonzero_params"] / mag["params"] - 0.5) < 0.02
    assert filt["macs"] < 0.6 * base["macs"] and filt["params"] < 0.3 * base["params"]
    assert "acdnet20-filter50-int8" in proc.stdout
