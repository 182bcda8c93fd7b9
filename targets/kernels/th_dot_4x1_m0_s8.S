/* th_dot_4x1_m0_s8: the ARMv6-M (Cortex-M0/M0+) inner loop of th_fully_connected_m0_s8, hand-written Thumb-1.
 *
 *   void th_dot_4x1_m0_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t acc[4]);
 *   acc[r] += sum_{k < depth} x[k] * w[r * depth + k]      r = 0..3 (int32, wraps; never overflows in use)
 *
 * Four weight rows against one input vector: per k one LDRSB of x[k] (kept in r2) and, per row, LDRSB + MULS
 * (the weight register is overwritten, so no copy of x[k] is needed) + ADD to an accumulator in r8-r11; the
 * shared index r6 runs from -depth to 0 against end pointers, and its ADDS sets the flags for BNE (ADD to a
 * high register sets none): 15 instructions per 4 MACs.  The portable C twin is in th_fully_connected_m0_s8.c.
 * Instruction semantics: Arm v6-M Architecture Reference Manual, A6.7.
 */
#if defined(__ARM_ARCH_6M__)
#include "th_m0_asm.h"

    TH_M0_FUNC th_dot_4x1_m0_s8
    TH_M0_ACC4_ENTER
    adds    r0, r0, r2                  @ end of x
    adds    r1, r1, r2                  @ end of row 0
    adds    r3, r1, r2                  @ end of row 1
    adds    r4, r3, r2                  @ end of row 2
    adds    r5, r4, r2                  @ end of row 3
    rsbs    r6, r2, #0
    beq     .Ldone
.Lloop:
    ldrsb   r2, [r0, r6]
    ldrsb   r7, [r1, r6]
    muls    r7, r2, r7
    add     r8, r7
    ldrsb   r7, [r3, r6]
    muls    r7, r2, r7
    add     r9, r7
    ldrsb   r7, [r4, r6]
    muls    r7, r2, r7
    add     r10, r7
    ldrsb   r7, [r5, r6]
    muls    r7, r2, r7
    adds    r6, r6, #1
    add     r11, r7
    bne     .Lloop
.Ldone:
    TH_M0_ACC4_RETURN
    TH_M0_END th_dot_4x1_m0_s8
#endif
