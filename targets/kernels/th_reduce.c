/* MEAN for int8 and float32 (see th_reduce.h for the parameter layout and the TFLM paths reproduced).
 *
 * TFLM sums into a scratch buffer while walking the input in row-major order; here each output element is
 * summed on its own, visiting its reduced elements in the same row-major order, so float sums are
 * accumulated in the same order and no scratch buffer is needed. */
#include "th_reduce.h"

#include "th_math.h"

/* Offset (in elements) of the first input element of the output element (k0, k1, k2). */
static int32_t th_mean_base(const th_mean_params *p, int32_t k0, int32_t k1, int32_t k2) {
    return k0 * p->kept_stride[0] + k1 * p->kept_stride[1] + k2 * p->kept_stride[2];
}

/* int32 sum of the raw int8 values reduced into one output element. */
static int32_t th_mean_sum_s8(const th_mean_params *p, const int8_t *in) {
    int32_t sum = 0;
    for (int32_t r0 = 0; r0 < p->red_size[0]; ++r0) {
        for (int32_t r1 = 0; r1 < p->red_size[1]; ++r1) {
            const int8_t *row = in + r0 * p->red_stride[0] + r1 * p->red_stride[1];
            for (int32_t r2 = 0; r2 < p->red_size[2]; ++r2) {
                sum += row[r2 * p->red_stride[2]];
            }
        }
    }
    return sum;
}

void th_mean_s8(const th_mean_params *p, const int8_t *input, int8_t *output) {
    for (int32_t k0 = 0; k0 < p->kept_size[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->kept_size[1]; ++k1) {
            for (int32_t k2 = 0; k2 < p->kept_size[2]; ++k2) {
                const int32_t sum = th_mean_sum_s8(p, input + th_mean_base(p, k0, k1, k2));
                /* QuantizedMeanOrSum: remove the input zero point, rescale by in/out scale and 1/count. */
                const int32_t shifted = sum - p->input_zp * p->count;
                const int32_t out = th_multiply_by_quantized_multiplier(shifted, p->multiplier, p->shift)
                                    + p->output_zp;
                *output++ = (int8_t)th_clamp_i32(out, -128, 127);
            }
        }
    }
}

void th_mean_f32(const th_mean_params *p, const float *input, float *output) {
    for (int32_t k0 = 0; k0 < p->kept_size[0]; ++k0) {
        for (int32_t k1 = 0; k1 < p->kept_size[1]; ++k1) {
            for (int32_t k2 = 0; k2 < p->kept_size[2]; ++k2) {
                const float *in = input + th_mean_base(p, k0, k1, k2);
                float sum = 0.0f;
                for (int32_t r0 = 0; r0 < p->red_size[0]; ++r0) {
                    for (int32_t r1 = 0; r1 < p->red_size[1]; ++r1) {
                        const float *row = in + r0 * p->red_stride[0] + r1 * p->red_stride[1];
                        for (int32_t r2 = 0; r2 < p->red_size[2]; ++r2) {
                            sum += row[r2 * p->red_stride[2]];
                        }
                    }
                }
                *output++ = sum / (float)p->count;
            }
        }
    }
}
