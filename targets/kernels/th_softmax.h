/* SOFTMAX over the last axis, int8 (s8) and float32 (f32).
 *
 * Semantics reproduced (re-implemented, not copied):
 *   th_softmax_s8   TFLite reference_ops::Softmax<int8_t, int8_t> (kernels/internal/reference/softmax.h), the
 *                   gemmlowp fixed-point path TFLM's kernels/softmax.cc runs for int8 input and int8 output:
 *                   differences to the row maximum rescaled into Q5.26 by input_multiplier * 2^input_left_shift,
 *                   exp_on_negative_values, sum of exps in Q12.19, GetReciprocal, output = exp / sum in units
 *                   of 1/256 minus 128.  Bit-exact.
 *   th_softmax_f32  TFLite reference_ops::Softmax (float): exp((x - max) * beta) / sum, same loop order.
 *
 * Layout: the tensor is outer_size rows of depth contiguous values (the last axis is softmaxed), any rank.
 * Parameters are computed at compile time by harness/codegen/ops/softmax.py (TFLM computes the same at
 * prepare time, kernels/softmax_common.cc CalculateSoftmaxParams):
 *   input_multiplier, input_left_shift  PreprocessSoftmaxScaling(beta, input_scale, 5):
 *                     QuantizeMultiplierGreaterThanOne(min(beta * input_scale * 2^26, 2^31 - 1)),
 *                     real = input_multiplier * 2^(input_left_shift - 31), input_left_shift in 0..31.
 *   diff_min          -CalculateInputRadius(5, input_left_shift): inputs more than this many quanta below the
 *                     row maximum give exp = 0 and output -128.
 * The int8 output must be quantized with scale 1/256 and zero point -128 (TFLM requires it).
 */
#ifndef TH_SOFTMAX_H
#define TH_SOFTMAX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t outer_size;        /* number of rows (product of all but the last dimension) */
    int32_t depth;             /* last dimension: values per row */
    int32_t input_multiplier;  /* Q0.31 significand of beta * input_scale * 2^26 */
    int32_t input_left_shift;  /* its power-of-two exponent, >= 0 */
    int32_t diff_min;          /* smallest (x - row max) in input quanta that still contributes, <= 0 */
} th_softmax_s8_params;

typedef struct {
    int32_t outer_size;        /* number of rows */
    int32_t depth;             /* values per row */
    float beta;                /* inverse temperature (1.0 from Keras/TF) */
} th_softmax_f32_params;

void th_softmax_s8(const th_softmax_s8_params *params, const int8_t *input, int8_t *output);
void th_softmax_f32(const th_softmax_f32_params *params, const float *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_SOFTMAX_H */
