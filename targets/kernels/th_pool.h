/* Pooling kernels: MAX_POOL_2D, AVERAGE_POOL_2D.  (MEAN, a reduction, is in th_reduce.h.)
 *
 * Semantics reproduced (re-implemented, not copied): TFLite reference_integer_ops::MaxPool / AveragePool
 * (kernels/internal/reference/integer_ops/pooling.h) and reference_ops::MaxPool / AveragePool for float
 * (kernels/internal/reference/pooling.h), as called by TFLM kernels/pooling.cc.  Windows are clipped to the
 * input: the average divides by the number of valid elements of the window (SAME padding never counts padded
 * elements); int8 rounds that division half away from zero; int8 pools assume (as TFLM does) that input and
 * output share scale and zero point.
 *
 * Layouts: pools take NHWC int8/float tensors.
 */
#ifndef TH_POOL_H
#define TH_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2-D pool geometry, shared by the int8 and float kernels.  All counts in elements.
 *   batches, in_h, in_w, channels : input NHWC shape;  out_h, out_w : output spatial size (same N and C)
 *   filter_h, filter_w, stride_h, stride_w : window and step
 *   pad_h, pad_w : implicit padding before the first row/column (TFLite ComputePaddingHeightWidth; 0 for VALID)
 *   act_min, act_max : clamp range of the fused activation, in the output's quantized domain
 *                      (CalculateActivationRangeQuantized; -128..127 for NONE) */
typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
} th_pool_s8_params;

/* As th_pool_s8_params; act_min/act_max are the float clamp range (+-FLT_MAX for no activation). */
typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;
    float act_min, act_max;
} th_pool_f32_params;

/* MAX_POOL_2D: maximum over the valid part of each window, then clamped to [act_min, act_max]. */
void th_max_pool2d_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
/* MAX_POOL_2D int8, optimized variant (th_max_pool2d_ch4_s8.c): four channels per word (SSUB8/SEL on cores
 * with the DSP extension).  Same result as th_max_pool2d_s8. */
void th_max_pool2d_ch4_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
void th_max_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

/* AVERAGE_POOL_2D: sum over the valid part of each window divided by the number of valid elements
 * (int8: int32 sum, division rounded half away from zero), then clamped to [act_min, act_max]. */
void th_avg_pool2d_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
void th_avg_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_POOL_H */
