/* QUANTIZE and DEQUANTIZE: float32 -> int8, int8 -> int8 (requantize), int8 -> float32.
 *
 * Semantics reproduced (re-implemented, not copied):
 *   th_quantize_f32    TFLite reference_ops::AffineQuantize (kernels/internal/reference/quantize.h):
 *                      q = clamp(roundf(x / scale) + zero_point, -128, 127), float32 division, roundf()
 *                      halves away from zero (TfLiteRound).
 *   th_quantize_s8     TFLite reference_ops::Requantize (kernels/internal/reference/requantize.h):
 *                      q = clamp(MultiplyByQuantizedMultiplier(x - input_zero_point, multiplier, shift)
 *                                + output_zero_point, -128, 127).
 *   th_dequantize_s8   TFLite reference_ops::Dequantize (kernels/internal/reference/dequantize.h):
 *                      x = scale * (float)(q - zero_point) in float32.
 * These are the kernels TFLM's kernels/quantize.cc and dequantize.cc run; all three are bit-exact (one
 * correctly rounded float32 operation per element, as TFLM's).
 *
 * Layout: flat arrays of size elements (any shape).  Parameters are computed at compile time by
 * harness/codegen/ops/quantize.py (TFLM: kernels/quantize_common.cc PrepareQuantizeReference,
 * dequantize_common.cc):
 *   th_quantize_s8: multiplier/shift = QuantizeMultiplier(input_scale / output_scale),
 *                   real = multiplier * 2^(shift - 31).
 */
#ifndef TH_QUANTIZE_H
#define TH_QUANTIZE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;           /* elements */
    float scale;            /* output scale */
    int32_t zero_point;     /* output zero point */
} th_quantize_f32_params;

typedef struct {
    int32_t size;               /* elements */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;         /* input_scale / output_scale significand */
    int32_t shift;              /* its power-of-two exponent (> 0 left) */
} th_quantize_s8_params;

typedef struct {
    int32_t size;           /* elements */
    float scale;            /* input scale */
    int32_t zero_point;     /* input zero point */
} th_dequantize_s8_params;

void th_quantize_f32(const th_quantize_f32_params *params, const float *input, int8_t *output);
void th_quantize_s8(const th_quantize_s8_params *params, const int8_t *input, int8_t *output);
void th_dequantize_s8(const th_dequantize_s8_params *params, const int8_t *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_QUANTIZE_H */
