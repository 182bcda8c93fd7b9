/* Fixed-point helpers shared by the int8 kernels.
 *
 * Semantics follow TensorFlow Lite's reference kernels with the default (double) rounding, i.e. gemmlowp's
 * SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT (gemmlowp fixedpoint.h,
 * TFLite kernels/internal/common.h MultiplyByQuantizedMultiplier).  Re-implemented here; int32 wrap-around
 * is done on unsigned types so that no step relies on undefined behaviour.
 */
#ifndef TH_MATH_H
#define TH_MATH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t th_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t th_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t th_clamp_i32(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* (a * b * 2) >> 32 with round-half-away-from-zero; saturates the single overflow case INT32_MIN^2. */
static inline int32_t th_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1LL << 30) : (1LL - (1LL << 30));
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent in 0..31). */
static inline int32_t th_rounding_divide_by_pot(int32_t x, int exponent) {
    const int32_t mask = (int32_t)((1LL << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31): the requantization step of every int8 kernel. */
static inline int32_t th_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return th_rounding_divide_by_pot(th_sat_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

#ifdef __cplusplus
}
#endif

#endif /* TH_MATH_H */
