"""The derived ESC-50 fold of benchmarks/fold.py (issue 12, item 8; no twin): 400 clips from the seven CC0 clips
that tinyhil's data loaders read as a valid fold 1 of 50 classes x 8 clips, each clip a circular shift of its
CC0 source (odd clips mixed with a second one), reproducible from its seed.  Short clips keep it fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.fold import CLIP_RATE, FOLD_CLIPS, derive_fold
from harness.codegen.graph import QuantParams, Tensor
from harness.data import datasets
from harness.data.layouts import data_kind, iter_samples
from harness.data.metadata import DatasetError, dataset_rows
from harness.data.validate import check_data
from tests.conftest import require_shared

SECONDS = 0.2  #: per derived clip (ESC-50's 5 s in the benchmark)


@pytest.fixture(scope="module")
def cc0() -> Path:
    return require_shared("audio/esc50-cc0/meta/esc50.csv").parents[1]


@pytest.fixture(scope="module")
def fold(cc0, tmp_path_factory) -> Path:
    return derive_fold(tmp_path_factory.mktemp("derived") / "esc50", cc0, seconds=SECONDS)


def pcm(path: Path) -> np.ndarray:
    data, rate = sf.read(str(path), dtype="int16")
    assert rate == CLIP_RATE and data.ndim == 1, f"{path.name}: {rate} Hz, shape {data.shape}"
    return data


def shift_of(clip: np.ndarray, source: np.ndarray) -> int | None:
    """k with np.roll(source, k) == clip, None when the clip is no circular shift of the source."""
    for j in np.flatnonzero(source == clip[0]):
        k = (len(source) - j) % len(source)
        if np.array_equal(np.roll(source, k), clip):
            return int(k)
    return None


def test_derived_fold_is_an_esc50_fold_1_of_400_clips_in_50_classes(fold):
    assert data_kind(fold, None, [1]) == "esc50"  # detected, as `tinyhil bench --data DIR --fold 1` does
    clips = datasets.esc50(fold, folds=[1])
    assert len(clips) == FOLD_CLIPS and {c.fold for c in clips} == {1}
    counts = np.bincount([c.label for c in clips])
    assert len(counts) == 50 and set(counts) == {8}, "each official ESC-50 fold has 8 clips of each of 50 classes"
    with pytest.raises(DatasetError, match="no clips in fold 2"):
        dataset_rows(fold, "esc50", [2])
    # the bench's own checks and loader: every clip decodes, labels fit ACDNet-20's 50 outputs, 10 crops each
    window = Tensor(0, "input", (1, 1, 1000, 1), "int8", QuantParams((0.01,), (0,)))
    check = check_data(fold, window, Tensor(1, "output", (1, 50), "int8", QuantParams((0.1,), (0,))),
                       layout="esc50", folds=[1])
    assert check.samples == FOLD_CLIPS and check.source_rates == {CLIP_RATE: FOLD_CLIPS}
    first = next(iter_samples(fold, window, layout="esc50", folds=[1]))
    assert first.id == clips[0].path.name and first.label == 0 and first.inputs.shape == (10, 1, 1, 1000, 1)


def test_derived_clips_are_shifted_cc0_clips_and_odd_ones_are_mixed(fold, cc0):
    sources = [pcm(c.path)[: round(SECONDS * CLIP_RATE)] for c in datasets.esc50(cc0)]
    clips = datasets.esc50(fold, folds=[1])
    for i in (0, 2, 10, 20):  # even i: CC0 clip i % 7, shifted (odd i are mixed)
        assert shift_of(pcm(clips[i].path), sources[i % 7]) is not None, f"clip {i} is not a shift of its source"
    for i in (1, 3, 7):  # odd i: mixed with a second clip, so no single source's shift
        assert all(shift_of(pcm(clips[i].path), s) is None for s in sources), f"clip {i} is not mixed"
    quiet = [np.mean(np.abs(pcm(c.path)) < 64) for c in clips]  # mixing fills silence: the upload's harder case
    assert np.mean(quiet[1::2]) < 0.7 * np.mean(quiet[::2]), f"quiet: mixed {np.mean(quiet[1::2]):.3f}"
    offsets = {shift_of(pcm(clips[i].path), sources[0]) for i in (0, 14, 28)}
    assert len(offsets) == 3, "the same CC0 clip is shifted by different offsets"


def test_derived_fold_is_reproducible_from_its_seed(cc0, fold, tmp_path):
    again = derive_fold(tmp_path / "a", cc0, clips=4, seconds=SECONDS)
    other = derive_fold(tmp_path / "b", cc0, clips=4, seconds=SECONDS, seed=13)
    names = sorted(p.name for p in (again / "audio").iterdir())
    assert len(names) == 4
    assert all((again / "audio" / n).read_bytes() == (fold / "audio" / n).read_bytes() for n in names)
    assert any((other / "audio" / n).read_bytes() != (fold / "audio" / n).read_bytes() for n in names)
