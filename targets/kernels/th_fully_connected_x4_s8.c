/* th_fully_connected_x4_s8: FULLY_CONNECTED int8, four output rows at a time.  Semantics and parameters:
 * th_fully_connected.h (bit-exact with TFLite reference_integer_ops::FullyConnected(PerChannel), like
 * th_fully_connected_s8, its portable reference).
 *
 * Each word of four input values is expanded once (SXTB16 / SXTB16-ROR8, th_simd.h) and meets one word of each
 * of four weight rows: 8 SMLAD per 16 multiply-accumulates, four int32 accumulators in registers; the rows left
 * over (out_depth mod 4) and the values left over (accum_depth mod 4) take the plain path.  Without the DSP
 * extension the portable th_fully_connected_s8 runs.
 */
#include <stddef.h>

#include "th_conv_m0.h"
#include "th_fully_connected.h"
#include "th_requant.h"
#include "th_simd.h"

/* acc[r] += x . row r, for the `rows` (1..4) consecutive weight rows starting at w. */
static inline void th_fc_rows(const int8_t *x, const int8_t *w, int32_t depth, int32_t rows, int32_t acc[4]) {
    int32_t d = 0;
#if TH_HAVE_DSP
    if (rows == 4) {
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
        d = depth & ~3;
#if defined(TH_DSP_NATIVE)
        if (d > 0) {
            /* Rows 1 and 3 are read at a register offset from rows 0 and 2, so the loop needs 13 registers
             * (4 accumulators, 2 input halves, 2 temporaries, 5 pointers/offset) and no stack: 25 instructions
             * per 16 multiply-accumulates.  GCC spilled the equivalent C (30 instructions, M4 and M7). */
            const int8_t *w0 = w, *w2 = w + 2 * depth;
            const int8_t *xp = x;
            const int8_t *const xend = x + d;
            uint32_t x02, x13, t, u;
            __asm__ volatile(
                "1:\n\t"
                "ldr    %[x13], [%[xp]], #4\n\t"
                "ldr    %[t], [%[w0], %[dd]]\n\t"
                "sxtb16 %[x02], %[x13]\n\t"
                "sxtb16 %[x13], %[x13], ror #8\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "sxtb16 %[t], %[t], ror #8\n\t"
                "smlad  %[a1], %[x02], %[u], %[a1]\n\t"
                "smlad  %[a1], %[x13], %[t], %[a1]\n\t"
                "ldr    %[t], [%[w2], %[dd]]\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "sxtb16 %[t], %[t], ror #8\n\t"
                "smlad  %[a3], %[x02], %[u], %[a3]\n\t"
                "smlad  %[a3], %[x13], %[t], %[a3]\n\t"
                "ldr    %[t], [%[w0]], #4\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "sxtb16 %[t], %[t], ror #8\n\t"
                "smlad  %[a0], %[x02], %[u], %[a0]\n\t"
                "smlad  %[a0], %[x13], %[t], %[a0]\n\t"
                "ldr    %[t], [%[w2]], #4\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "sxtb16 %[t], %[t], ror #8\n\t"
                "smlad  %[a2], %[x02], %[u], %[a2]\n\t"
                "smlad  %[a2], %[x13], %[t], %[a2]\n\t"
                "cmp    %[xp], %[xend]\n\t"
                "bne    1b\n\t"
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp), [w0] "+r"(w0),
                  [w2] "+r"(w2), [x02] "=&r"(x02), [x13] "=&r"(x13), [t] "=&r"(t), [u] "=&r"(u)
                : [dd] "r"(depth), [xend] "r"(xend)
                : "cc", "memory");
        }
#else
        /* Host: the same arithmetic through th_simd.h's exact emulation. */
        const int8_t *w0 = w, *xp = x;
        for (int32_t k = 0; k < d; k += 4, w0 += 4) {
            const uint32_t xw = th_read_s8x4(&xp);
            const int8_t *q0 = w0, *q1 = w0 + depth, *q2 = w0 + 2 * depth, *q3 = w0 + 3 * depth;
            const uint32_t r0 = th_read_s8x4(&q0), r1 = th_read_s8x4(&q1), r2 = th_read_s8x4(&q2),
                           r3 = th_read_s8x4(&q3);
            const uint32_t x02 = th_sxtb16(xw), x13 = th_sxtb16_ror8(xw);
            a0 = th_smlad(x13, th_sxtb16_ror8(r0), th_smlad(x02, th_sxtb16(r0), a0));
            a1 = th_smlad(x13, th_sxtb16_ror8(r1), th_smlad(x02, th_sxtb16(r1), a1));
            a2 = th_smlad(x13, th_sxtb16_ror8(r2), th_smlad(x02, th_sxtb16(r2), a2));
            a3 = th_smlad(x13, th_sxtb16_ror8(r3), th_smlad(x02, th_sxtb16(r3), a3));
        }
#endif
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
    }
#endif
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *wr = w + (size_t)r * depth;
        int32_t a = 0;
        for (int32_t k = d; k < depth; ++k) {
            a += (int32_t)x[k] * wr[k];
        }
        acc[r] += a;
    }
}

void th_fully_connected_x4_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                              int8_t *output) {
#if !TH_HAVE_DSP
    /* Plain cores (ARMv6-M): four rows per input value with byte loads, Thumb-1 assembly on the M0/M0+
     * (th_fully_connected_m0_s8.c); unpacking words without SXTB16 costs more than byte loads there. */
    th_fully_connected_m0_s8(p, input, weights, output);
    return;
#endif
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int8_t *out = output + (size_t)b * p->out_depth;
        for (int32_t o = 0; o < p->out_depth; o += 4) {
            const int32_t rows = p->out_depth - o < 4 ? p->out_depth - o : 4;
            int32_t acc[4] = {0, 0, 0, 0};
            th_fc_rows(x, weights + (size_t)o * depth, depth, rows, acc);
            for (int32_t r = 0; r < rows; ++r) {
                out[o + r] = th_requant_s8(acc[r] + p->bias_eff[o + r], p->multiplier[o + r], p->shift[o + r],
                                           p->output_offset, p->act_min, p->act_max);
            }
        }
    }
}
