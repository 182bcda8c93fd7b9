/* Convolution family: CONV_2D and DEPTHWISE_CONV_2D, int8 (s8) and float32 (f32).  FULLY_CONNECTED, which
 * shares the requantization scheme below, has its own header: th_fully_connected.h.
 *
 * Semantics reproduced (re-implemented, not copied):
 *   th_conv2d_s8            TFLite reference_integer_ops::ConvPerChannel            (integer_ops/conv.h)
 *   th_depthwise_conv2d_s8  TFLite reference_integer_ops::DepthwiseConvPerChannel   (integer_ops/depthwise_conv.h)
 *   th_conv2d_f32           TFLite reference_ops::Conv (float)                      (reference/conv.h)
 *   th_depthwise_conv2d_f32 TFLite reference_ops::DepthwiseConv (float)             (reference/depthwiseconv_float.h)
 * which are the kernels the TFLM host interpreter runs.  The int8 kernels are bit-exact with them; the float
 * kernels keep their accumulation order (taps in filter_y, filter_x, channel order; bias added last).
 *
 * Layouts: activations NHWC; CONV_2D filter OHWI [out_c][filter_h][filter_w][in_c]; DEPTHWISE_CONV_2D filter
 * 1HWO [1][filter_h][filter_w][out_c] with out_c = in_c * depth_multiplier (output channel ic*dm + m reads
 * input channel ic).
 *
 * All parameters are computed at compile time by harness/codegen/ops/conv.py
 * (TFLM computes the same at prepare time, kernels/conv_common.cc):
 *   multiplier/shift  per output channel, QuantizeMultiplier(input_scale * filter_scale[c] / output_scale);
 *                     a per-tensor filter scale is broadcast to every channel, real = mult * 2^(shift - 31).
 *   bias_eff          per output channel, bias[c] + input_offset * sum(filter taps of channel c) (bias 0 when
 *                     the model has none).  Since every padded tap of a SAME window reads the input zero point
 *                     (-input_offset), sum over valid taps of f * (x + input_offset) + bias equals
 *                     bias_eff + sum over all taps of f * x_padded with x_padded = -input_offset outside the
 *                     image: exact int32 algebra, so the inner loop needs no per-element offset add.
 *   act_min/act_max   fused activation (NONE/RELU/RELU6) clamp in the output's quantized (s8) or real (f32) domain.
 */
#ifndef TH_CONV_H
#define TH_CONV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Geometry shared by CONV_2D and DEPTHWISE_CONV_2D; all counts in elements. */
#define TH_CONV_GEOMETRY_FIELDS                                                                           \
    int32_t batches;                                                                                      \
    int32_t in_h, in_w, in_c;          /* input  [batches][in_h][in_w][in_c] */                           \
    int32_t out_h, out_w, out_c;       /* output [batches][out_h][out_w][out_c] */                        \
    int32_t filter_h, filter_w;                                                                           \
    int32_t stride_h, stride_w;                                                                           \
    int32_t dilation_h, dilation_w;                                                                       \
    int32_t pad_top, pad_left;         /* implicit zero padding before row 0 / column 0 (SAME), else 0 */ \
    int32_t depth_multiplier;          /* DEPTHWISE_CONV_2D: out_c = in_c * depth_multiplier; CONV_2D: 1 */

typedef struct {
    TH_CONV_GEOMETRY_FIELDS
    int32_t input_offset;          /* -input zero point */
    int32_t output_offset;         /* output zero point */
    int32_t act_min, act_max;      /* clamp, int8 domain */
    const int32_t *multiplier;     /* [out_c] requantization significands */
    const int32_t *shift;          /* [out_c] requantization exponents (>0 left, <0 right) */
    const int32_t *bias_eff;       /* [out_c] bias + input_offset * sum(filter of the channel) */
} th_conv_s8_params;

typedef struct {
    TH_CONV_GEOMETRY_FIELDS
    float act_min, act_max;        /* clamp, real domain */
} th_conv_f32_params;

/* CONV_2D int8: filter OHWI int8 (zero point 0), output int8. */
void th_conv2d_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output);

/* CONV_2D int8, optimized variant (th_conv2d_im2col_s8.c): im2col into an int16 scratch + 2x2 blocked
 * mat-mult (SXTB16/SMLAD on cores with the DSP extension, plain C otherwise).  Same result as th_conv2d_s8.
 * scratch: th_conv2d_im2col_s8_get_buffer_size(p) bytes, 4-byte aligned. */
void th_conv2d_im2col_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output,
                         int8_t *scratch);
int32_t th_conv2d_im2col_s8_get_buffer_size(const th_conv_s8_params *p);

/* CONV_2D int8, the variant the code generator selects (th_conv2d_im2col_pair_s8.c): th_conv2d_im2col_s8's
 * blocking with the two int16 columns interleaved group by group, so one pointer and two LDRD read both; an
 * inline-assembly inner loop on cores with the DSP extension, th_conv2d_im2col_s8 itself on the others.  Same
 * result as th_conv2d_s8.  scratch: th_conv2d_im2col_pair_s8_get_buffer_size(p) bytes (equal to
 * th_conv2d_im2col_s8's), 4-byte aligned. */
void th_conv2d_im2col_pair_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, int8_t *scratch);
int32_t th_conv2d_im2col_pair_s8_get_buffer_size(const th_conv_s8_params *p);

/* CONV_2D float32; bias [out_c] or NULL. */
void th_conv2d_f32(const th_conv_f32_params *p, const float *input, const float *filter, const float *bias,
                   float *output);

/* DEPTHWISE_CONV_2D int8: filter 1HWO. scratch: 4 * out_c bytes, 4-byte aligned (int32 accumulators). */
void th_depthwise_conv2d_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                            int8_t *output, int8_t *scratch);

/* DEPTHWISE_CONV_2D int8, depth multiplier 1, filter_h * filter_w <= 64: four channels at a time in registers
 * (th_depthwise_conv2d_ch4_s8.c).  Same result as th_depthwise_conv2d_s8; no scratch. */
void th_depthwise_conv2d_ch4_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output);

/* DEPTHWISE_CONV_2D float32; bias [out_c] or NULL. scratch: 4 * out_c bytes, 4-byte aligned. */
void th_depthwise_conv2d_f32(const th_conv_f32_params *p, const float *input, const float *filter,
                             const float *bias, float *output, int8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TH_CONV_H */
