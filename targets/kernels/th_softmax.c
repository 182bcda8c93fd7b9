/* SOFTMAX kernels; see th_softmax.h for the semantics and parameters. */
#include "th_softmax.h"

#include <math.h>

#include "th_fixedpoint.h"
#include "th_math.h"

/* Fixed-point formats of TFLite's int8 softmax: scaled differences in Q5.26, sum of exps in Q12.19. */
#define TH_SOFTMAX_ACCUM_INTEGER_BITS 12

/* exp((x - max) * beta * input_scale) in Q0.31 for one input difference (diff >= diff_min). */
static int32_t th_softmax_exp_q0(int32_t diff, const th_softmax_s8_params *params) {
    /* MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(diff * 2^left_shift, multiplier) -> Q5.26 */
    const int32_t scaled_diff_q5 =
        th_multiply_by_quantized_multiplier(diff, params->input_multiplier, params->input_left_shift);
    return th_fp_exp_on_negative_values_q5(scaled_diff_q5);
}

void th_softmax_s8(const th_softmax_s8_params *params, const int8_t *input, int8_t *output) {
    const int32_t depth = params->depth;
    int32_t i, c;
    for (i = 0; i < params->outer_size; ++i) {
        const int8_t *in = input + (int32_t)i * depth;
        int8_t *out = output + (int32_t)i * depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int num_bits_over_unit;
        int exponent;
        int32_t shifted_scale;   /* Q0.31: 1 / (sum normalised into [1, 2)) */

        for (c = 0; c < depth; ++c) {
            max_in_row = th_max_i32(max_in_row, in[c]);
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= params->diff_min) {
                /* Rescale Q0.31 -> Q12.19 */
                sum_of_exps = th_fp_add(sum_of_exps,
                                        th_rounding_divide_by_pot(th_softmax_exp_q0(diff, params),
                                                                  TH_SOFTMAX_ACCUM_INTEGER_BITS));
            }
        }
        shifted_scale = th_fp_get_reciprocal(sum_of_exps, TH_SOFTMAX_ACCUM_INTEGER_BITS, &num_bits_over_unit);
        /* exp / sum in units of 2^-8: the Q0.31 product divided by 2^(num_bits_over_unit + 31 - 8).  The
         * exponent exceeds 31 only when the sum of exps is >= 512 (depth >= 512 with many maxima); TFLM
         * aborts there (TFLITE_CHECK), the exact quotient rounds to 0. */
        exponent = num_bits_over_unit + 31 - 8;
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t exp_q0 = th_softmax_exp_q0(diff, params);
                const int32_t unsat =
                    exponent > 31 ? 0 : th_rounding_divide_by_pot(th_fp_mul(shifted_scale, exp_q0), exponent);
                out[c] = (int8_t)th_clamp_i32(unsat - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
}

void th_softmax_f32(const th_softmax_f32_params *params, const float *input, float *output) {
    const int32_t depth = params->depth;
    int32_t i, c;
    for (i = 0; i < params->outer_size; ++i) {
        const float *in = input + (int32_t)i * depth;
        float *out = output + (int32_t)i * depth;
        float max = -3.402823466e+38f; /* std::numeric_limits<float>::lowest() */
        float sum = 0.0f;
        for (c = 0; c < depth; ++c) {
            max = max < in[c] ? in[c] : max;
        }
        for (c = 0; c < depth; ++c) {
            const float e = expf((in[c] - max) * params->beta);
            out[c] = e;
            sum += e;
        }
        for (c = 0; c < depth; ++c) {
            out[c] = out[c] / sum;
        }
    }
}
