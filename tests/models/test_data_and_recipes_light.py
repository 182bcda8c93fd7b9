"""Dataset loaders, front ends and recipe validation: numpy only (no torch / tensorflow needed)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from tinyhil_models import datasets
from tinyhil_models.frontend import LogMelFrontEnd, RawFrontEnd, mel_matrix
from tinyhil_models.recipes import RECIPES_DIR, RecipeError, load_recipe




def test_esc50_folds_and_esc10_subset(tiny):
    all_clips = datasets.esc50(tiny)
    assert len(all_clips) == 24 and {c.fold for c in all_clips} == {1, 2}
    fold2 = datasets.esc50(tiny, folds=[2])
    assert len(fold2) == 12 and all(c.fold == 2 for c in fold2)
    esc10 = datasets.esc50(tiny, esc10=True)
    assert {c.label for c in esc10} == {0, 1} and len(esc10) == 16
    assert datasets.detect(tiny) == "esc50" and datasets.num_classes(all_clips) == 3


def test_urbansound8k_layout(tmp_path):
    root = tmp_path / "us8k"
    rows = []
    for fold in (1, 2, 10):
        (root / "audio" / f"fold{fold}").mkdir(parents=True)
        for cid in (0, 3):
            name = f"{fold}-{cid}-0-0.wav"
            sf.write(root / "audio" / f"fold{fold}" / name, np.zeros(800, np.int16), 8000)
            rows.append({"slice_file_name": name, "fsID": 1, "start": 0, "end": 0.1, "salience": 1,
                         "fold": fold, "classID": cid, "class": f"c{cid}"})
    (root / "metadata").mkdir()
    with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    clips = datasets.load(root, folds=[10])
    assert [c.path.parent.name for c in clips] == ["fold10", "fold10"] and {c.label for c in clips} == {0, 3}
    assert len(datasets.urbansound8k(root)) == 6


def test_missing_layout_and_missing_clip_are_one_line_errors(tmp_path, tiny):
    with pytest.raises(datasets.DatasetError, match="neither ESC-50"):
        datasets.detect(tmp_path)
    broken = tmp_path / "broken"
    (broken / "meta").mkdir(parents=True)
    (broken / "meta" / "esc50.csv").write_text((tiny / "meta" / "esc50.csv").read_text())
    with pytest.raises(datasets.DatasetError, match="missing") as err:
        datasets.esc50(broken)
    assert "\n" not in str(err.value)


def test_raw_front_end_matches_the_harness_crops(tiny):
    from harness.codegen.graph import Tensor
    from harness.data.preprocess import RawCrops

    wav = next((tiny / "audio").glob("*.wav"))
    fe = RawFrontEnd(sample_rate=8000, length=4000, crops=3)
    tensor = Tensor(0, "in", (1, 1, 4000, 1), "float32")
    harness_crops = RawCrops(sample_rate=8000, crops=3).inputs(wav, tensor).reshape(3, 4000)
    np.testing.assert_array_equal(fe.eval_crops(wav), harness_crops)
    a = fe.train_crop(wav, np.random.default_rng(5))
    b = fe.train_crop(wav, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_log_mel_patches_shape_and_content(tiny):
    fe = LogMelFrontEnd(sample_rate=8000, frames=32, bands=16, fmax=3800.0)
    low = fe.patches(tiny / "audio" / "1-tone_low0-A-0.wav")
    high = fe.patches(tiny / "audio" / "1-tone_high0-A-1.wav")
    assert low.shape[1:] == (32, 16, 1) and low.dtype == np.float32 and len(low) >= 1
    # a low tone puts its energy in low mel bands, a high tone in high bands
    assert low[0, :, :4].mean() > low[0, :, -4:].mean() and high[0, :, -8:].mean() > high[0, :, :4].mean()
    np.testing.assert_array_equal(low, fe.patches(tiny / "audio" / "1-tone_low0-A-0.wav"))


def test_mel_matrix_is_a_set_of_unit_peak_triangles():
    m = mel_matrix(512, 16000, 64, 125.0, 7500.0)
    assert m.shape == (257, 64) and np.all(m >= 0) and np.all(m[0] == 0)
    assert np.all(m.max(axis=0) > 0.5) and np.all(m.max(axis=0) <= 1.0)


def test_every_recipe_file_validates_with_and_without_its_ci_profile():
    files = sorted(RECIPES_DIR.glob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        recipe, digest = load_recipe(f)
        assert recipe.variants and len(digest) == 64
        if "ci" in recipe.presets:
            ci, ci_digest = load_recipe(f, "ci")
            assert ci_digest != digest


@pytest.mark.parametrize("text, message", [
    ("name: x\nmethod: m\nmodels: {a: {arch: acdnet}}\nsteps: [{op: dance, model: a}]\nvariants: [{name: v, model: a}]",
     "steps.0.op"),
    ("name: x\nmethod: m\nmodels: {a: {arch: acdnet}}\nsteps: [{op: train, model: b}]\nvariants: [{name: v, model: a}]",
     "names model 'b'"),
    ("name: x\nmethod: m\nmodels: {a: {arch: acdnet}}\nvariants: [{name: v, model: a, export: [int4]}]",
     "variants.0.export"),
    ("- just\n- a list", "must be a mapping"),
])
def test_bad_recipes_are_refused_with_the_field(tmp_path, text, message):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError, match=message) as err:
        load_recipe(path)
    assert "\n" not in str(err.value)


def test_unknown_profile_and_unknown_recipe(tmp_path):
    with pytest.raises(RecipeError, match="no preset 'gpu'"):
        load_recipe("hinton-kd-urbansound8k", "gpu")
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_a_misspelled_recipe_gets_a_suggestion():
    from tinyhil_models.recipes import RecipeError, resolve_path

    with pytest.raises(RecipeError, match="did you mean hinton-kd-urbansound8k\\?"):
        resolve_path("hinton-kd-urbansound")
