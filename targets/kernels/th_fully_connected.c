/* FULLY_CONNECTED kernels, int8 and float32.  Semantics and parameter meaning: th_fully_connected.h. */
#include "th_fully_connected.h"

#include <stddef.h>

#include "th_math.h"

/* TFLM reference_integer_ops::FullyConnected / FullyConnectedPerChannel:
 *   acc = bias[o] + sum_d w[o][d] * (x[d] + input_offset)   ==   bias_eff[o] + sum_d w[o][d] * x[d]
 * then MultiplyByQuantizedMultiplier, + output zero point, clamp. */
void th_fully_connected_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output) {
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int8_t *out = output + (size_t)b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const int8_t *w = weights + (size_t)o * depth;
            int32_t acc = 0;
            int32_t d = 0;
            for (; d + 4 <= depth; d += 4) {
                acc += (int32_t)x[d] * w[d] + (int32_t)x[d + 1] * w[d + 1] + (int32_t)x[d + 2] * w[d + 2] +
                       (int32_t)x[d + 3] * w[d + 3];
            }
            for (; d < depth; ++d) {
                acc += (int32_t)x[d] * w[d];
            }
            acc = th_multiply_by_quantized_multiplier(acc + p->bias_eff[o], p->multiplier[o], (int)p->shift[o]);
            out[o] = (int8_t)th_clamp_i32(acc + p->output_offset, p->act_min, p->act_max);
        }
    }
}

/* TFLM reference_ops::FullyConnected (float): total over d in order from 0, bias added last, then
 * min(max(., act_min), act_max). */
void th_fully_connected_f32(const th_fully_connected_f32_params *p, const float *input, const float *weights,
                            const float *bias, float *output) {
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *x = input + (size_t)b * depth;
        float *out = output + (size_t)b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const float *w = weights + (size_t)o * depth;
            float total = 0.0f;
            for (int32_t d = 0; d < depth; ++d) {
                total += x[d] * w[d];
            }
            float v = total + (bias ? bias[o] : 0.0f);
            v = v < p->act_min ? p->act_min : v;
            out[o] = v > p->act_max ? p->act_max : v;
        }
    }
}
