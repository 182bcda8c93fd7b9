"""One quantized clip and where its crops lie: what the host uploads once when the DUT cuts the crops itself
(issue 12, item 8; the device side is ``clip load`` / ``clip crop`` of targets/PROTOCOL.md, "Clip crops").

:class:`~harness.data.preprocess.RawCrops` pads the waveform with zeros, takes evenly spaced windows and
quantizes each window.  With ``quantization="model"`` that quantization is element-wise
(``clip(rint(x / scale) + zero_point, -128, 127)`` of each sample on its own), so quantizing the whole clip
once and slicing it gives the same bytes as slicing then quantizing; the zero padding quantizes to one byte,
the fill.  The DUT therefore needs only the unpadded quantized clip, each crop's start (relative to the clip,
negative inside the leading padding) and the fill byte.  ``quantization="peak"`` scales every crop by its own
peak: not element-wise on the clip, so :func:`clip_plan` returns None for it and the host keeps sending
host-cut crops (an exact on-device equivalent would need the float waveform, 4 bytes per sample).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.codegen.graph import Tensor
from harness.data.preprocess import RawCrops, load_waveform
from harness.errors import DataError

#: Why a clip cannot be cut on the DUT, by quantization mode (recorded in the manifest).
NOT_ELEMENTWISE = {"peak": "peak quantization scales each crop by its own peak (not element-wise on the clip)"}


@dataclass(frozen=True, eq=False)
class ClipPlan:
    """A clip ready for ``clip load``: ``data`` = the quantized, unpadded waveform (model input dtype, raw
    bytes); crop k = bytes ``[starts[k], starts[k] + length)`` of ``data`` with ``fill`` wherever that range
    lies outside it.  ``starts`` and ``length`` in bytes (elements x itemsize); ``fill`` one byte (0..255)."""

    data: bytes
    starts: tuple[int, ...]
    length: int
    fill: int

    @property
    def crops(self) -> int:
        return len(self.starts)

    def crop_bytes(self, k: int) -> bytes:
        """Crop ``k`` exactly as the DUT's ``clip crop`` writes it into the input tensor."""
        start, end = self.starts[k], self.starts[k] + self.length
        lo, hi = min(max(start, 0), len(self.data)), min(max(end, 0), len(self.data))
        before = min(max(lo - start, 0), self.length)
        body = self.data[lo:hi] if hi > lo else b""
        return bytes([self.fill]) * before + body + bytes([self.fill]) * (self.length - before - len(body))

    def crc(self, k: int) -> int:
        """CRC-32 (zlib) of crop ``k``: what ``clip crop`` answers when the DUT holds this clip."""
        return zlib.crc32(self.crop_bytes(k))


def clip_plan(pre: RawCrops, wav: Path, tensor: Tensor) -> ClipPlan | None:
    """The clip plan of ``wav`` under ``pre`` for the model input ``tensor``, or None when ``pre`` is not
    element-wise on the clip (``quantization="peak"`` on an int8 input; see :data:`NOT_ELEMENTWISE`).

    Mirrors :meth:`RawCrops.inputs` step by step (padding, ``numpy.linspace`` starts, quantization), so
    ``plan.crop_bytes(k) == pre.inputs(wav, tensor)[k].tobytes()`` for every k (tested byte for byte).
    Raises DataError like :meth:`RawCrops.inputs` (unreadable file, input not a 1-D waveform window,
    unsupported dtype)."""
    length = tensor.size
    if max(tensor.shape) != length:
        raise DataError(f"model input {list(tensor.shape)} is not a raw waveform; pass --data as .npy tensors")
    if tensor.dtype == "int8" and pre.quantization in NOT_ELEMENTWISE:
        return None
    x = load_waveform(wav, pre.sample_rate)
    pad = length // 2 if pre.pad is None else pre.pad
    padded = len(x) + 2 * pad
    total = max(padded, length)  # RawCrops appends zeros when the padded clip is shorter than one window
    starts = np.linspace(0, total - length, pre.crops).astype(int)
    if tensor.dtype == "float32":
        data, zero = x.astype(np.float32), np.zeros(1, np.float32)
    else:
        data = pre._quantize(x, tensor)  # noqa: SLF001 - the very quantizer of the host crops, element-wise here
        zero = pre._quantize(np.zeros(1, np.float32), tensor)  # noqa: SLF001
    fill = zero.tobytes()
    if len(set(fill)) != 1:  # a float32 zero is four 0 bytes; an int8 zero is the zero point
        return None
    item = data.dtype.itemsize
    return ClipPlan(data.tobytes(), tuple(int(s - pad) * item for s in starts), length * item, fill[0])
