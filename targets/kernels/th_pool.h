/* Pooling and reduction kernels: MAX_POOL_2D, AVERAGE_POOL_2D, MEAN.
 *
 * Semantics reproduced (re-implemented, not copied):
 *   - TFLite reference_integer_ops::MaxPool / AveragePool (kernels/internal/reference/integer_ops/pooling.h)
 *     and reference_ops::MaxPool / AveragePool for float (kernels/internal/reference/pooling.h), as called by
 *     TFLM kernels/pooling.cc.  Windows are clipped to the input: the average divides by the number of
 *     valid elements of the window (SAME padding never counts padded elements); int8 rounds that division
 *     half away from zero; int8 pools assume (as TFLM does) that input and output share scale and zero point.
 *   - TFLM kernels/reduce_common.cc EvalMeanHelper: float MEAN (reference_ops::Mean) and int8 MEAN
 *     (reference_ops::QuantizedMeanOrSum, with the multiplier folded with 1/count at compile time).  The
 *     TFLM this is checked against (tflite-micro 2026) takes the QuantizedMeanOrSum path for every int8
 *     MEAN, also when input and output quantization are identical and for 4-D keep_dims means over H, W
 *     (older TFLM releases had a truncating raw-sum path and a 4-D special case there).
 *
 * Layouts: pools take NHWC int8/float tensors.  MEAN takes its input viewed as at most 3 groups of kept
 * dimensions (the output, row-major) and 3 groups of reduced dimensions; the compiler merges adjacent
 * dimensions and pads unused groups with size 1 (see harness/codegen/ops/reduce.py).
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
void th_max_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

/* AVERAGE_POOL_2D: sum over the valid part of each window divided by the number of valid elements
 * (int8: int32 sum, division rounded half away from zero), then clamped to [act_min, act_max]. */
void th_avg_pool2d_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
void th_avg_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

/* MEAN over some axes, any keep_dims.  The input (row-major) is addressed as
 *   input[k0*kept_stride[0] + k1*kept_stride[1] + k2*kept_stride[2]
 *         + r0*red_stride[0] + r1*red_stride[1] + r2*red_stride[2]]
 * with k_i < kept_size[i] (output elements, written in row-major k0,k1,k2 order) and r_i < red_size[i]
 * (the reduced elements, visited in input row-major order).  Strides are in elements.
 *   count          : red_size[0]*red_size[1]*red_size[2], the number of elements averaged
 * int8 only (th_mean_s8, QuantizedMeanOrSum; unused by th_mean_f32):
 *   input_zp, output_zp : zero points
 *   multiplier, shift   : QuantizeMultiplier(input_scale / output_scale), then folded with 1/count as TFLM
 *                         does: s = min(floor(log2(count)), 32, 31 + shift);
 *                         multiplier = (multiplier << s) / count; shift -= s
 *   out = clamp(MultiplyByQuantizedMultiplier(sum - input_zp*count, multiplier, shift) + output_zp)
 * th_mean_f32: float sum in input order divided by (float)count. */
typedef struct {
    int32_t kept_size[3], kept_stride[3];
    int32_t red_size[3], red_stride[3];
    int32_t count;
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
} th_mean_params;

void th_mean_s8(const th_mean_params *params, const int8_t *input, int8_t *output);
void th_mean_f32(const th_mean_params *params, const float *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_POOL_H */
