/* Requantization of int32 accumulators to int8, bit-exact with TFLite's MultiplyByQuantizedMultiplier
 * (kernels/internal/common.h: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT; the portable form is
 * th_multiply_by_quantized_multiplier in th_math.h), written for speed:
 *
 *   SaturatingRoundingDoublingHighMul(x, m) = trunc((x*m + nudge) / 2^31) with nudge = 2^30 for x*m >= 0 and
 *   1 - 2^30 otherwise.  For x*m < 0 the numerator is <= -2^30 < 0, and trunc(v / 2^31) of a negative v equals
 *   floor((v + 2^31 - 1) / 2^31) = floor((x*m + 2^30) / 2^31); for x*m >= 0 it is floor((x*m + 2^30) / 2^31)
 *   directly.  So the result is (x*m + 2^30) >> 31 (arithmetic, 64-bit) in both cases: one SMULL, a 64-bit add
 *   and a shift.  The saturating case x = m = INT32_MIN cannot occur: multipliers are QuantizeMultiplier
 *   significands in [2^30, 2^31) or 0 (harness/codegen/quant.py).
 *   RoundingDivideByPOT is kept as TFLite writes it (round half away from zero).
 */
#ifndef TH_REQUANT_H
#define TH_REQUANT_H

#include <stdint.h>

#include "th_simd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* acc * 2^left * multiplier * 2^-31 * 2^-right with TFLite's two roundings; multiplier in [0, 2^31), left and
 * right in [0, 31] (at most one of them nonzero: th_requant_shifts). */
static inline int32_t th_requant_apply(int32_t acc, int32_t multiplier, int32_t left, int32_t right) {
    const int32_t x = (int32_t)((uint32_t)acc << left);
    const int32_t high = th_mul_round_high(x, multiplier);
    const int32_t mask = (int32_t)((1UL << right) - 1UL);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)high >> 31);
    return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

/* TFLite's shift (>0 left, <0 right) as the two non-negative shifts of th_requant_apply. */
static inline void th_requant_shifts(int32_t shift, int32_t *left, int32_t *right) {
    *left = shift > 0 ? shift : 0;
    *right = shift > 0 ? 0 : -shift;
}

/* acc * multiplier * 2^(shift - 31), TFLite rounding; multiplier in [0, 2^31), shift in [-31, 30]. */
static inline int32_t th_requant_scale(int32_t acc, int32_t multiplier, int32_t shift) {
    int32_t left, right;
    th_requant_shifts(shift, &left, &right);
    return th_requant_apply(acc, multiplier, left, right);
}

/* Add the output zero point and clamp to [act_min, act_max] (int8 domain). */
static inline int8_t th_requant_clamp(int32_t v, int32_t output_offset, int32_t act_min, int32_t act_max) {
    v += output_offset;
    v = v < act_min ? act_min : v;
    return (int8_t)(v > act_max ? act_max : v);
}

/* Scale, add the output zero point, clamp to [act_min, act_max] (int8 domain). */
static inline int8_t th_requant_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                   int32_t act_min, int32_t act_max) {
    return th_requant_clamp(th_requant_scale(acc, multiplier, shift), output_offset, act_min, act_max);
}

#ifdef __cplusplus
}
#endif

#endif /* TH_REQUANT_H */
