"""Quantization arithmetic done once at compile time, as TFLite/TFLM does it at prepare time.

Sources: TensorFlow Lite ``kernels/internal/quantization_util.cc`` (QuantizeMultiplier, frexp-based,
31-bit significand), ``kernels/kernel_util.cc`` (CalculateActivationRangeQuantized,
PopulateConvolutionQuantizationParams) and ``kernels/padding.h`` (ComputePaddingHeightWidth).  The formulas
are re-derived here in Python; every result is a plain int consumed by the C kernels.
"""

from __future__ import annotations

import math

import numpy as np

from harness.errors import ModelInvalidError

INT8_MIN, INT8_MAX = -128, 127


def tflite_round(x: float) -> int:
    """std::round semantics: halves away from zero (Python's round() is banker's rounding)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Split a positive real multiplier into (int32 significand in [2^30, 2^31), power-of-two shift).

    real ≈ significand * 2^(shift - 31).  Multipliers below 2^-31 become (0, 0), as in TFLite.
    Raises ModelInvalidError for a negative, infinite or NaN multiplier (from a scale the verifier rejects).
    """
    if not (math.isfinite(real_multiplier) and real_multiplier >= 0.0):
        raise ModelInvalidError(f"requantization multiplier {real_multiplier!r} is not finite and >= 0 (a "
                                "quantization scale is 0, negative, inf or NaN); re-export the model")
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return (1 << 31) - 1, 30
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one(real_multiplier: float) -> tuple[int, int]:
    """As :func:`quantize_multiplier`, for 0 < real < 1 (the shift returned is <= 0)."""
    mult, shift = quantize_multiplier(real_multiplier)
    return mult, shift


def per_channel_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                            channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier int32[channels], shift int32[channels]) for CONV/DEPTHWISE/FC.

    effective_scale[c] = input_scale * filter_scale[c] / output_scale, computed in double from the float32
    scales, exactly as TFLite's PopulateConvolutionQuantizationParams.  A per-tensor filter scale is
    broadcast to every channel.
    """
    mult = np.zeros(channels, np.int32)
    shift = np.zeros(channels, np.int32)
    for c in range(channels):
        fs = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        eff = float(np.float32(input_scale)) * float(np.float32(fs)) / float(np.float32(output_scale))
        mult[c], shift[c] = quantize_multiplier(eff)
    return mult, shift


def activation_range_quantized(activation: str, scale: float, zero_point: int,
                               qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """Clamp range (act_min, act_max) of a fused activation in the quantized domain.

    The real bound is quantized as zero_point + round(bound / scale) in float32, as TFLite does; a bound that
    overflows float32 (a denormal scale) saturates to qmin/qmax.  Raises ValueError for activations other than
    NONE, RELU, RELU6, RELU_N1_TO_1 and ModelInvalidError for a scale that is not finite and positive.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ModelInvalidError(f"quantization scale {scale!r} is not finite and positive; re-export the model")

    def q(f: float) -> int:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            x = float(np.float32(f) / np.float32(scale))
        if not math.isfinite(x):
            return qmax if x > 0 else qmin
        return zero_point + tflite_round(x)

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"fused activation {activation}")


def activation_range_float(activation: str) -> tuple[float, float]:
    """Clamp range of a fused activation for float32 kernels (±FLT_MAX for NONE)."""
    big = float(np.finfo(np.float32).max)
    return {
        "NONE": (-big, big),
        "RELU": (0.0, big),
        "RELU6": (0.0, 6.0),
        "RELU_N1_TO_1": (-1.0, 1.0),
    }[activation]


def output_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    """Output length along one spatial axis (TFLite ComputeOutSize). Raises ModelInvalidError for a stride or
    dilation below 1."""
    if stride < 1 or dilation < 1:
        raise ModelInvalidError(f"stride {stride} / dilation {dilation} below 1; re-export the model")
    eff = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - eff) // stride


def padding_before(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    """Implicit zero padding before the first element (top or left), TFLite ComputePaddingWithOffset.

    For SAME the total padding is max(0, (out-1)*stride + eff_filter - in); the smaller half goes before.
    VALID pads nothing.
    """
    if padding != "SAME":
        return 0
    eff = (filter_size - 1) * dilation + 1
    out = output_size(padding, in_size, filter_size, stride, dilation)
    total = max(0, (out - 1) * stride + eff - in_size)
    return total // 2
