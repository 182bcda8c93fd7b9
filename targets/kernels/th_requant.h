/* Requantization of int32 accumulators to int8, bit-exact with TFLite's MultiplyByQuantizedMultiplier
 * (kernels/internal/common.h: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT; the portable form is
 * th_multiply_by_quantized_multiplier in th_math.h), written for speed:
 *
 *   SaturatingRoundingDoublingHighMul(x, m) = trunc((x*m + nudge) / 2^31) with nudge = 2^30 for x*m >= 0 and
 *   1 - 2^30 otherwise.  For x*m < 0 the numerator is <= -2^30 < 0, and trunc(v / 2^31) of a negative v equals
 *   floor((v + 2^31 - 1) / 2^31) = floor((x*m + 2^30) / 2^31); for x*m >= 0 it is floor((x*m + 2^30) / 2^31)
 *   directly.  So the result is (x*m + 2^30) >> 31 (arithmetic, 64-bit) in both cases: one SMULL, a 64-bit add
 *   and a shift.  The saturating case x = m = INT32_MIN cannot occur: multipliers are QuantizeMultiplier
 *   significands in [2^30, 2^31) or 0 (harness/codegen/quant.py).  RoundingDivideByPOT (round half away from
 *   zero) is folded into the same 64-bit sum, see th_requant_scale.
 */
#ifndef TH_REQUANT_H
#define TH_REQUANT_H

#include <stdint.h>

#include "th_simd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* acc * multiplier * 2^(shift - 31) with TFLite's two roundings; multiplier in [0, 2^31), shift in [-31, 30].
 *
 * shift >= 0: SaturatingRoundingDoublingHighMul(acc << shift, multiplier) as above (no division follows).
 * shift = -r < 0: with P = acc * multiplier, y = floor((P + 2^30) / 2^31) and TFLite's
 *   RoundingDivideByPOT(y, r) = floor((y + 2^(r-1) - [y < 0]) / 2^r)   (round half away from zero),
 * and floor((floor(u) + k) / n) = floor((u + k) / n) for integers k, n > 0, the two steps are one:
 *   floor((P + 2^30 + 2^(30+r) - [y < 0] * 2^31) / 2^(31+r)).
 * [y < 0] may be replaced by [acc < 0]: they differ only when -2^30 <= P < 0, where y = 0 and both choices
 * give 0 (r >= 1).  With L = 2^30 - [acc < 0] * 2^31 (an int32: +-2^30) and the same identity once more, for
 * r >= 2 the result is (hi + 2^(r-2)) >> (r-1) where hi = floor((P + L) / 2^32) is the high word of one SMLAL
 * (hi < 2^30, so the add cannot overflow); for r = 1 it is floor((P + L + 2^31) / 2^32). */
#if defined(__ARM_ARCH_6M__) || defined(TH_REQUANT_SPLIT16)
/* ARMv6-M has no 32x32->64 multiply (GCC calls __aeabi_lmul, a generic 64x64 product).  The same sums with
 * four 16x16->32 MULS: a = ah * 2^16 + al, m = mh * 2^16 + ml (al, ml unsigned 16-bit; ah signed, mh in
 * [0, 2^15) since m in [0, 2^31)), a*m = ah*mh * 2^32 + (ah*ml + al*mh) * 2^16 + al*ml, each partial product
 * exact in 32 bits, added into a 64-bit {hi, lo} with carries; then {add_hi, add_lo} is added.  Returns lo and
 * stores hi: the exact two's-complement 64-bit a * m + add.  Host tests build it with TH_REQUANT_SPLIT16. */
static inline uint32_t th_smlal_split16(int32_t a, int32_t m, uint32_t add_lo, int32_t add_hi, int32_t *hi_out) {
    const uint32_t al = (uint32_t)a & 0xFFFFU, ml = (uint32_t)m & 0xFFFFU;
    const int32_t ah = a >> 16, mh = m >> 16;
    const int32_t t2 = ah * (int32_t)ml;     /* |t2| < 2^31 */
    const uint32_t t3 = al * (uint32_t)mh;   /* < 2^31 */
    uint32_t lo = al * ml;
    uint32_t hi = (uint32_t)(ah * mh) + (uint32_t)(t2 >> 16) + (t3 >> 16) + (uint32_t)add_hi;
    uint32_t x = (uint32_t)t2 << 16;
    lo += x;
    hi += lo < x;
    x = t3 << 16;
    lo += x;
    hi += lo < x;
    lo += add_lo;
    hi += lo < add_lo;
    *hi_out = (int32_t)hi;
    return lo;
}

/* th_requant_scale (below) with the 64-bit sums of th_smlal_split16; bit-exact with it. */
static inline int32_t th_requant_scale(int32_t acc, int32_t multiplier, int32_t shift) {
    int32_t hi;
    if (shift >= 0) { /* (x*m + 2^30) >> 31 */
        const uint32_t lo = th_smlal_split16((int32_t)((uint32_t)acc << shift), multiplier, 1UL << 30, 0, &hi);
        return (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
    }
    const int32_t l = (int32_t)(0x40000000UL | ((uint32_t)acc & 0x80000000UL));
    if (shift == -1) { /* (P + l + 2^31) >> 32; l + 2^31 is 2^30 or 3 * 2^30, non-negative */
        (void)th_smlal_split16(acc, multiplier, (uint32_t)l + 0x80000000UL, 0, &hi);
        return hi;
    }
    (void)th_smlal_split16(acc, multiplier, (uint32_t)l, l >> 31, &hi);
    const int32_t r = -shift;
    return (hi + (1 << (r - 2))) >> (r - 1);
}
#else
static inline int32_t th_requant_scale(int32_t acc, int32_t multiplier, int32_t shift) {
    if (shift >= 0) {
        return th_mul_round_high((int32_t)((uint32_t)acc << shift), multiplier);
    }
    const int32_t l = (int32_t)(0x40000000UL | ((uint32_t)acc & 0x80000000UL));
    const int64_t sum = (int64_t)acc * multiplier + l;
    if (shift == -1) {
        return (int32_t)((sum + (1LL << 31)) >> 32);
    }
    const int32_t r = -shift;
    return ((int32_t)(sum >> 32) + (1 << (r - 2))) >> (r - 1);
}
#endif

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
