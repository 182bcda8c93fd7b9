/* th_dot_1x4_m0_s8: the ARMv6-M (Cortex-M0/M0+) inner loop of th_conv2d_im2col_m0_s8, hand-written Thumb-1.
 *
 *   void th_dot_1x4_m0_s8(const int32_t *col, const int8_t *w, int32_t K, int32_t acc[4]);
 *   acc[p] += sum_{k < K} w[k] * col[4 * k + p]      p = 0..3 (int32, wraps; the kernels' sums never overflow)
 *
 * One filter row (K int8) against four im2col columns stored interleaved as int32 (col[4k + p]: value k of
 * pixel p), so one LDM fetches the k-th value of all four pixels and each weight (LDRSB, register offset) is
 * used four times: per k  LDM + LDRSB + 4 MULS + 4 ADD + the index ADDS = 11 instructions for 4 MACs, with
 * the four accumulators in r8-r11 (ADD to a high register sets no flags, so the index's flags reach BNE).
 * The main loop runs K & ~3 values four at a time, the rest one at a time.  The portable C twin of this
 * function (host, other cores) is in th_conv2d_im2col_m0_s8.c.  Instruction semantics: Arm v6-M
 * Architecture Reference Manual, A6.7 (LDM, LDRSB register, MULS, ADD register, ADDS immediate, RSBS).
 */
#if defined(__ARM_ARCH_6M__)
#include "th_m0_asm.h"

    TH_M0_FUNC th_dot_1x4_m0_s8
    TH_M0_ACC4_ENTER
    movs    r3, #3
    ands    r3, r2                      @ r3 = K & 3
    mov     r12, r3
    subs    r2, r2, r3                  @ r2 = K4 = K & ~3
    adds    r1, r1, r2                  @ r1 = w + K4, indexed by r7 = -K4 .. -1
    rsbs    r7, r2, #0
    beq     .Ltail

/* One value k of the four pixels: x0..x3 in r3-r6, weight in r2, index r7. */
.macro TH_STEP
    ldm     r0!, {r3, r4, r5, r6}
    ldrsb   r2, [r1, r7]
    muls    r3, r2, r3
    muls    r4, r2, r4
    muls    r5, r2, r5
    muls    r6, r2, r6
    adds    r7, r7, #1
    add     r8, r3
    add     r9, r4
    add     r10, r5
    add     r11, r6
.endm

.Lloop4:
    TH_STEP
    TH_STEP
    TH_STEP
    TH_STEP
    bne     .Lloop4

.Ltail:
    mov     r7, r12
    cmp     r7, #0
    beq     .Ldone
    adds    r1, r1, r7                  @ r1 = w + K
    rsbs    r7, r7, #0
.Lloop1:
    TH_STEP
    bne     .Lloop1

.Ldone:
    TH_M0_ACC4_RETURN
    TH_M0_END th_dot_1x4_m0_s8
#endif
