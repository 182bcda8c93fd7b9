/* th_depthwise_conv2d_m0_s8: DEPTHWISE_CONV_2D int8, depth multiplier 1, windows up to 64 taps, for cores
 * without the DSP extension (Cortex-M0/M0+).  Semantics and parameters: th_conv.h (bit-exact with TFLite
 * reference_integer_ops::DepthwiseConvPerChannel, like th_depthwise_conv2d_s8, its portable reference);
 * declaration: th_conv_m0.h.
 *
 * ARMv6-M has no unaligned word loads, so the word-per-four-channels scheme of th_depthwise_conv2d_ch4_s8 costs
 * a memcpy per word there (rp2040 twin, DS-CNN: ~320 instructions per output).  Here each channel of a pixel
 * is one int32 accumulator over the window with byte loads (LDRSB) only: the window's tap offsets are
 * computed once per pixel (interior) or per border pixel (taps outside the image read the input zero point,
 * see bias_eff in th_conv.h) and the filter is walked with stride in_c.  A 3x3 interior window (most pixels)
 * runs th_dw3x3_m0_s8 (Thumb-1 assembly on ARMv6-M: 4 instructions per MAC) over 16 channels at a time.
 * No scratch.
 */
#include <stddef.h>

#include "th_conv_m0.h"
#include "th_conv_parts.h"
#include "th_requant.h"

#define TH_DW_M0_MAX_TAPS 64

#define TH_DW_M0_CHUNK 16 /* channels per th_dw3x3_m0_s8 call (accumulators on the stack) */

#if !defined(__ARM_ARCH_6M__)
/* C twin of the Thumb-1 assembly (th_dw3x3_m0_s8.S): same sums, any core. */
void th_dw3x3_m0_s8(const int8_t *x, const int8_t *f, int32_t C, int32_t row, int32_t n, int32_t *acc) {
    for (int32_t i = 0; i < n; ++i) {
        int32_t a = acc[i];
        for (int32_t fy = 0; fy < 3; ++fy) {
            for (int32_t fx = 0; fx < 3; ++fx) {
                a += (int32_t)x[i + fy * row + fx * C] * f[i + (3 * fy + fx) * C];
            }
        }
        acc[i] = a;
    }
}
#endif

void th_depthwise_conv2d_m0_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output) {
    /* Parameters in locals: the int8 output stores may alias anything, so struct fields would be reloaded. */
    const int32_t C = p->in_c, in_h = p->in_h, in_w = p->in_w;
    const int32_t fh = p->filter_h, fw = p->filter_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t taps = fh * fw;
    const int32_t eff_h = (fh - 1) * dh + 1, eff_w = (fw - 1) * dw + 1;
    const int is3x3 = fh == 3 && fw == 3 && dh == 1 && dw == 1;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const bias = p->bias_eff, *const mult = p->multiplier, *const shift = p->shift;
    const int32_t pad = -p->input_offset;
    int32_t inner[TH_DW_M0_MAX_TAPS]; /* tap offsets from the window origin (interior pixels) */
    int32_t edge[TH_DW_M0_MAX_TAPS];  /* tap offsets from the image origin, -1 outside (border pixels) */
    th_dw_inner_offsets(th_dw_window_of(p), inner);
    int8_t *out = output;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_h * in_w * C;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox, out += C) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                const int interior = in_y0 >= 0 && in_y0 + eff_h <= in_h && in_x0 >= 0 && in_x0 + eff_w <= in_w;
                if (interior) {
                    const int8_t *base = in_batch + ((size_t)in_y0 * in_w + in_x0) * C;
                    if (is3x3) {
                        for (int32_t c0 = 0; c0 < C; c0 += TH_DW_M0_CHUNK) {
                            const int32_t n = C - c0 < TH_DW_M0_CHUNK ? C - c0 : TH_DW_M0_CHUNK;
                            int32_t acc[TH_DW_M0_CHUNK];
                            for (int32_t i = 0; i < n; ++i) {
                                acc[i] = bias[c0 + i];
                            }
                            th_dw3x3_m0_s8(base + c0, filter + c0, C, in_w * C, n, acc);
                            for (int32_t i = 0; i < n; ++i) {
                                out[c0 + i] = th_requant_s8(acc[i], mult[c0 + i], shift[c0 + i], off, lo, hi);
                            }
                        }
                        continue;
                    }
                    for (int32_t c = 0; c < C; ++c) {
                        int32_t a = bias[c];
                        const int8_t *x = base + c, *f = filter + c;
                        for (int32_t t = 0; t < taps; ++t, f += C) {
                            a += (int32_t)x[inner[t]] * *f;
                        }
                        out[c] = th_requant_s8(a, mult[c], shift[c], off, lo, hi);
                    }
                    continue;
                }
                th_dw_edge_offsets(th_dw_window_of(p), in_y0, in_x0, edge);
                for (int32_t c = 0; c < C; ++c) {
                    int32_t a = bias[c];
                    const int8_t *x = in_batch + c, *f = filter + c;
                    for (int32_t t = 0; t < taps; ++t, f += C) {
                        const int32_t o = edge[t];
                        a += (o >= 0 ? (int32_t)x[o] : pad) * *f;
                    }
                    out[c] = th_requant_s8(a, mult[c], shift[c], off, lo, hi);
                }
            }
        }
    }
}
