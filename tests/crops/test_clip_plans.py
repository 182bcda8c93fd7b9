"""Clip plans (issue 12, item 8): the crops the DUT cuts from one uploaded clip are the host's crops, byte for
byte, in both --input-quantization modes (``peak`` by falling back to host crops, with the reason recorded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import require_shared
from harness.codegen.graph import QuantParams, Tensor
from harness.crops import CropDelivery
from harness.data.clips import ClipPlan, clip_plan
from harness.data.layouts import Sample
from harness.data.preprocess import RawCrops
from harness.errors import DataError

RAW_MINI = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "raw_mini_int8.tflite"


def waveform_tensor(length: int, dtype: str = "int8", scale: float = 0.0187, zero_point: int = 1) -> Tensor:
    quant = QuantParams((scale,), (zero_point,)) if dtype == "int8" else None
    return Tensor(0, "input", (1, 1, length, 1), dtype, quant)


def write_wav(path: Path, seconds: float, rate: int = 20000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    sf.write(path, (rng.normal(0, 0.3, int(seconds * rate)).clip(-1, 1) * 32767).astype(np.int16), rate)
    return path


def assert_plan_is_host(pre: RawCrops, wav: Path, tensor: Tensor) -> ClipPlan:
    plan = clip_plan(pre, wav, tensor)
    host = pre.inputs(wav, tensor)
    assert plan is not None and plan.crops == len(host)
    for k in range(plan.crops):
        assert plan.crop_bytes(k) == host[k].tobytes(), f"crop {k} of {wav.name} differs from the host's"
    return plan


@pytest.fixture(scope="module")
def esc50_clips():
    folder = require_shared("audio/esc50-cc0/audio")
    return sorted(folder.glob("*.wav"))


def test_real_clips_model_quantization_byte_exact(esc50_clips):
    """The ACDNet-sized input of the raw fixture model, on the real ESC-50 clips (44.1 kHz, resampled)."""
    from harness.codegen.reader import read_tflite

    graph = read_tflite(RAW_MINI)
    tensor = graph.tensors[graph.inputs[0]]
    for wav in esc50_clips:
        plan = assert_plan_is_host(RawCrops(quantization="model"), wav, tensor)
        assert len(plan.data) == 100_000 and plan.length == 30_225  # 5 s at 20 kHz instead of 10 x 30,225 B
        assert plan.fill == tensor.zero_point and plan.starts[0] == -(30_225 // 2)


def test_peak_quantization_is_not_elementwise_so_host_crops(esc50_clips, tmp_path):
    tensor = waveform_tensor(30_225)
    pre = RawCrops(quantization="peak")
    assert clip_plan(pre, esc50_clips[0], tensor) is None
    samples = [Sample(w.name, 0, pre.inputs(w, tensor)) for w in esc50_clips[:2]]
    delivery = CropDelivery.for_run("auto", pre, esc50_clips[0].parents[1], "esc50", samples, tensor)
    assert delivery.plans == {s.id: None for s in samples}
    assert "own peak" in next(iter(delivery.describe()["host_crops_because"]))


@pytest.mark.parametrize("seconds, pad, crops", [(0.3, None, 10), (0.05, None, 4), (2.0, 0, 3), (1.0, 777, 1)])
def test_short_long_padded_and_single_crop_clips(tmp_path, seconds, pad, crops):
    """Clips shorter than one window (the zeros RawCrops appends), no padding, custom padding, one crop."""
    wav = write_wav(tmp_path / "x.wav", seconds)
    tensor = waveform_tensor(8000, zero_point=-5)
    assert_plan_is_host(RawCrops(quantization="model", pad=pad, crops=crops), wav, tensor)


def test_float32_inputs_fill_with_zero_bytes(tmp_path):
    wav = write_wav(tmp_path / "x.wav", 0.8, rate=44100)  # resampled to 20 kHz first
    plan = assert_plan_is_host(RawCrops(), wav, waveform_tensor(4000, "float32"))
    assert plan.fill == 0 and plan.length == 16_000 and all(s % 4 == 0 for s in plan.starts)


def test_not_a_waveform_input_is_a_one_line_error(tmp_path):
    wav = write_wav(tmp_path / "x.wav", 0.5)
    image = Tensor(0, "input", (1, 49, 10, 1), "int8", QuantParams((0.1,), (0,)))
    with pytest.raises(DataError, match="not a raw waveform"):
        clip_plan(RawCrops(), wav, image)


def test_crop_bytes_outside_the_clip_are_the_fill():
    plan = ClipPlan(bytes(range(1, 11)), (-3, 8, 12, -20), 5, 0xEE)
    assert plan.crop_bytes(0) == b"\xee\xee\xee\x01\x02"
    assert plan.crop_bytes(1) == b"\x09\x0a\xee\xee\xee"
    assert plan.crop_bytes(2) == plan.crop_bytes(3) == b"\xee" * 5


class FakeDut:
    """Only what CropDelivery.bind reads: the firmware's profile (clip buffer size) and the two inferences."""

    def __init__(self, clip_bytes):
        self.device_info = {"clip_bytes": clip_bytes}
        self.calls: list[str] = []

    def infer(self, x):
        self.calls.append("host")
        return x, None

    def infer_crop(self, plan, k):
        self.calls.append("dut")
        return plan.crop_bytes(k), None


def test_delivery_falls_back_when_the_clip_buffer_is_too_small(tmp_path):
    (tmp_path / "audio").mkdir()
    tensor = waveform_tensor(4000)
    pre = RawCrops()
    wavs = [write_wav(tmp_path / "audio" / f"{n}.wav", s, seed=n) for n, s in enumerate((1.0, 3.0))]
    samples = [Sample(w.name, 0, pre.inputs(w, tensor)) for w in wavs]
    delivery = CropDelivery.for_run("auto", pre, tmp_path, "esc50", samples, tensor)
    dut = FakeDut(clip_bytes=30_000)  # holds the 1 s clip (20,000 B), not the 3 s one (60,000 B)
    infer = delivery.bind(dut)
    for s in samples:
        for k, x in enumerate(s.inputs):
            infer(s, k, x)
    assert dut.calls == ["dut"] * 10 + ["host"] * 10
    described = delivery.describe()
    assert described["clips_cut_on_dut"] == 1 and described["clips_cut_on_host"] == 1
    assert described["clip_buffer_bytes"] == 30_000 and described["mean_clip_upload_bytes"] == 20_000
    assert "does not fit the DUT's clip buffer of 30000 B" in next(iter(described["host_crops_because"]))
    host = CropDelivery.for_run("host", pre, tmp_path, "esc50", samples, tensor)
    host.bind(FakeDut(clip_bytes=10**6))
    assert host.describe()["clips_cut_on_dut"] == 0
    with pytest.raises(DataError, match="crop delivery 'dut' is unknown"):
        CropDelivery.for_run("dut", pre, tmp_path, "esc50", samples, tensor)
