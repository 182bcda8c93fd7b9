/* th_m0_asm.h: GNU assembler macros shared by the ARMv6-M (Cortex-M0/M0+) Thumb-1 kernels (th_*_m0_s8.S, which
 * include it through the C preprocessor, inside their #if defined(__ARM_ARCH_6M__)); a .h so that the build's
 * up-to-date check (harness/build.py) sees edits.  The macros expand to the instructions the kernels had
 * written out: the objects are byte-identical.  Calling convention: AAPCS (r0-r3
 * arguments, r4-r11 callee-saved); instruction semantics: Arm v6-M Architecture Reference Manual, A6.7.
 */
#ifndef TH_M0_ASM_H
#define TH_M0_ASM_H
#ifndef __ASSEMBLER__
#error "th_m0_asm.h holds assembler macros: include it from a .S file only"
#endif

/* Starts the Thumb function `name` (global, 4-byte aligned); close it with TH_M0_END. */
.macro TH_M0_FUNC name
    .syntax unified
    .thumb
    .text
    .align 2
    .global \name
    .type \name, %function
    .thumb_func
\name:
.endm

.macro TH_M0_END name
    .size \name, . - \name
.endm

/* Entry of a function whose fourth argument (r3) is int32_t acc[4]: saves r4-r7, lr, then the acc pointer and
 * the caller's r8-r11 (the acc pointer at [sp]), and loads acc[0..3] into r8-r11.  Leaves r3 = acc + 4 and
 * r4-r7 = acc[0..3]. */
.macro TH_M0_ACC4_ENTER
    push    {r4, r5, r6, r7, lr}
    mov     r4, r8
    mov     r5, r9
    mov     r6, r10
    mov     r7, r11
    push    {r3, r4, r5, r6, r7}        @ acc pointer, caller's r8-r11
    ldm     r3!, {r4, r5, r6, r7}
    mov     r8, r4
    mov     r9, r5
    mov     r10, r6
    mov     r11, r7
.endm

/* The matching return: stores r8-r11 to acc[0..3], restores the caller's r4-r11 and returns. */
.macro TH_M0_ACC4_RETURN
    mov     r0, r8
    mov     r1, r9
    mov     r2, r10
    mov     r4, r11
    ldr     r3, [sp, #0]
    stm     r3!, {r0, r1, r2, r4}
    pop     {r3, r4, r5, r6, r7}
    mov     r8, r4
    mov     r9, r5
    mov     r10, r6
    mov     r11, r7
    pop     {r4, r5, r6, r7, pc}
.endm

#endif /* TH_M0_ASM_H */
