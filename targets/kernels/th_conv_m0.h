/* ARMv6-M (Cortex-M0/M0+) kernel variants: no SIMD, so the inner loops are written for Thumb-1 (32-bit
 * multiplies, LDM, accumulators kept in registers).  Each has a portable C twin (host and other cores) with the
 * same semantics, so host tests check the same blocking and the rp2040 twin checks the assembly.
 */
#ifndef TH_CONV_M0_H
#define TH_CONV_M0_H

#include <stdint.h>

#include "th_conv.h"
#include "th_fully_connected.h"

#ifdef __cplusplus
extern "C" {
#endif

/* acc[p] += sum_{k < K} w[k] * col[4k + p] for p = 0..3.  col: K * 4 int32, 4-byte aligned; w: K int8.
 * Thumb-1 assembly on ARMv6-M (th_dot_1x4_m0_s8.S), C elsewhere (th_conv2d_im2col_m0_s8.c). */
void th_dot_1x4_m0_s8(const int32_t *col, const int8_t *w, int32_t K, int32_t acc[4]);

/* acc[j] = th_requant_scale(acc[j], multiplier, shift) for j < 4 (th_requant.h); shift <= -2 only.
 * Thumb-1 assembly on ARMv6-M (th_requant4_m0_s8.S), C elsewhere (th_conv2d_im2col_m0_s8.c). */
void th_requant4_m0_s8(int32_t acc[4], int32_t multiplier, int32_t shift);

/* CONV_2D int8 for cores without the DSP extension (th_conv2d_im2col_m0_s8.c): four output pixels at a time,
 * their receptive fields gathered as interleaved int32 columns, then each output channel's filter row meets
 * all four (th_dot_1x4_m0_s8).  Semantics and parameters as th_conv2d_s8 (th_conv.h), bit-exact.
 * scratch: th_conv2d_im2col_m0_s8_get_buffer_size(p) bytes (16 per filter tap x input channel), 4-byte aligned. */
void th_conv2d_im2col_m0_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output,
                            int8_t *scratch);
int32_t th_conv2d_im2col_m0_s8_get_buffer_size(const th_conv_s8_params *p);

/* DEPTHWISE_CONV_2D int8, depth multiplier 1, up to 64 taps, for cores without the DSP extension
 * (th_depthwise_conv2d_m0_s8.c): byte loads, one accumulator per channel.  Semantics as th_depthwise_conv2d_s8
 * (th_conv.h), bit-exact.  No scratch. */
void th_depthwise_conv2d_m0_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output);

/* acc[i] += sum_{fy, fx < 3} x[i + fy * row + fx * C] * f[i + (3 * fy + fx) * C] for i < n: an interior 3x3
 * depthwise window of n channels.  Thumb-1 assembly on ARMv6-M (th_dw3x3_m0_s8.S), C elsewhere. */
void th_dw3x3_m0_s8(const int8_t *x, const int8_t *f, int32_t C, int32_t row, int32_t n, int32_t *acc);

/* acc[r] += sum_{k < depth} x[k] * w[r * depth + k] for r = 0..3 (four weight rows, one input vector).
 * Thumb-1 assembly on ARMv6-M (th_dot_4x1_m0_s8.S), C elsewhere (th_fully_connected_m0_s8.c). */
void th_dot_4x1_m0_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t acc[4]);

/* FULLY_CONNECTED int8 for cores without the DSP extension (th_fully_connected_m0_s8.c): four rows at a time
 * (th_dot_4x1_m0_s8).  Semantics as th_fully_connected_s8 (th_fully_connected.h), bit-exact.  No scratch. */
void th_fully_connected_m0_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                              int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_CONV_M0_H */
