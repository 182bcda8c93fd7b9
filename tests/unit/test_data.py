"""Data folders, the ACDNet crop pipeline, fetching with checksums, and run directories."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.codegen.graph import QuantParams, Tensor
from harness.data.layouts import iter_samples
from harness.errors import DataError
from harness.data.fetch import FetchError, fetch_dataset, fetch_model, sha256_of
from harness.data.preprocess import RawCrops, aggregate
from harness.rundir import write_run
from harness.runner import InferenceRecord
from tests.conftest import shared_path

SHARED = shared_path()
INPUT = Tensor(0, "in", (1, 1, 30225, 1), "int8", QuantParams((0.01870509,), (1,)))


@pytest.mark.needs_shared("audio/esc50-cc0")
def test_esc50_clips_become_ten_int8_crops():
    samples = list(iter_samples(SHARED / "audio" / "esc50-cc0", INPUT, limit=2))
    assert [s.id for s in samples] == ["1-cc0cat-A-5.wav", "1-cc0cow-A-3.wav"] and samples[0].label == 5
    x = samples[0].inputs
    assert x.shape == (10, 1, 1, 30225, 1) and x.dtype == np.int8
    # the first crop starts in the 15,112-sample zero padding: quantized silence is the zero point
    assert np.all(x[0].reshape(-1)[:15000] == 1)
    assert not np.all(x[5] == 1)


@pytest.mark.needs_shared("audio/esc50-cc0")
def test_peak_quantization_uses_the_full_range():
    s = next(iter_samples(SHARED / "audio" / "esc50-cc0", INPUT, RawCrops(quantization="peak")))
    assert s.inputs[5].max() >= 126 or s.inputs[5].min() <= -127


def test_npy_folder_with_labels(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((1, 1, 30225, 1), np.int8))
    np.save(tmp_path / "b.npy", np.ones((2, 1, 1, 30225, 1), np.int8))
    (tmp_path / "labels.csv").write_text("a.npy,3\nb.npy,7\n")
    samples = list(iter_samples(tmp_path, INPUT))
    assert [(s.id, s.label, s.inputs.shape[0]) for s in samples] == [("a.npy", 3, 1), ("b.npy", 7, 2)]
    np.save(tmp_path / "c.npy", np.zeros(5, np.float32))
    with pytest.raises(DataError, match="c.npy"):
        list(iter_samples(tmp_path, INPUT))


def test_bad_data_folder(tmp_path):
    with pytest.raises(DataError, match="neither an ESC-50 folder"):
        list(iter_samples(tmp_path, INPUT))


def test_aggregate_dequantizes_and_averages():
    out = Tensor(1, "out", (1, 2), "int8", QuantParams((0.5,), (-128,)))
    mean = aggregate(np.array([[-128, 0], [-126, -128]], np.int8), out)
    assert np.allclose(mean, [0.5, 32.0])


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite", "audio/esc50-cc0")
def test_local_override_checks_sha256(tmp_path, monkeypatch):
    assert fetch_model("acdnet20-int8", local=SHARED) == SHARED / "models" / "acdnet20_esc50_fold4_int8.tflite"
    assert sha256_of(fetch_model("acdnet20-int8", local=SHARED)).startswith("72f96b34")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "acdnet20_esc50_fold4_int8.tflite").write_bytes(b"tampered")
    with pytest.raises(FetchError, match="SHA-256"):
        fetch_model("acdnet20-int8", local=tmp_path)
    with pytest.raises(FetchError, match="not found"):
        fetch_dataset("esc50-cc0", local=tmp_path)
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(SHARED))
    assert fetch_dataset("esc50-cc0") == SHARED / "audio" / "esc50-cc0"


def test_run_directory_is_complete_and_self_describing(tmp_path):
    rec = InferenceRecord("a.wav", 0, 3, 3, 3, 1234, np.array([-5, 7], np.int8), True)
    path = write_run(tmp_path, "run1", {"board": "stm32f746"}, {"accuracy": 1.0, "counts": {"unit": "instructions"}},
                     [rec])
    assert sorted(p.name for p in path.iterdir()) == ["inferences.csv", "manifest.json", "summary.json"]
    lines = (path / "inferences.csv").read_text().splitlines()
    assert lines[0].split(",")[-1] == "output" and lines[1].endswith("-5 7") and ",instructions," in lines[1]
    assert json.loads((path / "manifest.json").read_text())["board"] == "stm32f746"
    assert not list(tmp_path.glob(".*partial"))
