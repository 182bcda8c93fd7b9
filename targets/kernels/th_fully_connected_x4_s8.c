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
        /* One row pointer plus fixed row offsets keeps everything in registers (4 accumulators, 4 temporaries,
         * pointers and offsets: 14 of the 14 free Thumb-2 registers). */
        const int8_t *w0 = w;
        const int8_t *xp = x;
        const int32_t d1 = depth, d2 = 2 * depth, d3 = 3 * depth;
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
        for (d = 0; d + 4 <= depth; d += 4, w0 += 4) {
            const uint32_t xw = th_read_s8x4(&xp);
            const int8_t *q0 = w0, *q1 = w0 + d1, *q2 = w0 + d2, *q3 = w0 + d3;
            const uint32_t r0 = th_read_s8x4(&q0), r1 = th_read_s8x4(&q1), r2 = th_read_s8x4(&q2),
                           r3 = th_read_s8x4(&q3);
            const uint32_t x02 = th_sxtb16(xw), x13 = th_sxtb16_ror8(xw);
            a0 = th_smlad(x02, th_sxtb16(r0), th_smlad(x13, th_sxtb16_ror8(r0), a0));
            a1 = th_smlad(x02, th_sxtb16(r1), th_smlad(x13, th_sxtb16_ror8(r1), a1));
            a2 = th_smlad(x02, th_sxtb16(r2), th_smlad(x13, th_sxtb16_ror8(r2), a2));
            a3 = th_smlad(x02, th_sxtb16(r3), th_smlad(x13, th_sxtb16_ror8(r3), a3));
        }
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
