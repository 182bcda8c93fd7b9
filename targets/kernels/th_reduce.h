/* Reduction kernels: MEAN, int8 and float32; defined in th_reduce.c.
 *
 * Semantics reproduced (re-implemented, not copied): TFLM kernels/reduce_common.cc EvalMeanHelper: float MEAN
 * (reference_ops::Mean) and int8 MEAN (reference_ops::QuantizedMeanOrSum, with the multiplier folded with
 * 1/count at compile time).  The TFLM this is checked against (tflite-micro 2026) takes the
 * QuantizedMeanOrSum path for every int8 MEAN, also when input and output quantization are identical and for
 * 4-D keep_dims means over H, W (older TFLM releases had a truncating raw-sum path and a 4-D special case
 * there).
 *
 * Layout: MEAN takes its input viewed as at most 3 groups of kept dimensions (the output, row-major) and 3
 * groups of reduced dimensions; the compiler merges adjacent dimensions and pads unused groups with size 1
 * (see harness/codegen/ops/reduce.py).
 */
#ifndef TH_REDUCE_H
#define TH_REDUCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#endif /* TH_REDUCE_H */
