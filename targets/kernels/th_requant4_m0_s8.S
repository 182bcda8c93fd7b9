/* th_requant4_m0_s8: th_requant_scale (th_requant.h) of four accumulators sharing one multiplier and one
 * right shift of at least 2, hand-written Thumb-1 for ARMv6-M (Cortex-M0/M0+).
 *
 *   void th_requant4_m0_s8(int32_t acc[4], int32_t multiplier, int32_t shift);   shift <= -2, multiplier >= 0
 *   acc[j] = th_requant_scale(acc[j], multiplier, shift)
 *
 * th_requant.h shows that for shift = -r <= -2 the result is (hi + 2^(r-2)) >> (r-1), hi the high word of
 * acc * m + L with L = 2^30 - [acc < 0] * 2^31.  ARMv6-M has no 32x32->64 multiply, so the 64-bit product is
 * built from four 16x16 MULS (m = mh * 2^16 + ml, acc = ah * 2^16 + al; al, ml unsigned; each partial
 * product exact in 32 bits) with ADDS/ADCS carries, as th_smlal_split16 does in C.  [acc < 0] is read from the
 * product's sign: equal for m > 0; for m = 0 both choices give 0.  26 instructions per value (GCC: ~70).
 * Instruction semantics: Arm v6-M Architecture Reference Manual, A6.7.  C twin: th_conv2d_im2col_m0_s8.c.
 */
#if defined(__ARM_ARCH_6M__)
#include "th_m0_asm.h"

    TH_M0_FUNC th_requant4_m0_s8
    push    {r4, r5, r6, r7, lr}
    mov     r4, r8
    mov     r5, r9
    mov     r6, r10
    push    {r4, r5, r6}
    rsbs    r2, r2, #0                  @ r = -shift >= 2
    subs    r3, r2, #1
    mov     r10, r3                     @ r - 1
    subs    r2, r2, #2
    movs    r3, #1
    lsls    r3, r2
    mov     r9, r3                      @ 2^(r-2)
    movs    r3, #1
    lsls    r3, r3, #30
    mov     r8, r3                      @ 2^30
    uxth    r5, r1                      @ ml
    lsrs    r6, r1, #16                 @ mh

.macro TH_RQ off
    ldr     r1, [r0, #\off]
    asrs    r2, r1, #16                 @ ah
    uxth    r1, r1                      @ al
    movs    r3, r1
    muls    r3, r5, r3                  @ lo = al * ml
    muls    r1, r6, r1                  @ t3 = al * mh
    movs    r4, r2
    muls    r4, r6, r4                  @ hi = ah * mh
    muls    r2, r5, r2                  @ t2 = ah * ml
    lsls    r7, r2, #16
    asrs    r2, r2, #16
    adds    r3, r3, r7
    adcs    r4, r2                      @ += t2 * 2^16 (signed)
    lsls    r7, r1, #16
    lsrs    r1, r1, #16
    adds    r3, r3, r7
    adcs    r4, r1                      @ += t3 * 2^16
    asrs    r2, r4, #31                 @ -[product < 0]
    lsls    r7, r2, #31
    add     r7, r8                      @ low word of L
    adds    r3, r3, r7
    adcs    r4, r2                      @ += L
    add     r4, r9
    mov     r7, r10
    asrs    r4, r7
    str     r4, [r0, #\off]
.endm

    TH_RQ 0
    TH_RQ 4
    TH_RQ 8
    TH_RQ 12
    pop     {r4, r5, r6}
    mov     r8, r4
    mov     r9, r5
    mov     r10, r6
    pop     {r4, r5, r6, r7, pc}
    TH_M0_END th_requant4_m0_s8
#endif
