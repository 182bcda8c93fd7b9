/* th_conv2d_im2col_s8: CONV_2D int8 as im2col + a 2x2-blocked matrix multiplication.  Semantics and parameters:
 * th_conv.h (bit-exact with TFLite reference_integer_ops::ConvPerChannel, like th_conv2d_s8, its portable
 * reference).
 *
 * Two output pixels at a time, the receptive field of each (K = filter_h * filter_w * in_c values, taps outside
 * the image read the input zero point, see bias_eff in th_conv.h) is gathered into an int16 column of the
 * scratch buffer; then every pair of output channels (OHWI filter rows, K contiguous int8 each) meets the two
 * columns: 2 channels x 2 pixels = 4 int32 accumulators per step, the blocking CMSIS-NN's
 * arm_nn_mat_mult_kernel_s8_s16 uses (re-implemented, not copied).
 *
 * Column layout: within each complete group of 4 values the order is x0, x2, x1, x3, i.e. exactly the two
 * words SXTB16 and SXTB16-ROR8 produce from four packed int8 (th_simd.h).  A filter word w0..w3 expands to
 * (w0, w2) and (w1, w3) with the same two instructions, so one group costs 2 SMLAD per (channel, pixel) and
 * no repacking (CMSIS-NN repacks the filter with PKHBT/PKHTB because it cannot reorder its columns freely).
 * The last K mod 4 values are stored in natural order and taken one by one.
 * Without the DSP extension (ARMv6-M) the same blocking runs with plain 32-bit multiplies, and 1x1 windows use
 * the portable kernel (see below).
 */
#include <stddef.h>

#include "th_conv.h"
#include "th_conv_m0.h"
#include "th_conv_parts.h"
#include "th_requant.h"
#include "th_simd.h"

/* Column length in int16, rounded up to 4 so both columns and their words stay 8-byte aligned. */
static int32_t th_col_len(const th_conv_s8_params *p) { return (p->filter_h * p->filter_w * p->in_c + 3) & ~3; }

int32_t th_conv2d_im2col_s8_get_buffer_size(const th_conv_s8_params *p) {
#if !TH_HAVE_DSP
    return th_conv2d_im2col_m0_s8_get_buffer_size(p);
#endif
    return 2 * 2 * th_col_len(p); /* two int16 columns */
}

/* Column position of value k (groups of 4 complete below kfull store x0, x2, x1, x3). */
static inline int32_t th_col_pos(int32_t k, int32_t kfull) {
    return k < kfull ? (k & ~3) | ((k & 1) << 1) | ((k >> 1) & 1) : k;
}

/* Writes n int8 values of src as column entries k0 .. k0+n-1 (layout above); kfull = 4 * (K / 4). */
static void th_col_put(void *column, int32_t k0, int32_t kfull, const int8_t *src, int32_t n) {
    int16_t *const col = column;
    int32_t k = k0;
    const int32_t end = k0 + n;
    while (k < end && (k & 3) != 0) { /* head up to a group boundary */
        col[th_col_pos(k, kfull)] = *src++;
        ++k;
    }
#if TH_HAVE_DSP
    int16_t *dst = col + k;
    for (; k + 4 <= end && k + 4 <= kfull; k += 4) {
        const uint32_t w = th_read_s8x4(&src);
        th_write_s16x2(&dst, th_sxtb16(w));
        th_write_s16x2(&dst, th_sxtb16_ror8(w));
    }
#else
    for (; k + 4 <= end && k + 4 <= kfull; k += 4) {
        col[k] = src[0];
        col[k + 1] = src[2];
        col[k + 2] = src[1];
        col[k + 3] = src[3];
        src += 4;
    }
#endif
    for (; k < end; ++k) {
        col[th_col_pos(k, kfull)] = *src++;
    }
}

/* Fills column entries k0 .. k0+n-1 with v. */
static void th_col_fill(void *column, int32_t k0, int32_t kfull, int32_t v, int32_t n) {
    int16_t *const col = column;
    for (int32_t k = k0; k < k0 + n; ++k) {
        col[th_col_pos(k, kfull)] = (int16_t)v;
    }
}

/* The receptive field of the output pixel whose window starts at input (in_y0, in_x0), into `col`. */
static void th_im2col(const th_conv_s8_params *p, const int8_t *in_batch, int32_t in_y0, int32_t in_x0,
                      int16_t *col) {
    th_im2col_gather(p, in_batch, in_y0, in_x0, col, th_col_put, th_col_fill);
}

/* acc[0..1] += filter row f (K values) . columns c0, c1; acc[2..3] += row g . c0, c1 (g may equal f). */
static inline void th_block_2x2(const int8_t *f, const int8_t *g, const int16_t *c0, const int16_t *c1,
                                int32_t K, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int32_t groups = K >> 2;
#if TH_HAVE_DSP
    while (groups--) {
        const uint32_t wf = th_read_s8x4(&f), wg = th_read_s8x4(&g);
        const uint32_t x0a = th_read_s16x2(&c0), x0b = th_read_s16x2(&c0);
        const uint32_t x1a = th_read_s16x2(&c1), x1b = th_read_s16x2(&c1);
        const uint32_t f02 = th_sxtb16(wf), f13 = th_sxtb16_ror8(wf);
        a00 = th_smlad(f02, x0a, a00);
        a01 = th_smlad(f02, x1a, a01);
        a00 = th_smlad(f13, x0b, a00);
        a01 = th_smlad(f13, x1b, a01);
        const uint32_t g02 = th_sxtb16(wg), g13 = th_sxtb16_ror8(wg);
        a10 = th_smlad(g02, x0a, a10);
        a11 = th_smlad(g02, x1a, a11);
        a10 = th_smlad(g13, x0b, a10);
        a11 = th_smlad(g13, x1b, a11);
    }
#else
    while (groups--) {
        for (int32_t j = 0; j < 4; ++j) {
            const int32_t pos = (j & 1) << 1 | (j >> 1); /* column order x0, x2, x1, x3 */
            const int32_t fv = f[j], gv = g[j], x0 = c0[pos], x1 = c1[pos];
            a00 += fv * x0;
            a01 += fv * x1;
            a10 += gv * x0;
            a11 += gv * x1;
        }
        f += 4;
        g += 4;
        c0 += 4;
        c1 += 4;
    }
#endif
    for (int32_t t = K & 3; t; --t) {
        const int32_t fv = *f++, gv = *g++, x0 = *c0++, x1 = *c1++;
        a00 += fv * x0;
        a01 += fv * x1;
        a10 += gv * x0;
        a11 += gv * x1;
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

void th_conv2d_im2col_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output,
                         int8_t *scratch) {
#if !TH_HAVE_DSP
    /* Plain cores (ARMv6-M): one channel x four pixels with int32 columns (th_conv2d_im2col_m0_s8.c; its
     * scratch need is the larger one, see conv.py), Thumb-1 assembly inner loop on the M0/M0+. */
    th_conv2d_im2col_m0_s8(p, input, filter, output, scratch);
    return;
#endif
    const int32_t K = p->filter_h * p->filter_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t oc_n = p->out_c;
    const th_conv_out_s8 q = th_conv_out_of(p);
    int16_t *const col0 = (int16_t *)(void *)scratch;
    int16_t *const col1 = col0 + th_col_len(p);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out0 = output + (size_t)b * pixels * oc_n;
        th_conv_cursor cur = th_conv_cursor_start(p);
        for (int32_t px = 0; px < pixels; px += 2) {
            const int two = px + 1 < pixels;
            int32_t y0, x0;
            th_conv_cursor_next(&cur, &y0, &x0);
            th_im2col(p, in_batch, y0, x0, col0);
            if (two) {
                th_conv_cursor_next(&cur, &y0, &x0);
                th_im2col(p, in_batch, y0, x0, col1);
            }
            const int16_t *c1 = two ? col1 : col0; /* a lone last pixel computes itself twice */
            int8_t *out1 = two ? out0 + oc_n : out0;
            const int8_t *f = filter;
            int32_t oc = 0;
            for (; oc + 2 <= oc_n; oc += 2, f += 2 * K) {
                int32_t acc[4] = {q.bias[oc], q.bias[oc], q.bias[oc + 1], q.bias[oc + 1]};
                th_block_2x2(f, f + K, col0, c1, K, acc);
                const int32_t m0 = q.mult[oc], s0 = q.shift[oc], m1 = q.mult[oc + 1], s1 = q.shift[oc + 1];
                th_conv_store_2x2(q, out0, out1, oc, th_requant_scale(acc[0], m0, s0),
                                  th_requant_scale(acc[1], m0, s0), th_requant_scale(acc[2], m1, s1),
                                  th_requant_scale(acc[3], m1, s1));
            }
            if (oc < oc_n) { /* odd channel count: the last channel alone */
                int32_t acc[4] = {q.bias[oc], q.bias[oc], q.bias[oc], q.bias[oc]};
                th_block_2x2(f, f, col0, c1, K, acc);
                out1[oc] = th_conv_requant(q, acc[1], oc);
                out0[oc] = th_conv_requant(q, acc[0], oc);
            }
            out0 += 2 * oc_n;
        }
    }
}
