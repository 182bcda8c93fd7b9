/* th_conv2d_im2col_pair_s8: CONV_2D int8 as im2col + a 2x2-blocked matrix multiplication whose two int16
 * columns are interleaved, for cores with the DSP extension (ARMv7E-M: Cortex-M4, M7).  Semantics and
 * parameters: th_conv.h (bit-exact with TFLite reference_integer_ops::ConvPerChannel, like th_conv2d_s8, its
 * portable reference, and th_conv2d_im2col_s8, the variant it refines).
 *
 * As in th_conv2d_im2col_s8, two output pixels at a time have their receptive fields (K = filter_h * filter_w
 * * in_c values, taps outside the image read the input zero point, see bias_eff in th_conv.h) gathered into
 * int16 columns, and each pair of output channels (OHWI rows f, g) meets both columns: 2 channels x 2 pixels
 * = 4 int32 accumulators.  Here the two columns share one buffer, group by group:
 *
 *   [col0 group 0: x0 x2 x1 x3][col1 group 0][col0 group 1][col1 group 1] ... [col0 tail, 4][col1 tail, 4]
 *
 * (groups of 4 values in the order SXTB16 / SXTB16-ROR8 produce from four packed int8, th_simd.h; the last
 * K mod 4 values in natural order), so one pointer walks both and one LDRD pair reads a group of each.  On
 * Arm the inner loop is inline assembly over 14 registers (4 accumulators, 4 column words, 2 filter words,
 * pointers f, g, column and its end): 18 instructions per 16 multiply-accumulates.  The C version of
 * th_conv2d_im2col_s8 left to GCC spilled its pointers (26 instructions on the M4, 21-24 on the M7).
 * The host build runs the same arithmetic through th_simd.h's exact emulation.  Without the DSP extension
 * (ARMv6-M, M3) th_conv2d_im2col_s8 runs (same scratch size).
 */
#include <stddef.h>

#include "th_conv.h"
#include "th_conv_parts.h"
#include "th_requant.h"
#include "th_simd.h"

/* Values of one receptive field (K) and its complete groups of 4 (kfull). */
static int32_t th_pair_k(const th_conv_s8_params *p) { return p->filter_h * p->filter_w * p->in_c; }

int32_t th_conv2d_im2col_pair_s8_get_buffer_size(const th_conv_s8_params *p) {
    /* 2 * kfull + 8 int16 <= two columns of K rounded up to 4 (the size th_conv2d_im2col_s8 needs) */
    return 2 * 2 * ((th_pair_k(p) + 3) & ~3);
}

#if TH_HAVE_DSP

/* Buffer position (int16 index, from the column's own base) of value k; kfull = 4 * (K / 4). */
static inline int32_t th_pair_pos(int32_t k, int32_t kfull) {
    return k < kfull ? 2 * (k & ~3) + (((k & 1) << 1) | ((k >> 1) & 1)) : kfull + k;
}

/* Writes n int8 values of src as column entries k0 .. k0+n-1 (layout above). */
static void th_pair_put(void *column, int32_t k0, int32_t kfull, const int8_t *src, int32_t n) {
    int16_t *const col = column;
    int32_t k = k0;
    const int32_t end = k0 + n;
    while (k < end && (k & 3) != 0) {
        col[th_pair_pos(k, kfull)] = *src++;
        ++k;
    }
    for (; k + 4 <= end && k + 4 <= kfull; k += 4) {
        int16_t *dst = col + 2 * k;
        const uint32_t w = th_read_s8x4(&src);
        th_write_s16x2(&dst, th_sxtb16(w));
        th_write_s16x2(&dst, th_sxtb16_ror8(w));
    }
    for (; k < end; ++k) {
        col[th_pair_pos(k, kfull)] = *src++;
    }
}

/* Fills column entries k0 .. k0+n-1 with v. */
static void th_pair_fill(void *column, int32_t k0, int32_t kfull, int32_t v, int32_t n) {
    int16_t *const col = column;
    for (int32_t k = k0; k < k0 + n; ++k) {
        col[th_pair_pos(k, kfull)] = (int16_t)v;
    }
}

/* The receptive field of the output pixel whose window starts at input (in_y0, in_x0), into `col`. */
static void th_pair_im2col(const th_conv_s8_params *p, const int8_t *in_batch, int32_t in_y0, int32_t in_x0,
                           int16_t *col) {
    th_im2col_gather(p, in_batch, in_y0, in_x0, col, th_pair_put, th_pair_fill);
}

/* acc[0..1] += filter row f . columns 0, 1; acc[2..3] += row g . columns 0, 1 (g may equal f). */
static inline void th_pair_block(const int8_t *f, const int8_t *g, const int16_t *col, int32_t K, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const int32_t groups = K >> 2;
    const int16_t *c = col;
#if defined(TH_DSP_NATIVE)
    if (groups > 0) {
        const int16_t *const cend = col + 8 * groups;
        uint32_t xa, xb, ya, yb, w, t;
        __asm__ volatile(
            "1:\n\t"
            "ldrd   %[xa], %[xb], [%[c]], #16\n\t"
            "ldrd   %[ya], %[yb], [%[c], #-8]\n\t"
            "ldr    %[w], [%[f]], #4\n\t"
            "sxtb16 %[t], %[w]\n\t"
            "sxtb16 %[w], %[w], ror #8\n\t"
            "smlad  %[a00], %[t], %[xa], %[a00]\n\t"
            "smlad  %[a01], %[t], %[ya], %[a01]\n\t"
            "smlad  %[a00], %[w], %[xb], %[a00]\n\t"
            "smlad  %[a01], %[w], %[yb], %[a01]\n\t"
            "ldr    %[w], [%[g]], #4\n\t"
            "sxtb16 %[t], %[w]\n\t"
            "sxtb16 %[w], %[w], ror #8\n\t"
            "smlad  %[a10], %[t], %[xa], %[a10]\n\t"
            "smlad  %[a11], %[t], %[ya], %[a11]\n\t"
            "smlad  %[a10], %[w], %[xb], %[a10]\n\t"
            "smlad  %[a11], %[w], %[yb], %[a11]\n\t"
            "cmp    %[c], %[cend]\n\t"
            "bne    1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [c] "+r"(c), [f] "+r"(f),
              [g] "+r"(g), [xa] "=&r"(xa), [xb] "=&r"(xb), [ya] "=&r"(ya), [yb] "=&r"(yb), [w] "=&r"(w),
              [t] "=&r"(t)
            : [cend] "r"(cend)
            : "cc", "memory");
    }
#else
    for (int32_t j = 0; j < groups; ++j) {
        const uint32_t wf = th_read_s8x4(&f), wg = th_read_s8x4(&g);
        const int16_t *c0 = c, *c1 = c + 4;
        const uint32_t xa = th_read_s16x2(&c0), xb = th_read_s16x2(&c0);
        const uint32_t ya = th_read_s16x2(&c1), yb = th_read_s16x2(&c1);
        const uint32_t f02 = th_sxtb16(wf), f13 = th_sxtb16_ror8(wf);
        const uint32_t g02 = th_sxtb16(wg), g13 = th_sxtb16_ror8(wg);
        a00 = th_smlad(f13, xb, th_smlad(f02, xa, a00));
        a01 = th_smlad(f13, yb, th_smlad(f02, ya, a01));
        a10 = th_smlad(g13, xb, th_smlad(g02, xa, a10));
        a11 = th_smlad(g13, yb, th_smlad(g02, ya, a11));
        c += 8;
    }
#endif
    for (int32_t t = 0; t < (K & 3); ++t) { /* tail: col0 at c[t], col1 at c[4 + t] */
        const int32_t fv = f[t], gv = g[t], x0 = c[t], x1 = c[4 + t];
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

/* th_requant_scale for a right shift r = -shift >= 2 with its constants given: rnd = 2^(r-2), sh = r - 1
 * (the derivation is th_requant_scale's, th_requant.h). */
static inline int32_t th_pair_scale(int32_t acc, int32_t m, int32_t rnd, int32_t sh) {
    const int32_t l = (int32_t)(0x40000000UL | ((uint32_t)acc & 0x80000000UL));
    const int64_t sum = (int64_t)acc * m + l;
    return ((int32_t)(sum >> 32) + rnd) >> sh;
}

#endif /* TH_HAVE_DSP */

void th_conv2d_im2col_pair_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, int8_t *scratch) {
#if !TH_HAVE_DSP
    th_conv2d_im2col_s8(p, input, filter, output, scratch);
#else
    const int32_t K = th_pair_k(p);
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t oc_n = p->out_c;
    const th_conv_out_s8 q = th_conv_out_of(p);
    int16_t *const col = (int16_t *)(void *)scratch;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        int8_t *out0 = output + (size_t)b * pixels * oc_n;
        th_conv_cursor cur = th_conv_cursor_start(p);
        for (int32_t px = 0; px < pixels; px += 2) {
            const int two = px + 1 < pixels;
            int32_t y0, x0;
            th_conv_cursor_next(&cur, &y0, &x0);
            th_pair_im2col(p, in_batch, y0, x0, col);
            if (two) {
                th_conv_cursor_next(&cur, &y0, &x0);
            } /* else a lone last pixel computes itself twice */
            th_pair_im2col(p, in_batch, y0, x0, col + 4);
            int8_t *out1 = two ? out0 + oc_n : out0;
            const int8_t *f = filter;
            int32_t oc = 0;
            for (; oc + 2 <= oc_n; oc += 2, f += 2 * K) {
                int32_t acc[4] = {q.bias[oc], q.bias[oc], q.bias[oc + 1], q.bias[oc + 1]};
                th_pair_block(f, f + K, col, K, acc);
                const int32_t m0 = q.mult[oc], s0 = q.shift[oc], m1 = q.mult[oc + 1], s1 = q.shift[oc + 1];
                int32_t r00, r01, r10, r11;
                if (s0 <= -2 && s1 <= -2) { /* the usual right shifts: constants once per channel */
                    const int32_t rnd0 = 1 << (-s0 - 2), sh0 = -s0 - 1, rnd1 = 1 << (-s1 - 2), sh1 = -s1 - 1;
                    r00 = th_pair_scale(acc[0], m0, rnd0, sh0);
                    r01 = th_pair_scale(acc[1], m0, rnd0, sh0);
                    r10 = th_pair_scale(acc[2], m1, rnd1, sh1);
                    r11 = th_pair_scale(acc[3], m1, rnd1, sh1);
                } else {
                    r00 = th_requant_scale(acc[0], m0, s0);
                    r01 = th_requant_scale(acc[1], m0, s0);
                    r10 = th_requant_scale(acc[2], m1, s1);
                    r11 = th_requant_scale(acc[3], m1, s1);
                }
                th_conv_store_2x2(q, out0, out1, oc, r00, r01, r10, r11);
            }
            if (oc < oc_n) { /* odd channel count: the last channel alone */
                int32_t acc[4] = {q.bias[oc], q.bias[oc], q.bias[oc], q.bias[oc]};
                th_pair_block(f, f, col, K, acc);
                out1[oc] = th_conv_requant(q, acc[1], oc);
                out0[oc] = th_conv_requant(q, acc[0], oc);
            }
            out0 += 2 * oc_n;
        }
    }
#endif
}
