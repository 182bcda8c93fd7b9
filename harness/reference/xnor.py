"""Numpy reference of the integer arithmetic of tinyhil's binary convolution ``th_xnor_conv2d_s8`` (XNOR and
popcount, then TFLite's requantization); the operator's format and parameters are in
harness/codegen/ops/xnor_format.py (re-exported here, as the reference's inputs)."""

from __future__ import annotations

import numpy as np

from harness.codegen.ops.xnor_format import (  # noqa: F401
    CUSTOM_CODE, OPCODE, OPTIONS_FORMAT, DOT_SCALE, pack_options, unpack_options, pack_signs, unpack_signs,
    XnorParams, prepare,
)


def _srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int64 arrays holding int32 values."""
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    t = ab + nudge
    q = np.where(t >= 0, t >> 31, -((-t) >> 31))  # C division truncates toward zero
    return np.where((a == b) & (a == -(1 << 31)), (1 << 31) - 1, q)


def _rounding_divide_by_pot(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def multiply_by_quantized_multiplier(x: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier, elementwise over int32 values (broadcasting)."""
    x, mult, shift = (np.asarray(v, np.int64) for v in (x, mult, shift))
    left = np.maximum(shift, 0)
    shifted = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)  # int32 wrap as in C
    return _rounding_divide_by_pot(_srdhm(shifted, mult), np.maximum(-shift, 0))


def binary_dot(x: np.ndarray, p: XnorParams) -> np.ndarray:
    """The binary dot products, int64 [out_h * out_w, out_c]: sum over in-image taps of sign(x) * w."""
    x = np.asarray(x).reshape(p.in_h, p.in_w, p.in_c).astype(np.int32)
    s = np.where(x >= p.threshold[None, None, :], 1, -1).astype(np.int64)
    padded = np.zeros((p.in_h + p.filter_h + p.stride_h * p.out_h, p.in_w + p.filter_w + p.stride_w * p.out_w,
                       p.in_c), np.int64)  # 0 = padded tap
    padded[p.pad_top:p.pad_top + p.in_h, p.pad_left:p.pad_left + p.in_w] = s
    cols = np.empty((p.out_h, p.out_w, p.filter_h, p.filter_w, p.in_c), np.int64)
    for ky in range(p.filter_h):
        for kx in range(p.filter_w):
            cols[:, :, ky, kx] = padded[ky:ky + p.stride_h * p.out_h:p.stride_h,
                                        kx:kx + p.stride_w * p.out_w:p.stride_w]
    w = unpack_signs(p.weights, p.filter_h * p.filter_w * p.in_c).astype(np.int64)
    return cols.reshape(p.out_h * p.out_w, -1) @ w.T


def xnor_conv2d_s8(x: np.ndarray, p: XnorParams) -> np.ndarray:
    """Reference of ``th_xnor_conv2d_s8``: int8 [1, in_h, in_w, in_c] -> int8 [1, out_h, out_w, out_c]."""
    acc = binary_dot(x, p) * DOT_SCALE + p.bias[None, :].astype(np.int64)
    y = multiply_by_quantized_multiplier(acc, p.multiplier[None, :], p.shift[None, :]) + p.output_offset
    return np.clip(y, p.act_min, p.act_max).astype(np.int8).reshape(1, p.out_h, p.out_w, p.out_c)
