"""Clip -> tensor front ends shared by training and by the harness, so the firmware sees what the model saw.

- :class:`RawFrontEnd`: raw-waveform crops for ACDNet-style models.  Waveform loading, padding and the
  evaluation crops are :mod:`harness.data.preprocess` (the ACDNet authors' protocol); training takes one random
  crop of the same padded waveform, as the authors' train generator does.
- :class:`LogMelFrontEnd`: VGGish-style log-mel patches: 16 kHz mono, 25 ms Hann window, 10 ms hop,
  64 mel bands 125-7500 Hz (HTK mel scale), log(mel + 0.01), 96-frame patches (0.96 s) -- the VGGish input
  definition (Hershey et al. 2017, "CNN architectures for large-scale audio classification"; the
  published ``vggish_params.py`` values).  Output [patches, 96, 64, 1] float32.

Both are deterministic functions of the file (numpy/scipy only; no torch or tensorflow).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.data.preprocess import load_waveform


@dataclass(frozen=True)
class RawFrontEnd:
    """Raw waveform crops: ``sample_rate`` Hz, ``length`` samples per crop, ``crops`` evaluation crops.

    ``eval_crops(path)`` -> float32 [crops, length]; ``train_crop(path, rng)`` -> float32 [length]."""

    sample_rate: int = 20000
    length: int = 30225
    crops: int = 10

    def describe(self) -> dict:
        return {"kind": "raw", **asdict(self)}

    def _padded(self, path: Path) -> np.ndarray:
        x = load_waveform(Path(path), self.sample_rate)
        pad = np.zeros(self.length // 2, np.float32)
        x = np.concatenate([pad, x, pad])
        if len(x) < self.length:
            x = np.concatenate([x, np.zeros(self.length - len(x), np.float32)])
        return x

    def eval_crops(self, path: Path) -> np.ndarray:
        x = self._padded(path)
        starts = np.linspace(0, len(x) - self.length, self.crops).astype(int)
        return np.stack([x[s:s + self.length] for s in starts]).astype(np.float32)

    def train_crop(self, path: Path, rng: np.random.Generator) -> np.ndarray:
        x = self._padded(path)
        s = int(rng.integers(0, len(x) - self.length + 1))
        return x[s:s + self.length].astype(np.float32)

    def input_shape(self) -> tuple[int, ...]:
        """NHWC shape of one model input (batch 1), as the .tflite input tensor."""
        return (1, 1, self.length, 1)


def hz_to_mel(f):
    """HTK mel scale: 1127 ln(1 + f/700)."""
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=8)
def mel_matrix(n_fft: int, rate: int, bands: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular mel filterbank [n_fft//2 + 1, bands] (VGGish ``mel_features.spectrogram_to_mel_matrix``
    definition: triangles on the HTK mel scale, no area normalisation, DC bin zeroed)."""
    bins = n_fft // 2 + 1
    freqs_mel = hz_to_mel(np.linspace(0.0, rate / 2.0, bins))
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), bands + 2)
    out = np.zeros((bins, bands))
    for i in range(bands):
        lo, mid, hi = edges[i:i + 3]
        up = (freqs_mel - lo) / (mid - lo)
        down = (hi - freqs_mel) / (hi - mid)
        out[:, i] = np.maximum(0.0, np.minimum(up, down))
    out[0, :] = 0.0
    return out


@dataclass(frozen=True)
class LogMelFrontEnd:
    """VGGish log-mel patches. ``patches(path)`` -> float32 [n, frames, bands, 1] (n >= 1)."""

    sample_rate: int = 16000
    window_s: float = 0.025
    hop_s: float = 0.010
    bands: int = 64
    fmin: float = 125.0
    fmax: float = 7500.0
    frames: int = 96
    log_offset: float = 0.01

    def describe(self) -> dict:
        return {"kind": "logmel", **asdict(self)}

    def spectrogram(self, x: np.ndarray) -> np.ndarray:
        """Log-mel spectrogram [frames, bands] of a mono float waveform at ``sample_rate``."""
        win = int(round(self.window_s * self.sample_rate))
        hop = int(round(self.hop_s * self.sample_rate))
        n_fft = 1 << int(np.ceil(np.log2(win)))
        if len(x) < win:
            x = np.concatenate([x, np.zeros(win - len(x), np.float32)])
        n = 1 + (len(x) - win) // hop
        idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic Hann
        mag = np.abs(np.fft.rfft(x[idx] * window, n_fft))
        mel = mag @ mel_matrix(n_fft, self.sample_rate, self.bands, self.fmin, self.fmax)
        return np.log(mel + self.log_offset).astype(np.float32)

    def patches(self, path: Path) -> np.ndarray:
        spec = self.spectrogram(load_waveform(Path(path), self.sample_rate))
        if len(spec) < self.frames:
            spec = np.concatenate([spec, np.full((self.frames - len(spec), self.bands), np.log(self.log_offset),
                                                 np.float32)])
        n = len(spec) // self.frames
        return spec[: n * self.frames].reshape(n, self.frames, self.bands, 1)

    def eval_crops(self, path: Path) -> np.ndarray:
        """Same as :meth:`patches` (the clip's prediction averages its patches)."""
        return self.patches(path)

    def train_crop(self, path: Path, rng: np.random.Generator) -> np.ndarray:
        p = self.patches(path)
        return p[int(rng.integers(0, len(p)))]

    def input_shape(self) -> tuple[int, ...]:
        return (1, self.frames, self.bands, 1)


FRONT_ENDS = {"raw": RawFrontEnd, "logmel": LogMelFrontEnd}


def front_end_from_spec(spec: dict | str):
    """A front end from its description: a card's ``frontend`` dict (``{"kind": "logmel", ...}``, the output of
    ``describe()``) or a ``--front-end`` string ``KIND[:key=value,...]`` (e.g. ``logmel:sample_rate=8000,frames=32,
    bands=16,fmax=3800``).  Raises DataError for an unknown kind or field."""
    from harness.errors import DataError  # noqa: PLC0415

    if isinstance(spec, str):
        kind, _, rest = spec.partition(":")
        fields: dict = {}
        for item in filter(None, rest.split(",")):
            key, _, value = item.partition("=")
            try:
                fields[key.strip()] = float(value) if "." in value else int(value)
            except ValueError:
                raise DataError(f"--front-end {spec}: {item!r} is not key=number; e.g. logmel:frames=32,bands=16"
                                ) from None
        spec = {"kind": kind, **fields}
    spec = dict(spec)
    kind = spec.pop("kind", "raw")
    cls = FRONT_ENDS.get(kind)
    if cls is None:
        raise DataError(f"unknown front end {kind!r}; use raw or logmel")
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(spec) - known)
    if unknown:
        raise DataError(f"front end {kind}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**spec)


def card_front_end(model: Path) -> dict | None:
    """The ``frontend`` of the model card ``<model stem>.card.json`` that `tinyhil variants` writes next to each
    ``.tflite``, or None when there is no card.  Raises DataError for a card that is not JSON."""
    import json  # noqa: PLC0415

    from harness.errors import DataError  # noqa: PLC0415

    card = Path(model).with_name(Path(model).stem + ".card.json")
    if not card.is_file():
        return None
    try:
        return json.loads(card.read_text()).get("frontend")
    except (json.JSONDecodeError, AttributeError):
        raise DataError(f"{card} is not a tinyhil model card (JSON object); re-run `tinyhil variants` or delete it"
                        ) from None


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8 with the input tensor's scale and zero point (round half to even, clamp to [-128, 127]):
    the TFLite converter's input quantization, and what `tinyhil variants` scores its cards with."""
    return np.clip(np.rint(x / np.float32(scale)) + zero_point, -128, 127).astype(np.int8)


# ---- front ends of `tinyhil bench`: clip -> the model's quantized input tensors ------------------------------
@dataclass(frozen=True)
class LogMelInputs:
    """What bench feeds a log-mel model: :class:`LogMelFrontEnd` patches of a clip (each one inference; the
    clip's prediction is the mean of the patches' dequantized outputs, as `tinyhil variants` scores its cards),
    quantized with the input tensor's scale and zero point (:func:`quantize_input`)."""

    front: LogMelFrontEnd

    @property
    def sample_rate(self) -> int:
        return self.front.sample_rate

    def describe(self) -> dict:
        """Recorded in the run manifest (every field of the front end)."""
        return {**self.front.describe(), "patches": "consecutive, non-overlapping frames-long patches",
                "resampler": "scipy.signal.resample_poly"}

    def check(self, tensor) -> None:
        """Refuse a model input these patches do not fit (shape other than [1, frames, bands, 1] in any
        layout with the same element order, or a dtype other than int8/float32).  Raises DataError."""
        from harness.errors import DataError  # noqa: PLC0415

        want = self.front.input_shape()
        if tuple(s for s in tensor.shape if s != 1) != tuple(s for s in want if s != 1):
            raise DataError(f"front end logmel gives {list(want)} patches, the model input is {list(tensor.shape)}; "
                            "pass --front-end logmel:frames=F,bands=B,... as the model was trained (or use its "
                            "card from `tinyhil variants`)")
        if tensor.dtype not in ("int8", "float32"):
            raise DataError(f"model input dtype {tensor.dtype} is not supported for audio; use int8 or float32")

    def inputs(self, wav: Path, tensor) -> np.ndarray:
        """int8 or float32 array [patches, *tensor.shape] of one clip. Raises DataError (undecodable file)."""
        x = self.front.patches(Path(wav)).reshape((-1, *tensor.shape))
        if tensor.dtype == "float32":
            return x.astype(np.float32)
        return quantize_input(x, tensor.scale, tensor.zero_point)


def bench_front_end(model: Path, option: str | None, quantization: str = "model"):
    """The front end bench uses for ``model``, and where it came from: ``(front end, source)``.

    ``option`` (``--front-end`` spec, see :func:`front_end_from_spec`) wins; else the model card's ``frontend``
    (:func:`card_front_end`); else the ACDNet raw crops (:class:`harness.data.preprocess.RawCrops`).  Source
    is "--front-end", "model card" or "default".  A raw front end becomes ``RawCrops`` (same crops as
    :class:`RawFrontEnd`; ``quantization`` "model" or "peak"), a log-mel one :class:`LogMelInputs`.
    Raises DataError for a bad spec or card, or "peak" quantization with a log-mel front end."""
    from harness.data.preprocess import QUANTIZATIONS, RawCrops  # noqa: PLC0415
    from harness.errors import DataError  # noqa: PLC0415

    if quantization not in QUANTIZATIONS:
        raise DataError(f"--input-quantization {quantization!r}: use {' or '.join(QUANTIZATIONS)}")
    spec, source = (option, "--front-end") if option else (card_front_end(model), "model card")
    if spec is None:
        return RawCrops(quantization=quantization), "default"
    front = front_end_from_spec(spec)
    if isinstance(front, RawFrontEnd):
        return RawCrops(sample_rate=front.sample_rate, crops=front.crops, quantization=quantization,
                        length=front.length if source == "model card" or "length=" in str(option) else None), source
    if quantization != "model":
        raise DataError(f"--input-quantization {quantization} applies to raw crops only; the {source} front end "
                        "is log-mel: drop the option")
    return LogMelInputs(front), source
