"""Datasets and front ends of `tinyhil bench` (issue 16 item 6), on the host: folds and layouts of folders made
from the real shared clips, the one metadata reader, the front end chosen from a card or --front-end, and
`--data esc50|urbansound8k` from the local override (no network)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from datafolders import esc50_copy, urbansound8k_copy
from harness.codegen.graph import QuantParams, Tensor
from harness.data import datasets, metadata
from harness.data.fetch import FetchError, data_folder
from harness.data.frontends import LogMelFrontEnd, LogMelInputs, bench_front_end, quantize_input
from harness.data.layouts import data_kind, esc50_rows, iter_samples
from harness.data.preprocess import RawCrops
from harness.data.validate import check_data
from harness.errors import DataError
from tests.conftest import require_shared

WAVE_IN = Tensor(0, "in", (1, 1, 400, 1), "int8", QuantParams((0.01,), (0,)))
MEL_IN = Tensor(0, "in", (1, 32, 16, 1), "int8", QuantParams((0.05,), (10,)))
OUT = Tensor(9, "out", (1, 50), "int8", QuantParams((0.1,), (0,)))
SMALL_MEL = "logmel:sample_rate=8000,frames=32,bands=16,fmax=3800.0"


@pytest.fixture(scope="module")
def clips():
    return require_shared("audio/esc50-cc0")


@pytest.fixture()
def esc(clips, tmp_path):
    return esc50_copy(clips, tmp_path / "esc50", folds=[1, 2])  # 7 clips: 4 in fold 1, 3 in fold 2


@pytest.fixture()
def us8k(clips, tmp_path):
    return urbansound8k_copy(clips, tmp_path / "us8k", folds=[3, 10])


def _one_line(exc) -> str:
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_fold_selects_the_clips_of_that_fold_in_both_layouts(esc, us8k):
    assert data_kind(esc) == "esc50" and data_kind(us8k) == "urbansound8k"
    fold2 = list(iter_samples(esc, WAVE_IN, folds=[2]))
    names = [r["filename"] for r in esc50_rows(esc) if r["fold"] == "2"]
    assert [s.id for s in fold2] == names and len(names) == 3
    assert check_data(esc, WAVE_IN, OUT, folds=[2]).samples == 3
    us_rows = metadata.dataset_rows(us8k, "urbansound8k", [10])
    assert len(us_rows) == 3 and all(r.path.parent.name == "fold10" and r.path.is_file() for r in us_rows)
    samples = list(iter_samples(us8k, WAVE_IN, folds=[10]))
    assert [s.id for s in samples] == [r.name for r in us_rows]
    assert [s.label for s in samples] == [int(r.label) for r in us_rows]
    assert len(list(iter_samples(us8k, WAVE_IN))) == 7  # no --fold: every clip listed
    check = check_data(us8k, WAVE_IN, OUT, folds=[3, 10], limit=5)
    assert check.kind == "urbansound8k" and check.samples == 5 and check.record()["source_rates_hz"] == {"44100": 5}


def test_fold_and_layout_mistakes_are_one_line_errors(esc, us8k, tmp_path):
    with pytest.raises(DataError) as exc:
        check_data(esc, WAVE_IN, OUT, folds=[4])
    assert "no clips in fold 4" in _one_line(exc) and "its folds: 1, 2" in str(exc.value)
    with pytest.raises(DataError, match="has no metadata/UrbanSound8K.csv"):
        data_kind(esc, "urbansound8k")
    with pytest.raises(DataError, match="use esc50, urbansound8k, npy"):
        data_kind(esc, "wav")
    npy = tmp_path / "npy"
    npy.mkdir()
    np.save(npy / "a.npy", np.zeros(WAVE_IN.shape, np.int8))
    assert data_kind(npy) == "npy" and data_kind(npy, "npy") == "npy"
    with pytest.raises(DataError) as exc:
        check_data(npy, WAVE_IN, OUT, folds=[1])
    assert "drop --fold" in _one_line(exc)
    with pytest.raises(DataError, match="has no .npy files"):
        data_kind(esc, "npy")
    (us8k / "audio" / "fold10").rename(us8k / "audio" / "fold9")  # clips not where the CSV's fold says
    with pytest.raises(DataError) as exc:
        check_data(us8k, WAVE_IN, OUT, folds=[10])
    assert "UrbanSound8K.csv line 3" in _one_line(exc) and "missing from" in str(exc.value)


def test_bench_checks_and_recipes_read_the_csv_through_one_function(esc, monkeypatch):
    csv_path = esc / "meta" / "esc50.csv"
    lines = csv_path.read_text().splitlines()
    cells = lines[2].split(",")
    lines[2] = ",".join([cells[0], "one", *cells[2:]])  # line 3: a fold that is not a number
    csv_path.write_text("\n".join(lines) + "\n")
    errors = []
    for read in (lambda: datasets.esc50(esc, folds=[1]), lambda: check_data(esc, WAVE_IN, OUT, folds=[1]),
                 lambda: list(iter_samples(esc, WAVE_IN, folds=[1])), lambda: esc50_rows(esc, {1})):
        with pytest.raises(DataError) as exc:
            read()
        errors.append(_one_line(exc))
    assert len(set(errors)) == 1 and "esc50.csv line 3: fold 'one' is not an integer" in errors[0]
    calls = []
    real = metadata.read_csv_rows
    monkeypatch.setattr(metadata, "read_csv_rows", lambda *a: calls.append(a) or real(*a))
    csv_path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    datasets.esc50(esc)
    check_data(esc, WAVE_IN, OUT)
    list(iter_samples(esc, WAVE_IN))
    esc50_rows(esc)
    assert [kind for _, kind in calls] == ["esc50"] * 4


def test_front_end_comes_from_the_option_then_the_card_then_raw(tmp_path):
    model = tmp_path / "student-kd-int8.tflite"
    model.write_bytes(b"")
    front, source = bench_front_end(model, None)
    assert source == "default" and front == RawCrops()
    card = {"name": "student-kd-int8", "frontend": {"kind": "logmel", "sample_rate": 8000, "frames": 32,
                                                    "bands": 16, "fmax": 3800.0}}
    model.with_name("student-kd-int8.card.json").write_text(json.dumps(card))
    front, source = bench_front_end(model, None)
    assert source == "model card" and front.front == LogMelFrontEnd(sample_rate=8000, frames=32, bands=16, fmax=3800.0)
    front, source = bench_front_end(model, "raw:sample_rate=16000,crops=3", "peak")
    assert source == "--front-end" and front == RawCrops(sample_rate=16000, crops=3, quantization="peak")
    with pytest.raises(DataError) as exc:
        bench_front_end(model, None, "peak")
    assert "raw crops only" in _one_line(exc)
    with pytest.raises(DataError, match="unknown front end 'mfcc'"):
        bench_front_end(model, "mfcc")


def test_log_mel_inputs_are_the_quantized_patches_and_refuse_another_shape(esc, clips):
    front = LogMelInputs(LogMelFrontEnd(sample_rate=8000, frames=32, bands=16, fmax=3800.0))
    wav = clips / "audio" / "1-cc0dog-A-0.wav"
    x = front.inputs(wav, MEL_IN)
    patches = front.front.patches(wav)
    assert x.dtype == np.int8 and x.shape == (len(patches), 1, 32, 16, 1) and len(patches) == 15  # 5 s, 0.32 s patches
    assert np.array_equal(x.reshape(patches.shape), quantize_input(patches, 0.05, 10))
    check = check_data(esc, MEL_IN, OUT, front=front, folds=[1])
    assert check.samples == 4 and check.record()["zero_padded_clips"] == 0 and check.target_rate == 8000
    with pytest.raises(DataError) as exc:
        check_data(esc, WAVE_IN, OUT, front=front)
    assert "logmel gives [1, 32, 16, 1] patches, the model input is [1, 1, 400, 1]" in _one_line(exc)
    with pytest.raises(DataError) as exc:
        check_data(esc, MEL_IN, OUT)  # raw crops (no card, no --front-end) cannot feed a log-mel model
    assert "--front-end logmel" in _one_line(exc)


def test_named_datasets_come_from_the_local_override_without_network(clips, tmp_path, monkeypatch):
    local = tmp_path / "local"
    esc50_copy(clips, local / "audio" / "esc50")
    urbansound8k_copy(clips, local / "audio" / "urbansound8k", folds=[1, 2])
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(local))
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))  # would be the download's target
    assert data_folder("esc50") == (local / "audio" / "esc50").resolve()
    assert data_folder("urbansound8k") == (local / "audio" / "urbansound8k").resolve()
    assert len(datasets.load(data_folder("urbansound8k"), folds=[2])) == 3
    assert data_folder(tmp_path) == tmp_path  # a folder is used as given
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(FetchError) as exc:
        data_folder("urbansound8k")
    assert "unset TINYHIL_LOCAL_DIR" in _one_line(exc) and not (tmp_path / "cache" / "datasets").exists()


@pytest.mark.parametrize("args, message", [
    (["--data-layout", "wav"], "--data-layout 'wav': use esc50, urbansound8k, npy"),
    (["--front-end", "mfcc"], "unknown front end 'mfcc'; use raw or logmel"),
    (["--front-end", "logmel:frames=x"], "'frames=x' is not key=number"),
    (["--fold", "3"], "no clips in fold 3"),
    (["--data-layout", "urbansound8k"], "has no metadata/UrbanSound8K.csv"),
    (["--front-end", SMALL_MEL], "logmel gives [1, 32, 16, 1] patches, the model input is [1, 1, 30225, 1]"),
    (["--data", "urbansound8k"], "has no urbansound8k dataset"),
    (["--data", "NPY", "--fold", "1"], "drop --fold"),
    (["--jobs", "2", "--fold", "1"], "apply to runs in this process"),
])
def test_bench_refuses_bad_data_options_in_one_line_before_any_build(args, message, esc, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from harness.cli import app

    model = require_shared("models/acdnet20_esc50_fold4_int8.tflite")
    npy = tmp_path / "npy"
    npy.mkdir()
    np.save(npy / "a.npy", np.zeros((1, 1, 30225, 1), np.int8))
    args = [str(npy) if a == "NPY" else a for a in args]
    data = [] if "--data" in args else ["--data", str(esc)]
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(tmp_path))  # holds no audio/urbansound8k
    monkeypatch.setenv("COLUMNS", "200")
    res = CliRunner().invoke(app, ["bench", "--model", str(model), *data, *args, "--emulate", "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()), res.output
    if "wav" not in args and "--jobs" not in args:  # (click prints usage lines above a usage error)
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "out").exists()  # refused before any build, boot or run directory


def test_resume_keeps_the_fold_layout_and_front_end(tmp_path):
    from harness.bench import BenchConfig, config_from_resume, config_to_json
    from harness.boards import get_board
    from harness.rundir.progress import write_resume_state

    cfg = BenchConfig(model=tmp_path / "m.tflite", data=tmp_path, target=get_board("stm32f746").target(True),
                      out=tmp_path / "out", folds=(2, 3), layout="urbansound8k", front_end=SMALL_MEL)
    work = tmp_path / ".run.work"
    write_resume_state(work, "run", config_to_json(cfg))
    back = config_from_resume(work)
    assert (back.folds, back.layout, back.front_end) == ((2, 3), "urbansound8k", SMALL_MEL)
