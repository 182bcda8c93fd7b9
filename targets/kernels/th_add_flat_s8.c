/* th_add_flat_s8: ADD int8 of two tensors of the output's shape (broadcast == 0), for cores with the DSP
 * extension's 32x32->64 multiply-accumulate (SMLAL: ARMv7-M / ARMv7E-M).  Semantics and parameters:
 * th_elementwise.h (bit-exact with TFLite reference_integer_ops::Add, AddFunc, like th_add_s8, its portable
 * reference).
 *
 * th_add_s8 rescales with th_multiply_by_quantized_multiplier (th_math.h: a 64-bit product, a division and a
 * remainder test), three times per element: ~130 instructions per element on the M4 twin (ResNet-8's ADDs).
 * The three rescalings here are th_requant_scale (th_requant.h, the same function in one SMLAL and shifts),
 * with the constants of right shifts of 2 or more computed once per call.  Without SMLAL (ARMv6-M)
 * th_add_s8 runs; with broadcast == 1 too.
 */
#include "th_elementwise.h"
#include "th_requant.h"
#include "th_simd.h"

#if (defined(__arm__) || defined(__thumb__)) && \
    !(defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__))
#define TH_ADD_FLAT_FAST 0 /* no SMLAL: the portable kernel */
#else
#define TH_ADD_FLAT_FAST 1 /* ARMv7-M, ARMv7E-M, ARMv8-M mainline and the host */
#endif

#if TH_ADD_FLAT_FAST
/* One rescaling x * multiplier * 2^(shift - 31) (TFLite MultiplyByQuantizedMultiplier) with its constants. */
typedef struct {
    int32_t m, shift, rnd, sh, fast; /* fast: shift <= -2, rnd = 2^(-shift-2), sh = -shift-1 */
} th_add_scale;

static th_add_scale th_add_scale_init(int32_t m, int32_t shift) {
    th_add_scale s = {m, shift, 0, 0, shift <= -2};
    if (s.fast) {
        s.rnd = 1 << (-shift - 2);
        s.sh = -shift - 1;
    }
    return s;
}

static inline int32_t th_add_rescale(int32_t x, const th_add_scale *s) {
    if (s->fast) { /* th_requant_scale's shift <= -2 branch */
        const int32_t l = (int32_t)(0x40000000UL | ((uint32_t)x & 0x80000000UL));
        const int64_t sum = (int64_t)x * s->m + l;
        return ((int32_t)(sum >> 32) + s->rnd) >> s->sh;
    }
    return th_requant_scale(x, s->m, s->shift);
}
#endif

void th_add_flat_s8(const th_add_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
#if !TH_ADD_FLAT_FAST
    th_add_s8(p, input1, input2, output);
#else
    if (p->broadcast) {
        th_add_s8(p, input1, input2, output);
        return;
    }
    const th_add_scale s1 = th_add_scale_init(p->input1_multiplier, p->input1_shift);
    const th_add_scale s2 = th_add_scale_init(p->input2_multiplier, p->input2_shift);
    const th_add_scale so = th_add_scale_init(p->output_multiplier, p->output_shift);
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset, ls = p->left_shift;
    const int32_t ooff = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int32_t n = p->size;
    for (int32_t i = 0; i < n; ++i) {
        /* |offset + x| <= 255, so the left shift by 20 stays within int32 (as TFLite's) */
        const int32_t a = th_add_rescale((int32_t)((uint32_t)(off1 + input1[i]) << ls), &s1);
        const int32_t b = th_add_rescale((int32_t)((uint32_t)(off2 + input2[i]) << ls), &s2);
        output[i] = th_requant_clamp(th_add_rescale(a + b, &so), ooff, lo, hi);
    }
#endif
}
