/* th_depthwise_conv2d_ch4_dsp_s8: DEPTHWISE_CONV_2D int8 with depth multiplier 1, four channels at a time, for
 * cores with the DSP extension (ARMv7E-M: Cortex-M4, M7).  Semantics and parameters: th_conv.h (bit-exact with
 * TFLite reference_integer_ops::DepthwiseConvPerChannel, like th_depthwise_conv2d_s8, its portable reference,
 * and th_depthwise_conv2d_ch4_s8, the variant it reorders).
 *
 * th_depthwise_conv2d_ch4_s8 visits pixels in the outer loop and channel groups inside, so each group of a
 * pixel reloads and re-expands its filter words, requantization parameters and pointers (~320 instructions
 * per 4 outputs of a 3x3 window on the M4).  Here the channel group is the outer loop: its filter taps are
 * expanded once into int16 pairs (SXTB16 / SXTB16-ROR8, th_simd.h) on the stack, its per-channel parameters
 * read once, then every output pixel runs over the taps with one word of input (two SXTB16), one LDRD of
 * expanded filter and four SMLABB/SMLATT per tap; a 3x3 window fully inside the image is unrolled.  A tap
 * outside the image reads the input zero point (bias_eff, th_conv.h).  The last in_c mod 4 channels take a
 * scalar loop.  Without the DSP extension th_depthwise_conv2d_ch4_s8 runs.  No scratch; 8 bytes of stack per
 * tap (filter_h * filter_w <= 64).
 */
#include <stddef.h>

#include "th_conv.h"
#include "th_requant.h"
#include "th_simd.h"

#define TH_DWD_MAX_TAPS 64

#if TH_HAVE_DSP

/* One tap: input word xw against the expanded filter pair fe[0] = (f0, f2), fe[1] = (f1, f3). */
#define TH_DWD_TAP(xw, fe)                                 \
    do {                                                   \
        const uint32_t x02_ = th_sxtb16(xw);               \
        const uint32_t x13_ = th_sxtb16_ror8(xw);          \
        a0 = th_smlabb(x02_, (fe)[0], a0);                 \
        a2 = th_smlatt(x02_, (fe)[0], a2);                 \
        a1 = th_smlabb(x13_, (fe)[1], a1);                 \
        a3 = th_smlatt(x13_, (fe)[1], a3);                 \
    } while (0)

static inline uint32_t th_dwd_word(const int8_t *p) {
    return th_read_s8x4(&p);
}

/* th_requant_scale for a right shift r = -shift >= 2 with its two constants precomputed: rnd = 2^(r-2),
 * sh = r - 1 (the derivation is th_requant_scale's, th_requant.h). */
static inline int32_t th_dwd_scale(int32_t acc, int32_t m, int32_t rnd, int32_t sh) {
    const int32_t l = (int32_t)(0x40000000UL | ((uint32_t)acc & 0x80000000UL));
    const int64_t sum = (int64_t)acc * m + l;
    return ((int32_t)(sum >> 32) + rnd) >> sh;
}

#endif /* TH_HAVE_DSP */

void th_depthwise_conv2d_ch4_dsp_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                    int8_t *output) {
#if !TH_HAVE_DSP
    th_depthwise_conv2d_ch4_s8(p, input, filter, output);
#else
    const int32_t C = p->in_c, in_h = p->in_h, in_w = p->in_w;
    const int32_t out_h = p->out_h, out_w = p->out_w;
    const int32_t fh = p->filter_h, fw = p->filter_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t sh = p->stride_h, sw = p->stride_w, pad_top = p->pad_top, pad_left = p->pad_left;
    const int32_t taps = fh * fw;
    const int32_t eff_h = (fh - 1) * dh + 1, eff_w = (fw - 1) * dw + 1;
    const int is3x3 = fh == 3 && fw == 3 && dh == 1 && dw == 1;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const bias = p->bias_eff, *const mult = p->multiplier, *const shift = p->shift;
    const int8_t pad = (int8_t)(-p->input_offset);
    const uint32_t pad_word = (uint32_t)(uint8_t)pad * 0x01010101U;
    const size_t row = (size_t)in_w * C;
    uint32_t fexp[2 * TH_DWD_MAX_TAPS]; /* per tap: (f0, f2), (f1, f3) of the current group */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_h * in_w * C;
        int8_t *out_batch = output + (size_t)b * out_h * out_w * C;
        int32_t c = 0;
        for (; c + 4 <= C; c += 4) {
            for (int32_t t = 0; t < taps; ++t) {
                const uint32_t w = th_dwd_word(filter + (size_t)t * C + c);
                fexp[2 * t] = th_sxtb16(w);
                fexp[2 * t + 1] = th_sxtb16_ror8(w);
            }
            const int32_t b0 = bias[c], b1 = bias[c + 1], b2 = bias[c + 2], b3 = bias[c + 3];
            /* right shifts of 2 or more (the usual case) take th_dwd_scale with constants computed here */
            const int fast = shift[c] <= -2 && shift[c + 1] <= -2 && shift[c + 2] <= -2 && shift[c + 3] <= -2;
            int32_t rnd[4] = {0, 0, 0, 0}, rsh[4] = {0, 0, 0, 0};
            if (fast) {
                for (int32_t j = 0; j < 4; ++j) {
                    rnd[j] = 1 << (-shift[c + j] - 2);
                    rsh[j] = -shift[c + j] - 1;
                }
            }
            const int32_t m0 = mult[c], m1 = mult[c + 1], m2 = mult[c + 2], m3 = mult[c + 3];
            int8_t *out = out_batch + c;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t in_y0 = oy * sh - pad_top;
                const int rows_in = in_y0 >= 0 && in_y0 + eff_h <= in_h;
                for (int32_t ox = 0; ox < out_w; ++ox, out += C) {
                    const int32_t in_x0 = ox * sw - pad_left;
                    int32_t a0 = b0, a1 = b1, a2 = b2, a3 = b3;
                    const uint32_t *fe = fexp;
                    if (rows_in && in_x0 >= 0 && in_x0 + eff_w <= in_w) {
                        const int8_t *x = in_batch + (size_t)in_y0 * row + (size_t)in_x0 * C + c;
                        if (is3x3) {
                            for (int32_t fy = 0; fy < 3; ++fy, x += row, fe += 6) {
                                TH_DWD_TAP(th_dwd_word(x), fe);
                                TH_DWD_TAP(th_dwd_word(x + C), fe + 2);
                                TH_DWD_TAP(th_dwd_word(x + 2 * C), fe + 4);
                            }
                        } else {
                            for (int32_t fy = 0; fy < fh; ++fy, x += (size_t)dh * row) {
                                const int8_t *xp = x;
                                for (int32_t fx = 0; fx < fw; ++fx, xp += (size_t)dw * C, fe += 2) {
                                    TH_DWD_TAP(th_dwd_word(xp), fe);
                                }
                            }
                        }
                    } else {
                        for (int32_t fy = 0; fy < fh; ++fy) {
                            const int32_t y = in_y0 + fy * dh;
                            const int yin = y >= 0 && y < in_h;
                            const int8_t *xr = yin ? in_batch + (size_t)y * row + c : in_batch;
                            for (int32_t fx = 0; fx < fw; ++fx, fe += 2) {
                                const int32_t xx = in_x0 + fx * dw;
                                const uint32_t xw = (yin && xx >= 0 && xx < in_w) ? th_dwd_word(xr + (size_t)xx * C)
                                                                                  : pad_word;
                                TH_DWD_TAP(xw, fe);
                            }
                        }
                    }
                    if (fast) {
                        out[0] = th_requant_clamp(th_dwd_scale(a0, m0, rnd[0], rsh[0]), off, lo, hi);
                        out[1] = th_requant_clamp(th_dwd_scale(a1, m1, rnd[1], rsh[1]), off, lo, hi);
                        out[2] = th_requant_clamp(th_dwd_scale(a2, m2, rnd[2], rsh[2]), off, lo, hi);
                        out[3] = th_requant_clamp(th_dwd_scale(a3, m3, rnd[3], rsh[3]), off, lo, hi);
                    } else {
                        out[0] = th_requant_s8(a0, m0, shift[c], off, lo, hi);
                        out[1] = th_requant_s8(a1, m1, shift[c + 1], off, lo, hi);
                        out[2] = th_requant_s8(a2, m2, shift[c + 2], off, lo, hi);
                        out[3] = th_requant_s8(a3, m3, shift[c + 3], off, lo, hi);
                    }
                }
            }
        }
        for (; c < C; ++c) { /* channels left over: one at a time */
            int8_t *out = out_batch + c;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t in_y0 = oy * sh - pad_top;
                for (int32_t ox = 0; ox < out_w; ++ox, out += C) {
                    const int32_t in_x0 = ox * sw - pad_left;
                    int32_t a = bias[c];
                    for (int32_t fy = 0; fy < fh; ++fy) {
                        const int32_t y = in_y0 + fy * dh;
                        for (int32_t fx = 0; fx < fw; ++fx) {
                            const int32_t xx = in_x0 + fx * dw;
                            const int32_t xv = (y >= 0 && y < in_h && xx >= 0 && xx < in_w)
                                                   ? in_batch[(size_t)y * row + (size_t)xx * C + c] : pad;
                            a += xv * filter[(size_t)(fy * fw + fx) * C + c];
                        }
                    }
                    *out = th_requant_s8(a, mult[c], shift[c], off, lo, hi);
                }
            }
        }
    }
#endif
}
