"""tinyhil's binary convolution (XNOR-Net, Rastegari et al. 2016): the .tflite representation and the
compile-time preparation of its integer parameters (the numpy reference of the arithmetic is
harness/reference/xnor.py).

TFLite has no binary operator, so XNOR layers are stored as a CUSTOM operator with custom code
``TH_XNOR_CONV_2D`` (:data:`CUSTOM_CODE`):

inputs
    0. ``x``         int8 NHWC [1, H, W, Cin], per-tensor scale/zero point (the previous layer's output)
    1. ``weights``   int32 [Cout, words]: sign bits of each filter, taps in (ky, kx, cin) order, tap k in bit
       k % 32 of word k // 32 (bit 1 = +1, 0 = -1); words = ceil(kh * kw * Cin / 32), unused bits 0
    2. ``threshold`` int32 [Cin]: input binarization in the int8 domain, sign = +1 iff x[..., c] >= threshold[c]
       (the XNOR block's BatchNorm before the sign folded in; -1 where the BatchNorm scale is negative is folded
       into the weight bits by the exporter; threshold = zero point gives plain sign(x))
    3. ``scale``     float32 [Cout] > 0: real output per unit of the binary dot product (XNOR-Net's per-filter
       alpha = mean |W_c| times the following BatchNorm's scale)
    4. ``bias``      float32 [Cout]: real output offset (the following BatchNorm's shift)
output
    int8 NHWC [1, OH, OW, Cout], per-tensor scale/zero point.
custom options
    24 bytes, little-endian int32 x 6 (:data:`OPTIONS_FORMAT`): filter_h, filter_w, stride_h, stride_w,
    padding (0 = SAME, 1 = VALID), activation (0 = NONE, 1 = RELU).

Arithmetic (the C kernel ``th_xnor_conv2d_s8`` in targets/kernels/th_xnor.c does exactly this):
``dot[c] = sum over in-image taps of s * w = 2 * popcount(XNOR(s, w) & valid) - popcount(valid)``: padded taps
contribute 0, as the zero padding of PyTorch's conv applied after the sign.  ``acc = dot * DOT_SCALE +
bias_q[c]`` (int32), ``out = clamp(MultiplyByQuantizedMultiplier(acc, mult[c], shift[c]) + zp_out)`` with
``mult/shift = QuantizeMultiplier(scale[c] / (DOT_SCALE * out_scale))`` and ``bias_q[c] = round(bias[c] *
DOT_SCALE / scale[c])`` computed at compile time (TFLite's requantization, kernels/internal/common.h).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from harness.codegen import quant

CUSTOM_CODE = "TH_XNOR_CONV_2D"
OPCODE = "CUSTOM:" + CUSTOM_CODE
OPTIONS_FORMAT = "<6i"
#: Fixed-point step of the accumulator: acc = dot * DOT_SCALE + bias_q keeps the bias 12 bits finer than one
#: unit of the binary dot product.
DOT_SCALE = 4096
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: "NONE", 1: "RELU"}


def pack_options(filter_h: int, filter_w: int, stride_h: int, stride_w: int, padding: str, activation: str) -> bytes:
    """Custom options bytes for the operator (see module doc)."""
    pad = {v: k for k, v in _PADDING.items()}[padding]
    act = {v: k for k, v in _ACTIVATION.items()}[activation]
    return struct.pack(OPTIONS_FORMAT, filter_h, filter_w, stride_h, stride_w, pad, act)


def unpack_options(raw: bytes) -> dict:
    """Inverse of :func:`pack_options`; raises ValueError for a wrong length or unknown code."""
    if len(raw) != struct.calcsize(OPTIONS_FORMAT):
        raise ValueError(f"{len(raw)} bytes of custom options, {struct.calcsize(OPTIONS_FORMAT)} expected")
    fh, fw, sh, sw, pad, act = struct.unpack(OPTIONS_FORMAT, raw)
    if pad not in _PADDING or act not in _ACTIVATION:
        raise ValueError(f"unknown padding {pad} or activation {act}")
    return {"filter_h": fh, "filter_w": fw, "stride_h": sh, "stride_w": sw, "padding": _PADDING[pad],
            "activation": _ACTIVATION[act]}


def pack_signs(signs: np.ndarray) -> np.ndarray:
    """Filters of +1/-1 (or >= 0 / < 0) values [Cout, kh, kw, Cin] -> int32 [Cout, ceil(kh*kw*Cin/32)]."""
    flat = (np.asarray(signs).reshape(signs.shape[0], -1) >= 0).astype(np.uint64)
    n = flat.shape[1]
    words = (n + 31) // 32
    padded = np.zeros((flat.shape[0], words * 32), np.uint64)
    padded[:, :n] = flat
    packed = (padded.reshape(flat.shape[0], words, 32) << np.arange(32, dtype=np.uint64)).sum(axis=2)
    return packed.astype(np.uint32).view(np.int32)


def unpack_signs(packed: np.ndarray, taps: int) -> np.ndarray:
    """int32 [Cout, words] -> int8 +1/-1 [Cout, taps]."""
    words = np.asarray(packed).astype(np.int32).view(np.uint32).astype(np.uint64)
    bits = (words[:, :, None] >> np.arange(32, dtype=np.uint64)) & 1
    return np.where(bits.reshape(words.shape[0], -1)[:, :taps] == 1, 1, -1).astype(np.int8)


@dataclass(frozen=True)
class XnorParams:
    """Compile-time parameters of one binary convolution (what the C kernel's param struct holds)."""

    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    words: int
    output_offset: int
    act_min: int
    act_max: int
    threshold: np.ndarray   # int32 [in_c]
    weights: np.ndarray     # int32 [out_c, words] (bit patterns)
    multiplier: np.ndarray  # int32 [out_c]
    shift: np.ndarray       # int32 [out_c]
    bias: np.ndarray        # int32 [out_c], bias_q


def prepare(in_shape, out_shape, options: dict, weights, threshold, scale, bias, out_scale: float,
            out_zero_point: int) -> XnorParams:
    """The integer parameters of one operator (see module doc); raises ValueError naming what is wrong."""
    _, in_h, in_w, in_c = (int(v) for v in in_shape)
    n, out_h, out_w, out_c = (int(v) for v in out_shape)
    fh, fw, sh, sw = options["filter_h"], options["filter_w"], options["stride_h"], options["stride_w"]
    taps = fh * fw * in_c
    words = (taps + 31) // 32
    weights = np.asarray(weights)
    if weights.shape != (out_c, words):
        raise ValueError(f"packed weights {list(weights.shape)}, expected [{out_c}, {words}]")
    if np.asarray(threshold).shape != (in_c,) or np.asarray(scale).shape != (out_c,) or np.asarray(bias).shape != (out_c,):
        raise ValueError("threshold must be [Cin], scale and bias [Cout]")
    expect = (quant.output_size(options["padding"], in_h, fh, sh), quant.output_size(options["padding"], in_w, fw, sw))
    if expect != (out_h, out_w):
        raise ValueError(f"output {out_h}x{out_w} does not match the computed {expect[0]}x{expect[1]}")
    scale = np.asarray(scale, np.float32)
    if np.any(~(scale > 0)):
        raise ValueError("per-filter scales must be positive (fold negative ones into the weight bits)")
    mult = np.zeros(out_c, np.int32)
    shift = np.zeros(out_c, np.int32)
    bias_q = np.zeros(out_c, np.int64)
    for c in range(out_c):
        mult[c], shift[c] = quant.quantize_multiplier(float(scale[c]) / (DOT_SCALE * float(np.float32(out_scale))))
        bias_q[c] = quant.tflite_round(float(np.float32(bias[c])) * DOT_SCALE / float(scale[c]))
    if np.any(np.abs(bias_q) + taps * DOT_SCALE >= (1 << 31)):
        raise ValueError("bias / scale too large for the int32 accumulator")
    act_min, act_max = quant.activation_range_quantized(options["activation"], out_scale, out_zero_point)
    return XnorParams(in_h, in_w, in_c, out_h, out_w, out_c, fh, fw, sh, sw,
                      quant.padding_before(options["padding"], in_h, fh, sh),
                      quant.padding_before(options["padding"], in_w, fw, sw), words, int(out_zero_point),
                      act_min, act_max, np.asarray(threshold, np.int32), weights.astype(np.int32), mult, shift,
                      bias_q.astype(np.int32))
