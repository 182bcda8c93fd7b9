/* gemmlowp-style fixed-point helpers used by the int8 SOFTMAX kernel.
 *
 * Re-implemented (not copied) from the semantics of gemmlowp's fixedpoint/fixedpoint.h as TensorFlow Lite's
 * reference kernels use it (kernels/internal/reference/softmax.h, kernels/internal/common.h GetReciprocal).
 * A value of type "Qm" below is a gemmlowp FixedPoint<int32_t, m>: raw int32 r represents r * 2^(m - 31).
 * Products of Qa and Qb are Q(a+b) computed by th_sat_rounding_doubling_high_mul (th_math.h).  Additions
 * are done on unsigned types so that no step relies on undefined behaviour (the values never actually wrap).
 */
#ifndef TH_FIXEDPOINT_H
#define TH_FIXEDPOINT_H

#include <stdint.h>

#include "th_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* a + b with int32 wrap-around (gemmlowp FixedPoint operator+ on raw values). */
static inline int32_t th_fp_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* a - b with int32 wrap-around. */
static inline int32_t th_fp_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* Fixed-point product: gemmlowp SaturatingRoundingDoublingHighMul. */
static inline int32_t th_fp_mul(int32_t a, int32_t b) { return th_sat_rounding_doubling_high_mul(a, b); }

/* x * 2^exponent for 1 <= exponent <= 31, saturating to INT32_MIN/INT32_MAX
 * (gemmlowp SaturatingRoundingMultiplyByPOT with a positive exponent). */
static inline int32_t th_fp_sat_shift_left(int32_t x, int exponent) {
    const int32_t threshold = (int32_t)((1UL << (31 - exponent)) - 1UL);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2 rounded half away from zero, computed in 64 bits (gemmlowp RoundingHalfSum for int32). */
static inline int32_t th_fp_rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* Number of leading zero bits of x (32 for 0); portable, used once per softmax row. */
static inline int th_fp_count_leading_zeros(uint32_t x) {
    int n = 0;
    if (x == 0U) {
        return 32;
    }
    while ((x & 0x80000000UL) == 0U) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* exp(a) for a in [-1/4, 0), a and result in Q0: Taylor series around -1/8 to 4th order
 * (gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl). */
static inline int32_t th_fp_exp_on_interval_neg_quarter_to_0(int32_t a) {
    const int32_t constant_term = 1895147668;   /* exp(-1/8) in Q0 */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 in Q0 */
    const int32_t x = th_fp_add(a, 1 << 28);     /* x = a + 1/8 */
    const int32_t x2 = th_fp_mul(x, x);
    const int32_t x3 = th_fp_mul(x2, x);
    const int32_t x4 = th_fp_mul(x2, x2);
    const int32_t x4_over_4 = th_rounding_divide_by_pot(x4, 2);
    /* x^4/24 + x^3/6 + x^2/2 = ((x^4/4 + x^3) / 3 + x^2) / 2 */
    const int32_t poly = th_rounding_divide_by_pot(
        th_fp_add(th_fp_mul(th_fp_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return th_fp_add(constant_term, th_fp_mul(constant_term, th_fp_add(x, poly)));
}

/* exp(a) for a <= 0; a in Q5 (5 integer bits, 26 fractional), result in Q0
 * (gemmlowp exp_on_negative_values<int32_t, 5>): exp of a mod 1/4 by the series above, then one constant
 * factor exp(-2^k) per set bit k of the remaining multiple of 1/4 (k = -2..4). */
static inline int32_t th_fp_exp_on_negative_values_q5(int32_t a) {
    static const int32_t k_barrel[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242         /* exp(-16)  */
    };
    const int32_t one_quarter = 1 << 24; /* 1/4 in Q5 */
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = th_fp_sub(a & mask, one_quarter);
    /* Rescale Q5 -> Q0: saturating multiply by 2^5 */
    int32_t result = th_fp_exp_on_interval_neg_quarter_to_0(th_fp_sat_shift_left(a_mod_quarter_minus_quarter, 5));
    const int32_t remainder = th_fp_sub(a_mod_quarter_minus_quarter, a);
    int k;
    for (k = 0; k < 7; ++k) {
        if (remainder & (int32_t)(1L << (24 + k))) {
            result = th_fp_mul(result, k_barrel[k]);
        }
    }
    return a == 0 ? INT32_MAX : result; /* exp(0) = 1 = INT32_MAX in Q0 */
}

/* 1 / (1 + a) for a in [0, 1), a and result in Q0, by three Newton-Raphson steps on the half denominator
 * with the 48/17 - 32/17 * d initial estimate (gemmlowp one_over_one_plus_x_for_x_in_0_1). */
static inline int32_t th_fp_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
    const int32_t constant_48_over_17 = 1515870810;      /* Q2 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2 */
    const int32_t one_q2 = 1 << 29;
    const int32_t half_denominator = th_fp_rounding_half_sum(a, INT32_MAX); /* Q0 */
    int32_t x = th_fp_add(constant_48_over_17, th_fp_mul(half_denominator, constant_neg_32_over_17)); /* Q2 */
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = th_fp_mul(half_denominator, x);           /* Q2 */
        const int32_t one_minus = th_fp_sub(one_q2, half_denominator_times_x);             /* Q2 */
        x = th_fp_add(x, th_fp_sat_shift_left(th_fp_mul(x, one_minus), 2));             /* Q4 -> Q2 */
    }
    /* x / 2 as Q1 (same raw value), rescaled to Q0 */
    return th_fp_sat_shift_left(x, 1);
}

/* Reciprocal of a positive Q(x_integer_digits) value x: returns 1/x' in Q0 where x' = x / 2^num_bits_over_unit
 * is x normalised into [1, 2) (TFLite common.h GetReciprocal). */
static inline int32_t th_fp_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit) {
    const int headroom_plus_one = th_fp_count_leading_zeros((uint32_t)x);
    const uint32_t normalised = headroom_plus_one < 32 ? (uint32_t)x << headroom_plus_one : 0U;
    const int32_t shifted_minus_one = (int32_t)(normalised - 0x80000000UL);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return th_fp_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

#ifdef __cplusplus
}
#endif

#endif /* TH_FIXEDPOINT_H */
