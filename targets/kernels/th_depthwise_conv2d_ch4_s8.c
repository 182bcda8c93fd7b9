/* th_depthwise_conv2d_ch4_s8: DEPTHWISE_CONV_2D int8 with depth multiplier 1, four channels at a time.
 * Semantics and parameters: th_conv.h (bit-exact with TFLite reference_integer_ops::DepthwiseConvPerChannel,
 * like th_depthwise_conv2d_s8, its portable reference, which also covers depth multiplier > 1).
 *
 * For one output pixel the window's tap offsets are computed once; then each group of four channels keeps
 * four int32 accumulators in registers over all taps: one word of four input channels and one word of four
 * filter values per tap, split with SXTB16 / SXTB16-ROR8 and accumulated lane by lane with SMLABB / SMLATT
 * (th_simd.h); the four results are requantized at once.  A tap outside the image reads the input zero point
 * (bias_eff, th_conv.h).  The last in_c mod 4 channels run one at a time.  Without the DSP extension the same
 * loop runs with plain multiplies.  No scratch.
 */
#include <stddef.h>

#include "th_conv.h"
#include "th_requant.h"
#include "th_simd.h"

#define TH_DW_MAX_TAPS 64 /* windows up to 8x8; larger ones use th_depthwise_conv2d_s8 (see conv.py) */

void th_depthwise_conv2d_ch4_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output) {
    const int32_t C = p->in_c;
    const int32_t taps = p->filter_h * p->filter_w;
    const int8_t pad = (int8_t)(-p->input_offset);
    const uint32_t pad_word = (uint32_t)(uint8_t)pad * 0x01010101U;
    int32_t offs[TH_DW_MAX_TAPS]; /* input offset of each tap, or -1 outside the image */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * C;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * C;
                int32_t t = 0;
                for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                    const int32_t y = in_y0 + fy * p->dilation_h;
                    for (int32_t fx = 0; fx < p->filter_w; ++fx, ++t) {
                        const int32_t x = in_x0 + fx * p->dilation_w;
                        offs[t] = (y >= 0 && y < p->in_h && x >= 0 && x < p->in_w) ? (y * p->in_w + x) * C : -1;
                    }
                }
                int32_t c = 0;
                for (; c + 4 <= C; c += 4) {
                    int32_t a0 = p->bias_eff[c], a1 = p->bias_eff[c + 1], a2 = p->bias_eff[c + 2],
                            a3 = p->bias_eff[c + 3];
                    const int8_t *f = filter + c;
                    for (int32_t i = 0; i < taps; ++i, f += C) {
                        const int8_t *xp = in_batch + offs[i] + c;
                        const int8_t *fp = f;
                        const uint32_t xw = offs[i] >= 0 ? th_read_s8x4(&xp) : pad_word;
                        const uint32_t fw = th_read_s8x4(&fp);
#if TH_HAVE_DSP
                        const uint32_t x02 = th_sxtb16(xw), x13 = th_sxtb16_ror8(xw);
                        const uint32_t f02 = th_sxtb16(fw), f13 = th_sxtb16_ror8(fw);
                        a0 = th_smlabb(x02, f02, a0);
                        a2 = th_smlatt(x02, f02, a2);
                        a1 = th_smlabb(x13, f13, a1);
                        a3 = th_smlatt(x13, f13, a3);
#else
                        a0 += (int32_t)(int8_t)(xw & 0xFFU) * (int8_t)(fw & 0xFFU);
                        a1 += (int32_t)(int8_t)((xw >> 8) & 0xFFU) * (int8_t)((fw >> 8) & 0xFFU);
                        a2 += (int32_t)(int8_t)((xw >> 16) & 0xFFU) * (int8_t)((fw >> 16) & 0xFFU);
                        a3 += (int32_t)(int8_t)(xw >> 24) * (int8_t)(fw >> 24);
#endif
                    }
                    out[c] = th_requant_s8(a0, p->multiplier[c], p->shift[c], p->output_offset, p->act_min,
                                           p->act_max);
                    out[c + 1] = th_requant_s8(a1, p->multiplier[c + 1], p->shift[c + 1], p->output_offset,
                                               p->act_min, p->act_max);
                    out[c + 2] = th_requant_s8(a2, p->multiplier[c + 2], p->shift[c + 2], p->output_offset,
                                               p->act_min, p->act_max);
                    out[c + 3] = th_requant_s8(a3, p->multiplier[c + 3], p->shift[c + 3], p->output_offset,
                                               p->act_min, p->act_max);
                }
                for (; c < C; ++c) {
                    int32_t a = p->bias_eff[c];
                    for (int32_t i = 0; i < taps; ++i) {
                        const int32_t xv = offs[i] >= 0 ? in_batch[offs[i] + c] : pad;
                        a += xv * filter[i * C + c];
                    }
                    out[c] = th_requant_s8(a, p->multiplier[c], p->shift[c], p->output_offset, p->act_min,
                                           p->act_max);
                }
            }
        }
    }
}
