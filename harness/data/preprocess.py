"""Clip -> model input tensors: the ACDNet evaluation protocol (raw waveform crops).

Source: the ACDNet authors' evaluation (Mohaimenuzzaman et al., Pattern Recognition 2022), as written in
``../shared/models/README.md``: decode, mono, resample to 20 kHz, scale int16 by 1/32768, pad half an input
length of zeros on both sides, take ``crops`` evenly spaced windows of the model's input length, quantize;
the prediction is the arg-max of the mean of the crops' dequantized outputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.codegen.graph import Tensor
from harness.errors import DataError

QUANTIZATIONS = ("model", "peak")


@dataclass(frozen=True)
class RawCrops:
    """Raw-waveform crops of a clip. ``sample_rate`` in Hz; ``pad`` zeros (samples) added on both sides
    (None: half the input length, rounded down); ``quantization``: "model" uses the input tensor's scale and
    zero point, "peak" scales each crop by its own peak as the authors' MCU deployment did."""

    sample_rate: int = 20000
    crops: int = 10
    pad: int | None = None
    quantization: str = "model"
    length: int | None = None  #: the crop length a model card states (None: the model input's size)

    def describe(self) -> dict:
        """Recorded in every run manifest."""
        fields = {k: v for k, v in asdict(self).items() if not (k == "length" and v is None)}
        return {"kind": "raw-crops", **fields,
                "crop_starts": "numpy.linspace(0, len - input_length, crops).astype(int)",
                "resampler": "scipy.signal.resample_poly"}

    def check(self, tensor: Tensor) -> None:
        """Refuse a model input these crops cannot feed: not a 1-D waveform window, a length other than the
        card's, or a dtype other than int8/float32.  Raises DataError naming the fix."""
        if max(tensor.shape, default=1) != tensor.size:
            raise DataError(f"model input {list(tensor.shape)} is not a raw waveform window, so raw crops cannot "
                            "feed it; pass --front-end logmel:... (or use the model's card), or --data as a "
                            "folder of .npy input tensors")
        if self.length is not None and self.length != tensor.size:
            raise DataError(f"the front end's crops are {self.length} samples, the model input is {tensor.size}; "
                            "pass --front-end raw or fix the model card")
        if tensor.dtype not in ("int8", "float32"):
            raise DataError(f"model input dtype {tensor.dtype} is not supported for audio; use int8 or float32")

    def inputs(self, wav: Path, tensor: Tensor) -> np.ndarray:
        """int8 or float32 array [crops, *tensor.shape] for one clip. Raises DataError for an unreadable
        file or an input tensor that is not a 1-D waveform window."""
        length = tensor.size
        if max(tensor.shape) != length:
            raise DataError(f"model input {list(tensor.shape)} is not a raw waveform; pass --data as .npy tensors")
        x = load_waveform(wav, self.sample_rate)
        pad = length // 2 if self.pad is None else self.pad
        x = np.concatenate([np.zeros(pad, np.float32), x, np.zeros(pad, np.float32)])
        if len(x) < length:
            x = np.concatenate([x, np.zeros(length - len(x), np.float32)])
        starts = np.linspace(0, len(x) - length, self.crops).astype(int)
        crops = np.stack([x[s:s + length] for s in starts])
        return np.stack([self._quantize(c, tensor) for c in crops]).reshape((self.crops, *tensor.shape))

    def _quantize(self, crop: np.ndarray, tensor: Tensor) -> np.ndarray:
        if tensor.dtype == "float32":
            return crop.astype(np.float32)
        if tensor.dtype != "int8":
            raise DataError(f"model input dtype {tensor.dtype} is not supported for audio; use int8 or float32")
        if self.quantization == "peak":
            q = np.rint(crop / (2.0 * np.max(np.abs(crop)) / 255.0 + 1e-9) - 0.5)
        else:
            q = np.rint(crop / np.float32(tensor.scale)) + tensor.zero_point
        return np.clip(q, -128, 127).astype(np.int8)


@lru_cache(maxsize=64)
def _load_cached(path: str, rate: int) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    try:
        data, sr = sf.read(path, dtype="int16", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError
        raise DataError(f"cannot decode {path} ({exc}); check the file is WAV/FLAC/MP3") from None
    x = data.astype(np.float32).mean(axis=1) / 32768.0
    if sr != rate:
        g = int(np.gcd(sr, rate))
        x = resample_poly(x, rate // g, sr // g).astype(np.float32)
    return x


def load_waveform(path: Path, rate: int) -> np.ndarray:
    """Mono float32 waveform in [-1, 1) at ``rate`` Hz (int16 samples scaled by 1/32768). Raises DataError."""
    return _load_cached(str(path), rate)


def aggregate(outputs: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Mean of the crops' dequantized output vectors: [crops, classes] -> [classes] float64."""
    out = outputs.reshape(outputs.shape[0], -1).astype(np.float64)
    if tensor.quant is not None:
        out = (out - tensor.zero_point) * tensor.scale
    return out.mean(axis=0)
