/* ADD and MUL kernels; see th_elementwise.h for the semantics and parameters.
 *
 * Each kernel is one per-element function applied either over a flat array (same shapes) or over the 4-D
 * output index space with per-input strides (broadcast); the element order does not change any result. */
#include "th_elementwise.h"

#include "th_math.h"

/* Visit every output element of a broadcast op: i1/i2/o are the input/output element offsets. */
#define TH_BROADCAST_LOOP(p, BODY)                                                                   \
    do {                                                                                             \
        if (!(p)->broadcast) {                                                                       \
            int32_t o;                                                                               \
            for (o = 0; o < (p)->size; ++o) {                                                        \
                const int32_t i1 = o, i2 = o;                                                        \
                BODY;                                                                                \
            }                                                                                        \
        } else {                                                                                     \
            int32_t a, b, c, d, o = 0;                                                               \
            for (a = 0; a < (p)->out_shape[0]; ++a) {                                                \
                for (b = 0; b < (p)->out_shape[1]; ++b) {                                            \
                    for (c = 0; c < (p)->out_shape[2]; ++c) {                                        \
                        const int32_t base1 = a * (p)->in1_strides[0] + b * (p)->in1_strides[1] +    \
                                              c * (p)->in1_strides[2];                               \
                        const int32_t base2 = a * (p)->in2_strides[0] + b * (p)->in2_strides[1] +    \
                                              c * (p)->in2_strides[2];                               \
                        for (d = 0; d < (p)->out_shape[3]; ++d, ++o) {                               \
                            const int32_t i1 = base1 + d * (p)->in1_strides[3];                      \
                            const int32_t i2 = base2 + d * (p)->in2_strides[3];                      \
                            BODY;                                                                    \
                        }                                                                            \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    } while (0)

/* TFLite AddFunc (int8). */
static int8_t th_add_s8_element(const th_add_s8_params *p, int32_t x, int32_t y) {
    const int32_t shifted1 = (p->input1_offset + x) * (1 << p->left_shift);
    const int32_t shifted2 = (p->input2_offset + y) * (1 << p->left_shift);
    const int32_t scaled1 = th_multiply_by_quantized_multiplier(shifted1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = th_multiply_by_quantized_multiplier(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = th_multiply_by_quantized_multiplier(scaled1 + scaled2, p->output_multiplier,
                                                            p->output_shift) + p->output_offset;
    return (int8_t)th_clamp_i32(raw, p->act_min, p->act_max);
}

/* TFLite MulElementwise (int8). */
static int8_t th_mul_s8_element(const th_mul_s8_params *p, int32_t x, int32_t y) {
    const int32_t prod = (p->input1_offset + x) * (p->input2_offset + y);
    const int32_t raw = th_multiply_by_quantized_multiplier(prod, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return (int8_t)th_clamp_i32(raw, p->act_min, p->act_max);
}

/* ActivationFunctionWithMinMax: min(max(x, lo), hi). */
static float th_clamp_f32(float x, float lo, float hi) {
    const float y = x < lo ? lo : x;
    return hi < y ? hi : y;
}

void th_add_s8(const th_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output) {
    TH_BROADCAST_LOOP(params, output[o] = th_add_s8_element(params, input1[i1], input2[i2]));
}

void th_mul_s8(const th_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output) {
    TH_BROADCAST_LOOP(params, output[o] = th_mul_s8_element(params, input1[i1], input2[i2]));
}

void th_add_f32(const th_elementwise_f32_params *params, const float *input1, const float *input2, float *output) {
    TH_BROADCAST_LOOP(params,
                      output[o] = th_clamp_f32(input1[i1] + input2[i2], params->act_min, params->act_max));
}

void th_mul_f32(const th_elementwise_f32_params *params, const float *input1, const float *input2, float *output) {
    TH_BROADCAST_LOOP(params,
                      output[o] = th_clamp_f32(input1[i1] * input2[i2], params->act_min, params->act_max));
}
