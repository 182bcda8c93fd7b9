/* th_conv2d_im2col_m0_s8: CONV_2D int8 for cores without the DSP extension (Cortex-M0/M0+: ARMv6-M).
 * Semantics and parameters: th_conv.h (bit-exact with TFLite reference_integer_ops::ConvPerChannel, like
 * th_conv2d_s8, its portable reference); declarations: th_conv_m0.h.
 *
 * Thumb-1 has no SXTB16/SMLAD, and an instruction count per multiply-accumulate is set by loads, MULS and
 * ADD.  The cheapest block found is one output channel x four output pixels: the receptive fields of four
 * pixels (K = filter_h * filter_w * in_c values each; taps outside the image read the input zero point, see
 * bias_eff in th_conv.h) are gathered into the scratch as int32, interleaved (col[4k + p] is value k of pixel p),
 * so one LDM fetches value k of all four pixels and every weight is loaded once (LDRSB) for four MULS; no
 * register copies are needed since each loaded value is used exactly once (th_dot_1x4_m0_s8.S: 11
 * instructions per 4 MACs).  A 2x2 block costs 13+ per 4 MACs (one operand must be copied before MULS
 * overwrites it) and wider blocks run out of the eight low registers.  The gather costs a few instructions per
 * value, shared by all output channels.  The last group of pixels may hold fewer than four; its unused columns
 * are zero and their outputs are not stored.  The four results of a channel are requantized together
 * (th_requant4_m0_s8, Thumb-1 on ARMv6-M) when its shift is a right shift of 2 or more.
 */
#include <stddef.h>

#include "th_conv_m0.h"
#include "th_conv_parts.h"
#include "th_requant.h"

int32_t th_conv2d_im2col_m0_s8_get_buffer_size(const th_conv_s8_params *p) {
    return 16 * p->filter_h * p->filter_w * p->in_c;
}

#if !defined(__ARM_ARCH_6M__)
/* C twin of the Thumb-1 assembly (th_dot_1x4_m0_s8.S): same sums, any core. */
void th_dot_1x4_m0_s8(const int32_t *col, const int8_t *w, int32_t K, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int32_t k = 0; k < K; ++k, col += 4) {
        const int32_t wv = w[k];
        a0 += wv * col[0];
        a1 += wv * col[1];
        a2 += wv * col[2];
        a3 += wv * col[3];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* C twin of the Thumb-1 assembly (th_requant4_m0_s8.S): shift <= -2. */
void th_requant4_m0_s8(int32_t acc[4], int32_t multiplier, int32_t shift) {
    for (int32_t j = 0; j < 4; ++j) {
        acc[j] = th_requant_scale(acc[j], multiplier, shift);
    }
}
#endif

/* Column layout: entry k of a pixel's column is word 4k (the four columns interleaved). */
static void th_col4_put(void *column, int32_t k, int32_t kfull, const int8_t *src, int32_t n) {
    int32_t *col = (int32_t *)column + 4 * k;
    (void)kfull;
    for (int32_t i = 0; i < n; ++i, col += 4) {
        *col = src[i];
    }
}

static void th_col4_fill(void *column, int32_t k, int32_t kfull, int32_t v, int32_t n) {
    int32_t *col = (int32_t *)column + 4 * k;
    (void)kfull;
    for (int32_t i = 0; i < n; ++i, col += 4) {
        *col = v;
    }
}

/* The receptive field of the output pixel whose window starts at input (in_y0, in_x0), into col[4k]. */
static void th_im2col4(const th_conv_s8_params *p, const int8_t *in_batch, int32_t in_y0, int32_t in_x0,
                       int32_t *col) {
    th_im2col_gather(p, in_batch, in_y0, in_x0, col, th_col4_put, th_col4_fill);
}

void th_conv2d_im2col_m0_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output,
                            int8_t *scratch) {
    const int32_t K = p->filter_h * p->filter_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t oc_n = p->out_c;
    const th_conv_out_s8 q = th_conv_out_of(p);
    int32_t *const col = (int32_t *)(void *)scratch;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out = output + (size_t)b * pixels * oc_n;
        th_conv_cursor cur = th_conv_cursor_start(p);
        for (int32_t px = 0; px < pixels; px += 4) {
            const int32_t n = pixels - px < 4 ? pixels - px : 4;
            for (int32_t j = 0; j < 4; ++j) {
                if (j < n) {
                    int32_t y0, x0;
                    th_conv_cursor_next(&cur, &y0, &x0);
                    th_im2col4(p, in_batch, y0, x0, col + j);
                } else {
                    th_col4_fill(col + j, 0, 0, 0, K);
                }
            }
            const int8_t *f = filter;
            for (int32_t oc = 0; oc < oc_n; ++oc, f += K) {
                int32_t acc[4] = {q.bias[oc], q.bias[oc], q.bias[oc], q.bias[oc]};
                th_dot_1x4_m0_s8(col, f, K, acc);
                const int32_t m = q.mult[oc], s = q.shift[oc];
                int8_t *o = out + oc;
                if (s <= -2) { /* the usual case: four values at once, Thumb-1 on ARMv6-M */
                    th_requant4_m0_s8(acc, m, s);
                    for (int32_t j = 0; j < n; ++j, o += oc_n) {
                        *o = th_requant_clamp(acc[j], q.off, q.lo, q.hi);
                    }
                    continue;
                }
                for (int32_t j = 0; j < n; ++j, o += oc_n) {
                    *o = th_requant_s8(acc[j], m, s, q.off, q.lo, q.hi);
                }
            }
            out += 4 * oc_n;
        }
    }
}
