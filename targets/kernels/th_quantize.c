/* QUANTIZE / DEQUANTIZE kernels; see th_quantize.h for the semantics and parameters. */
#include "th_quantize.h"

#include <math.h>

#include "th_math.h"

void th_quantize_f32(const th_quantize_f32_params *params, const float *input, int8_t *output) {
    int32_t i;
    for (i = 0; i < params->size; ++i) {
        /* roundf(x / scale), clamped in float before the int32 cast so that huge values and NaN are defined
         * (TFLM's cast is undefined there) */
        float q = roundf(input[i] / params->scale);
        q = q > -256.0f ? q : -256.0f; /* also maps NaN to -256 */
        q = q < 256.0f ? q : 256.0f;
        output[i] = (int8_t)th_clamp_i32((int32_t)q + params->zero_point, -128, 127);
    }
}

void th_quantize_s8(const th_quantize_s8_params *params, const int8_t *input, int8_t *output) {
    int32_t i;
    for (i = 0; i < params->size; ++i) {
        const int32_t v = th_multiply_by_quantized_multiplier((int32_t)input[i] - params->input_zero_point,
                                                              params->multiplier, params->shift) +
                          params->output_zero_point;
        output[i] = (int8_t)th_clamp_i32(v, -128, 127);
    }
}

void th_dequantize_s8(const th_dequantize_s8_params *params, const int8_t *input, float *output) {
    int32_t i;
    for (i = 0; i < params->size; ++i) {
        output[i] = params->scale * (float)((int32_t)input[i] - params->zero_point);
    }
}
