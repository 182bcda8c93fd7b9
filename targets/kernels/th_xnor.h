/* Binary convolution (XNOR-Net, Rastegari et al. 2016): tinyhil's CUSTOM operator TH_XNOR_CONV_2D.
 *
 * The operator and its arithmetic are specified in harness/reference/xnor.py, whose numpy reference
 * this kernel matches bit for bit (tests/kernels/test_xnor.py).  Per output pixel the input signs of the
 * window (+1 iff x >= threshold[c]) are packed into 32-bit words with a mask of the in-image taps; per filter
 *   dot = 2 * popcount(~(signs ^ weights) & valid) - popcount(valid)      (padded taps contribute 0)
 *   acc = dot * dot_scale + bias[c]                                       (int32)
 *   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]) + output_offset, act_min, act_max)
 * All parameters are computed at compile time by harness/codegen/ops/xnor.py.
 *
 * Layouts: input int8 NHWC [1][in_h][in_w][in_c], output int8 [1][out_h][out_w][out_c]; weights uint32
 * [out_c][words], tap k = (ky * filter_w + kx) * in_c + c in bit k % 32 of word k / 32 (1 = +1).
 * Scratch: 8 * words bytes, 4-byte aligned (the packed signs and the valid mask of one window).
 */
#ifndef TH_XNOR_H
#define TH_XNOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t words;                 /* ceil(filter_h * filter_w * in_c / 32) */
    int32_t dot_scale;             /* accumulator units per unit of the binary dot product */
    int32_t output_offset;         /* output zero point */
    int32_t act_min, act_max;      /* clamp, int8 domain */
    const int32_t *threshold;      /* [in_c] sign = +1 iff x >= threshold[c] */
    const uint32_t *weights;       /* [out_c][words] packed sign bits */
    const int32_t *multiplier;     /* [out_c] requantization significands */
    const int32_t *shift;          /* [out_c] requantization exponents (>0 left, <0 right) */
    const int32_t *bias;           /* [out_c] bias in accumulator units */
} th_xnor_conv_s8_params;

void th_xnor_conv2d_s8(const th_xnor_conv_s8_params *p, const int8_t *input, int8_t *output, int8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TH_XNOR_H */
