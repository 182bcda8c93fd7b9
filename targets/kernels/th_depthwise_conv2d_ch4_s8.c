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
#include "th_conv_m0.h"
#include "th_conv_parts.h"
#include "th_requant.h"
#include "th_simd.h"

#define TH_DW_MAX_TAPS 64 /* windows up to 8x8; larger ones use th_depthwise_conv2d_s8 (see conv.py) */

/* One tap of four channels: x and f words accumulated lane by lane into a0..a3. */
#if TH_HAVE_DSP
#define TH_DW_TAP(xw, fw)                                                   \
    do {                                                                    \
        const uint32_t x02_ = th_sxtb16(xw), f02_ = th_sxtb16(fw);          \
        const uint32_t x13_ = th_sxtb16_ror8(xw), f13_ = th_sxtb16_ror8(fw); \
        a0 = th_smlabb(x02_, f02_, a0);                                     \
        a2 = th_smlatt(x02_, f02_, a2);                                     \
        a1 = th_smlabb(x13_, f13_, a1);                                     \
        a3 = th_smlatt(x13_, f13_, a3);                                     \
    } while (0)
#else
#define TH_DW_TAP(xw, fw)                                                                   \
    do {                                                                                    \
        a0 += (int32_t)(int8_t)((xw) & 0xFFU) * (int8_t)((fw) & 0xFFU);                     \
        a1 += (int32_t)(int8_t)(((xw) >> 8) & 0xFFU) * (int8_t)(((fw) >> 8) & 0xFFU);       \
        a2 += (int32_t)(int8_t)(((xw) >> 16) & 0xFFU) * (int8_t)(((fw) >> 16) & 0xFFU);     \
        a3 += (int32_t)(int8_t)((xw) >> 24) * (int8_t)((fw) >> 24);                         \
    } while (0)
#endif

/* Four channels c..c+3 of one output pixel: acc[j] += sum over taps of x * f.  offs[t]: input offset of tap t
 * from `base`, or -1 for a tap outside the image (reads pad_word) when `checked`. */
static inline void th_dw_ch4(const int8_t *base, const int32_t *offs, int32_t taps, int checked, uint32_t pad_word,
                             const int8_t *f, int32_t C, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int32_t i = 0; i < taps; ++i, f += C) {
        const int32_t o = offs[i];
        const int8_t *xp = base + o;
        const int8_t *fp = f;
        const uint32_t xw = (!checked || o >= 0) ? th_read_s8x4(&xp) : pad_word;
        const uint32_t fw = th_read_s8x4(&fp);
        TH_DW_TAP(xw, fw);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* 3x3 window, no dilation, all taps inside: rows `row` apart, taps C apart; fully unrolled. */
static inline void th_dw_ch4_3x3(const int8_t *x, int32_t row, const int8_t *f, int32_t C, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int32_t fy = 0; fy < 3; ++fy, x += row) {
        const int8_t *xp = x;
        uint32_t xw = th_read_s8x4(&xp), fw = th_read_s8x4(&f);
        f += C - 4;
        TH_DW_TAP(xw, fw);
        xp = x + C;
        xw = th_read_s8x4(&xp);
        fw = th_read_s8x4(&f);
        f += C - 4;
        TH_DW_TAP(xw, fw);
        xp = x + 2 * C;
        xw = th_read_s8x4(&xp);
        fw = th_read_s8x4(&f);
        f += C - 4;
        TH_DW_TAP(xw, fw);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

void th_depthwise_conv2d_ch4_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output) {
#if !TH_HAVE_DSP
    /* Plain cores (ARMv6-M): no unaligned word loads there (each th_read_s8x4 is a memcpy); byte loads per
     * channel instead (th_depthwise_conv2d_m0_s8.c). */
    th_depthwise_conv2d_m0_s8(p, input, filter, output);
    return;
#endif
    /* Parameters in locals: the int8 output stores may alias anything, so struct fields would be reloaded. */
    const int32_t C = p->in_c, in_h = p->in_h, in_w = p->in_w;
    const int32_t fh = p->filter_h, fw = p->filter_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t taps = fh * fw;
    const int32_t eff_h = (fh - 1) * dh + 1, eff_w = (fw - 1) * dw + 1;
    const int is3x3 = fh == 3 && fw == 3 && dh == 1 && dw == 1;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const bias = p->bias_eff, *const mult = p->multiplier, *const shift = p->shift;
    const int8_t pad = (int8_t)(-p->input_offset);
    const uint32_t pad_word = (uint32_t)(uint8_t)pad * 0x01010101U;
    int32_t inner[TH_DW_MAX_TAPS]; /* tap offsets from the window origin (interior pixels) */
    int32_t edge[TH_DW_MAX_TAPS];  /* tap offsets from the image origin, -1 outside (border pixels) */
    th_dw_inner_offsets(th_dw_window_of(p), inner);
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_h * in_w * C;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox, out += C) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                const int interior = in_y0 >= 0 && in_y0 + eff_h <= in_h && in_x0 >= 0 && in_x0 + eff_w <= in_w;
                const int8_t *base = in_batch;
                const int32_t *offs = inner;
                if (interior) {
                    base = in_batch + ((size_t)in_y0 * in_w + in_x0) * C;
                } else {
                    th_dw_edge_offsets(th_dw_window_of(p), in_y0, in_x0, edge);
                    offs = edge;
                }
                int32_t c = 0;
                for (; c + 4 <= C; c += 4) {
                    int32_t acc[4] = {bias[c], bias[c + 1], bias[c + 2], bias[c + 3]};
                    if (interior && is3x3) {
                        th_dw_ch4_3x3(base + c, in_w * C, filter + c, C, acc);
                    } else if (interior) {
                        th_dw_ch4(base + c, offs, taps, 0, pad_word, filter + c, C, acc);
                    } else {
                        th_dw_ch4(base + c, offs, taps, 1, pad_word, filter + c, C, acc);
                    }
                    out[c] = th_requant_clamp(th_requant_scale(acc[0], mult[c], shift[c]), off, lo, hi);
                    out[c + 1] = th_requant_clamp(th_requant_scale(acc[1], mult[c + 1], shift[c + 1]), off, lo, hi);
                    out[c + 2] = th_requant_clamp(th_requant_scale(acc[2], mult[c + 2], shift[c + 2]), off, lo, hi);
                    out[c + 3] = th_requant_clamp(th_requant_scale(acc[3], mult[c + 3], shift[c + 3]), off, lo, hi);
                }
                for (; c < C; ++c) {
                    int32_t a = bias[c];
                    for (int32_t i = 0; i < taps; ++i) {
                        const int32_t xv = (interior || offs[i] >= 0) ? base[offs[i] + c] : pad;
                        a += xv * filter[i * C + c];
                    }
                    out[c] = th_requant_s8(a, mult[c], shift[c], off, lo, hi);
                }
            }
        }
    }
}
