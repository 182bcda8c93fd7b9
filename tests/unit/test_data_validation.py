"""Data validation up front (harness/data/validate.py): each bad-data case of issue 13 is a one-line DataError
naming the file and the fix, or a recorded behaviour (resampling, channel mixing, padding)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import shared_path
from harness.codegen.graph import QuantParams, Tensor
from harness.data.layouts import iter_samples
from harness.data.validate import check_data, check_limit
from harness.errors import DataError

WAVE_IN = Tensor(0, "in", (1, 1, 400, 1), "int8", QuantParams((0.01,), (0,)))
OUT = Tensor(9, "out", (1, 50), "int8", QuantParams((0.1,), (0,)))
KWS_IN = Tensor(0, "in", (49, 10), "int8", QuantParams((0.5,), (0,)))
KWS_OUT = Tensor(9, "out", (1, 12), "int8", QuantParams((0.1,), (0,)))
HEADER = "filename,fold,target,category\n"


def _esc50(tmp_path, rows: str, clips: dict[str, tuple[int, np.ndarray]]):
    (tmp_path / "meta").mkdir()
    (tmp_path / "audio").mkdir()
    (tmp_path / "meta" / "esc50.csv").write_text(rows)
    for name, (rate, x) in clips.items():
        sf.write(tmp_path / "audio" / name, x, rate, subtype="PCM_16")
    return tmp_path


def _tone(n: int, channels: int = 1) -> np.ndarray:
    x = (0.3 * np.sin(np.arange(n) / 7.0)).astype(np.float32)
    return x if channels == 1 else np.stack([x] * channels, axis=1)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "; " in msg, msg
    return msg


def test_a_valid_esc50_folder_passes_and_records_nothing_unusual(tmp_path):
    d = _esc50(tmp_path, HEADER + "a.wav,1,3,x\nb.wav,1,7,y\n", {"a.wav": (20000, _tone(2000)),
                                                                  "b.wav": (20000, _tone(2000))})
    check = check_data(d, WAVE_IN, OUT)
    assert check.samples == 2 and not check.warnings
    assert check.record() == {"source_rates_hz": {"20000": 2}, "resampled_clips": 0, "resampled_from_hz": [],
                              "mixed_to_mono_clips": 0, "zero_padded_clips": 0}


@pytest.mark.parametrize("target, match", [("cat", "line 3: label 'cat' is not an integer"),
                                           ("2.5", "not an integer"), ("", "not an integer"),
                                           ("99", "label 99 is outside the model's classes 0..49"),
                                           ("-4", "label -4 is outside")])
def test_esc50_targets_must_be_class_indices(tmp_path, target, match):
    d = _esc50(tmp_path, HEADER + f"a.wav,1,3,x\nb.wav,1,{target},y\n",
               {"a.wav": (20000, _tone(2000)), "b.wav": (20000, _tone(2000))})
    with pytest.raises(DataError, match=match) as info:
        check_data(d, WAVE_IN, OUT)
    _one_line(info)
    if target != "99":  # the sample iterator applies the same rule (it does not know the classes)
        with pytest.raises(DataError):
            list(iter_samples(d, WAVE_IN))


@pytest.mark.parametrize("text", ["", HEADER, "just,some\n", "\x00\x01garbage"])
def test_empty_or_headerless_esc50_csv(tmp_path, text):
    d = _esc50(tmp_path, text, {})
    with pytest.raises(DataError, match="esc50.csv") as info:
        check_data(d, WAVE_IN, OUT)
    _one_line(info)


@pytest.mark.parametrize("limit", [0, -1, -5, True])
def test_limit_below_one_is_refused(limit, tmp_path):
    with pytest.raises(DataError, match="--limit") as info:
        check_limit(limit)
    _one_line(info)
    np.save(tmp_path / "a.npy", np.zeros((49, 10), np.int8))
    with pytest.raises(DataError, match="--limit"):
        check_data(tmp_path, KWS_IN, KWS_OUT, limit=limit)
    with pytest.raises(DataError, match="--limit"):
        list(iter_samples(tmp_path, KWS_IN, limit=limit))
    check_limit(None)
    check_limit(1)


def test_truncated_and_empty_wavs(tmp_path):
    d = _esc50(tmp_path, HEADER + "a.wav,1,3,x\n", {"a.wav": (20000, _tone(4000))})
    wav = d / "audio" / "a.wav"
    raw = wav.read_bytes()
    wav.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="truncated WAV") as info:
        check_data(d, WAVE_IN, OUT)
    _one_line(info)
    sf.write(wav, np.zeros(0, np.float32), 20000, subtype="PCM_16")
    with pytest.raises(DataError, match="no audio samples"):
        check_data(d, WAVE_IN, OUT)
    wav.write_bytes(b"")
    with pytest.raises(DataError, match="a.wav"):
        check_data(d, WAVE_IN, OUT)
    wav.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    with pytest.raises(DataError, match="a.wav"):
        check_data(d, WAVE_IN, OUT)


def test_missing_clip_names_the_csv_line(tmp_path):
    d = _esc50(tmp_path, HEADER + "a.wav,1,3,x\nnope.wav,1,3,x\n", {"a.wav": (20000, _tone(2000))})
    with pytest.raises(DataError, match="line 3: clip 'nope.wav' is missing"):
        check_data(d, WAVE_IN, OUT)


def test_resampling_mixing_and_padding_are_recorded_and_warned(tmp_path):
    d = _esc50(tmp_path, HEADER + "a.wav,1,3,x\nb.wav,1,4,x\nc.wav,1,5,x\n",
               {"a.wav": (16000, _tone(4000)), "b.wav": (20000, _tone(4000, channels=2)),
                "c.wav": (20000, _tone(100))})
    check = check_data(d, WAVE_IN, OUT)
    rec = check.record()
    assert rec["source_rates_hz"] == {"16000": 1, "20000": 2} and rec["resampled_from_hz"] == [16000]
    assert rec["resampled_clips"] == 1 and rec["mixed_to_mono_clips"] == 1 and rec["zero_padded_clips"] == 1
    text = " ".join(check.warnings)
    assert "resampled from 16000 Hz to 20000 Hz" in text and "mixed to mono" in text and "zero-padded" in text


def test_npy_transposed_or_flattened_arrays_are_errors_naming_both_shapes(tmp_path):
    np.save(tmp_path / "t.npy", np.zeros((10, 49), np.int8))
    with pytest.raises(DataError, match=r"t.npy has shape \[10, 49\]; the model input is \[49, 10\]") as info:
        check_data(tmp_path, KWS_IN, KWS_OUT)
    _one_line(info)
    (tmp_path / "t.npy").unlink()
    np.save(tmp_path / "f.npy", np.zeros(980, np.int8))  # two inputs' worth of values, flat
    with pytest.raises(DataError, match=r"f.npy has shape \[980\]"):
        check_data(tmp_path, KWS_IN, KWS_OUT)
    with pytest.raises(DataError, match=r"f.npy has shape \[980\]"):
        list(iter_samples(tmp_path, KWS_IN))


def test_npy_stacks_and_exact_shapes_are_accepted(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((49, 10), np.int8))
    np.save(tmp_path / "b.npy", np.zeros((3, 49, 10), np.int8))
    (tmp_path / "labels.csv").write_text("file,label\na.npy,3\nb.npy,11\n")
    assert check_data(tmp_path, KWS_IN, KWS_OUT).samples == 2
    samples = list(iter_samples(tmp_path, KWS_IN))
    assert [(s.label, s.inputs.shape) for s in samples] == [(3, (1, 49, 10)), (11, (3, 49, 10))]


@pytest.mark.parametrize("content, match", [
    (b"", "empty file"), (b"hello, not numpy", "no .npy header"),
    (None, "not a plain NumPy"), (b"\x93NUMPY\x01\x00garbage", "not a plain NumPy")])
def test_empty_pickled_or_foreign_npy_files(tmp_path, content, match):
    path = tmp_path / "x.npy"
    if content is None:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        check_data(tmp_path, KWS_IN, KWS_OUT)
    _one_line(info)
    with pytest.raises(DataError):
        list(iter_samples(tmp_path, KWS_IN))


def test_npy_dtype_and_non_finite_values(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((49, 10), np.float32))
    with pytest.raises(DataError, match="a.npy is float32, the model input is int8"):
        check_data(tmp_path, KWS_IN, KWS_OUT)
    f32 = Tensor(0, "in", (49, 10), "float32")
    np.save(tmp_path / "a.npy", np.full((49, 10), np.nan, np.float32))
    with pytest.raises(DataError, match="NaN"):
        check_data(tmp_path, f32, KWS_OUT)


@pytest.mark.parametrize("labels, match", [
    ("a.npy,3\nghost.npy,1\nphantom.npy,2\n", "not in the folder: ghost.npy, phantom.npy"),
    ("a.npy,99\n", "label 99 is outside the model's classes 0..11"),
    ("a.npy,-4\n", "label -4 is outside"),
    ("a.npy,three\nb.npy,x\n", "line 2: label 'x' is not an integer"),
    ("", "labels.csv is empty"),
    ("\n\n", "labels.csv is empty"),
    ("garbage\n", "is not 'file,label'"),
    ("a.npy,1\na.npy,2\n", "labelled twice"),
])
def test_labels_csv_problems(tmp_path, labels, match):
    np.save(tmp_path / "a.npy", np.zeros((49, 10), np.int8))
    np.save(tmp_path / "b.npy", np.zeros((49, 10), np.int8))
    (tmp_path / "labels.csv").write_text(labels)
    with pytest.raises(DataError, match=match) as info:
        check_data(tmp_path, KWS_IN, KWS_OUT)
    _one_line(info)


def test_labels_csv_undecodable_bytes(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((49, 10), np.int8))
    (tmp_path / "labels.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not UTF-8"):
        check_data(tmp_path, KWS_IN, KWS_OUT)


def test_not_a_data_folder(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        check_data(tmp_path / "missing", KWS_IN, KWS_OUT)
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="neither an ESC-50 folder"):
        check_data(tmp_path, KWS_IN, KWS_OUT)


def test_audio_folder_for_a_non_waveform_model_is_refused_up_front(tmp_path):
    d = _esc50(tmp_path, HEADER + "a.wav,1,3,x\n", {"a.wav": (20000, _tone(2000))})
    with pytest.raises(DataError, match="not a raw waveform"):
        check_data(d, KWS_IN, KWS_OUT)


@pytest.mark.needs_shared("audio/esc50-cc0")
def test_shared_clips_record_their_44k1_source_rate():
    check = check_data(shared_path("audio", "esc50-cc0"), Tensor(0, "in", (1, 1, 30225, 1), "int8",
                                                                 QuantParams((0.02,), (0,))), OUT, limit=3)
    assert check.samples == 3 and check.record()["resampled_from_hz"] == [44100]
    assert "44100 Hz to 20000 Hz" in check.warnings[0]


def test_pickle_is_never_loaded(tmp_path):
    """A pickled payload in a .npy file is refused before unpickling (allow_pickle=False)."""
    path = tmp_path / "evil.npy"
    path.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(DataError, match="evil.npy is not a plain NumPy"):
        check_data(tmp_path, KWS_IN, KWS_OUT)


def test_bench_refuses_bad_data_limit_and_port_before_any_build(tmp_path):
    """run_bench checks --data, --limit and the port first: nothing is compiled or built (no build folder)."""
    from pathlib import Path

    from harness.bench import BenchConfig, run_bench
    from harness.boards import get_board
    from harness.errors import TransportError

    model = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "kws_dscnn_int8.tflite"
    board = get_board("stm32f746")
    good = tmp_path / "good"
    good.mkdir()
    np.save(good / "a.npy", np.zeros((1, 49, 10, 1), np.int8))
    bad = tmp_path / "bad"
    bad.mkdir()
    np.save(bad / "a.npy", np.zeros((10, 49), np.int8))
    build = tmp_path / "build"
    cases = [(dict(data=bad, target=board.target(True)), DataError, r"a.npy has shape \[10, 49\]"),
             (dict(data=good, target=board.target(True), limit=0), DataError, "--limit 0"),
             (dict(data=good, target=board.target(False, port="/dev/ttyNOPE9")), TransportError, "does not exist")]
    for kwargs, error, match in cases:
        cfg = BenchConfig(model=model, out=tmp_path / "results", build_root=build, **kwargs)
        with pytest.raises(error, match=match):
            run_bench(cfg)
        assert not build.exists() and not (tmp_path / "results").exists()
