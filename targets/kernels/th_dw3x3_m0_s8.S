/* th_dw3x3_m0_s8: the ARMv6-M (Cortex-M0/M0+) inner loop of th_depthwise_conv2d_m0_s8 for an interior 3x3
 * window (no dilation), hand-written Thumb-1.
 *
 *   void th_dw3x3_m0_s8(const int8_t *x, const int8_t *f, int32_t C, int32_t row, int32_t n, int32_t *acc);
 *   acc[i] += sum_{fy, fx < 3} x[i + fy * row + fx * C] * f[i + (3 * fy + fx) * C]      i = 0 .. n-1
 *
 * x: the window's top-left input value of channel 0 (NHWC: taps C apart, rows `row` apart), f: the filter
 * (HWC, C channels).  LDRSB has only a register offset, so the row pointers start C before the row and the
 * three taps are at offsets C, 2C, 3C held in r2-r4; per tap LDRSB x + LDRSB f + MULS + ADDS (4 instructions
 * per MAC), the channel's accumulator in r7, channel pointers and the row step in r8-r12.
 * Instruction semantics: Arm v6-M Architecture Reference Manual, A6.7.  C twin: th_depthwise_conv2d_m0_s8.c.
 */
#if defined(__ARM_ARCH_6M__)
#include "th_m0_asm.h"

    TH_M0_FUNC th_dw3x3_m0_s8
    push    {r4, r5, r6, r7, lr}
    mov     r4, r8
    mov     r5, r9
    mov     r6, r10
    mov     r7, r11
    push    {r4, r5, r6, r7}
    ldr     r4, [sp, #36]               @ n   (9 words pushed: 36 bytes)
    ldr     r5, [sp, #40]               @ acc
    mov     r8, r3                      @ row step
    mov     r9, r5                      @ acc pointer
    lsls    r6, r4, #2
    adds    r6, r5, r6
    mov     r10, r6                     @ acc end
    subs    r0, r0, r2
    mov     r11, r0                     @ x of channel i, minus C
    subs    r1, r1, r2
    mov     r12, r1                     @ f of channel i, minus C
    lsls    r3, r2, #1                  @ 2C
    adds    r4, r3, r2                  @ 3C
    cmp     r6, r5
    beq     .Ldone

.macro TH_ROW
    ldrsb   r5, [r0, r2]
    ldrsb   r6, [r1, r2]
    muls    r5, r6, r5
    adds    r7, r7, r5
    ldrsb   r5, [r0, r3]
    ldrsb   r6, [r1, r3]
    muls    r5, r6, r5
    adds    r7, r7, r5
    ldrsb   r5, [r0, r4]
    ldrsb   r6, [r1, r4]
    muls    r5, r6, r5
    adds    r7, r7, r5
.endm

.Lchannel:
    mov     r0, r11
    mov     r1, r12
    mov     r5, r9
    ldr     r7, [r5]
    TH_ROW
    add     r0, r8
    adds    r1, r1, r4
    TH_ROW
    add     r0, r8
    adds    r1, r1, r4
    TH_ROW
    mov     r5, r9
    stm     r5!, {r7}
    mov     r9, r5
    mov     r6, r11
    adds    r6, r6, #1
    mov     r11, r6
    mov     r6, r12
    adds    r6, r6, #1
    mov     r12, r6
    cmp     r5, r10
    bne     .Lchannel

.Ldone:
    pop     {r4, r5, r6, r7}
    mov     r8, r4
    mov     r9, r5
    mov     r10, r6
    mov     r11, r7
    pop     {r4, r5, r6, r7, pc}
    TH_M0_END th_dw3x3_m0_s8
#endif
