/* th_fully_connected_m0_s8: FULLY_CONNECTED int8 for cores without the DSP extension (Cortex-M0/M0+).
 * Semantics and parameters: th_fully_connected.h (bit-exact with TFLite reference_integer_ops::FullyConnected
 * (PerChannel), like th_fully_connected_s8, its portable reference); declaration: th_conv_m0.h.
 *
 * Four output rows at a time share each input value: th_dot_4x1_m0_s8 (Thumb-1 assembly on ARMv6-M, the C
 * twin below elsewhere), 15 instructions per 4 MACs on the M0+ against ~5 per MAC for the byte loop; the rows
 * left over (out_depth mod 4) take the plain loop.  Requantization: th_requant.h (16x16 multiplies on ARMv6-M).
 */
#include <stddef.h>

#include "th_conv_m0.h"
#include "th_requant.h"

#if !defined(__ARM_ARCH_6M__)
/* C twin of the Thumb-1 assembly (th_dot_4x1_m0_s8.S): same sums, any core. */
void th_dot_4x1_m0_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t acc[4]) {
    for (int32_t r = 0; r < 4; ++r) {
        const int8_t *wr = w + (size_t)r * depth;
        int32_t a = acc[r];
        for (int32_t k = 0; k < depth; ++k) {
            a += (int32_t)x[k] * wr[k];
        }
        acc[r] = a;
    }
}
#endif

void th_fully_connected_m0_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                              int8_t *output) {
    const int32_t depth = p->accum_depth, out_depth = p->out_depth;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t *const bias = p->bias_eff, *const mult = p->multiplier, *const shift = p->shift;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int8_t *out = output + (size_t)b * out_depth;
        int32_t o = 0;
        for (; o + 4 <= out_depth; o += 4) {
            int32_t acc[4] = {bias[o], bias[o + 1], bias[o + 2], bias[o + 3]};
            th_dot_4x1_m0_s8(x, weights + (size_t)o * depth, depth, acc);
            for (int32_t r = 0; r < 4; ++r) {
                out[o + r] = th_requant_s8(acc[r], mult[o + r], shift[o + r], off, lo, hi);
            }
        }
        for (; o < out_depth; ++o) {
            const int8_t *w = weights + (size_t)o * depth;
            int32_t a = bias[o];
            for (int32_t k = 0; k < depth; ++k) {
                a += (int32_t)x[k] * w[k];
            }
            out[o] = th_requant_s8(a, mult[o], shift[o], off, lo, hi);
        }
    }
}
