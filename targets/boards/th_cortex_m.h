/* Shared pieces of every Cortex-M port (stm32f746, nrf52840, rp2040 and the mps2 twins): the C run-time
 * set-up, the ARMv7-M vector table, the fault report and the architectural registers (ARMv6-M / ARMv7-M
 * Architecture Reference Manuals).  Each port includes this header from its startup.c; symbols come from
 * targets/boards/cortex-m.ld.in.
 */
#ifndef TH_CORTEX_M_H
#define TH_CORTEX_M_H

#include <stdint.h>

#include "th_port.h"

#define TH_REG(addr) (*(volatile uint32_t *)(addr))

/* System control space (ARMv7-M ARM B3.2 / ARMv6-M ARM B3.2). */
#define TH_SCB_ICSR TH_REG(0xE000ED04u)
#define TH_SCB_VTOR TH_REG(0xE000ED08u)
#define TH_SCB_AIRCR TH_REG(0xE000ED0Cu)
#define TH_SCB_CCR TH_REG(0xE000ED14u)
#define TH_SCB_CPACR TH_REG(0xE000ED88u)
#define TH_SYST_CSR TH_REG(0xE000E010u)
#define TH_SYST_RVR TH_REG(0xE000E014u)
#define TH_SYST_CVR TH_REG(0xE000E018u)
#define TH_DEMCR TH_REG(0xE000EDFCu)
#define TH_DWT_CTRL TH_REG(0xE0001000u)
#define TH_DWT_CYCCNT TH_REG(0xE0001004u)
#define TH_DWT_LAR TH_REG(0xE0001FB0u)

#define TH_AIRCR_SYSRESETREQ (0x05FA0000u | 0x4u)
#define TH_ICSR_PENDSTSET (1u << 26)

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, __stack_top;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);

/* C run-time set-up: FPU access (when built for one), .data copy, .bss zero, constructors. */
static inline void th_cm_crt0(void) {
#if defined(__ARM_FP)
    TH_SCB_CPACR |= (0xFu << 20); /* CP10 and CP11 full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *src = &_sidata, *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    for (void (**fn)(void) = __init_array_start; fn < __init_array_end; ++fn) {
        (*fn)();
    }
}

/* main() never returns (the protocol loop runs forever); if it does, reset the chip. */
static inline __attribute__((noreturn)) void th_cm_reset(void) {
    __asm__ volatile("dsb" ::: "memory");
    TH_SCB_AIRCR = TH_AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}

/* DWT cycle counter (ARMv7-M only; the Cortex-M7 also needs its lock access register unlocked). */
static inline void th_cm_dwt_start(void) {
    TH_DEMCR |= (1u << 24); /* TRCENA */
    TH_DWT_LAR = 0xC5ACCE55u;
    TH_DWT_CYCCNT = 0;
    TH_DWT_CTRL |= 1u; /* CYCCNTENA */
}

/* The 32-bit DWT CYCCNT extended to 64 bits by wrap detection: correct while it is read at least once per
 * 2^32 cycles (19.9 s at 216 MHz, 67 s at 64 MHz); th_port_getc reads it while idle and an inference is
 * far shorter. */
static inline uint64_t th_cm_dwt_read64(uint32_t *last, uint32_t *wraps) {
    uint32_t now = TH_DWT_CYCCNT;
    if (now < *last) {
        ++*wraps;
    }
    *last = now;
    return ((uint64_t)*wraps << 32) | now;
}

static inline void th_cm_put_str(const char *s) {
    uint32_t n = 0;
    while (s[n]) {
        ++n;
    }
    th_port_write((const uint8_t *)s, n);
}

static inline void th_cm_put_hex(uint32_t v) {
    uint8_t buf[8];
    for (int i = 7; i >= 0; --i, v >>= 4) {
        buf[i] = (uint8_t)"0123456789abcdef"[v & 0xFu];
    }
    th_port_write(buf, 8);
}

/* Fault report on the serial link, same line as the twins print ("TH-FAULT exception=... pc=... lr=..."),
 * then stop: the host sees the line in serial.log and times out with it.  `frame` is the stacked
 * exception frame (r0-r3, r12, lr, pc, xpsr). */
static inline void th_cm_fault_print(const uint32_t *frame) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    th_cm_put_str("\r\nTH-FAULT exception=");
    th_cm_put_hex(ipsr & 0x1FFu);
    th_cm_put_str(" pc=");
    th_cm_put_hex(frame[6]);
    th_cm_put_str(" lr=");
    th_cm_put_hex(frame[5]);
    th_cm_put_str("\r\n");
}

/* Defines th_fault_report (prints the report, then runs AFTER_REPORT: a twin exits QEMU with a status, a board
 * stops) and Fault_Handler (naked: the stack pointer still points at the exception frame; ARMv6-M compatible). */
#define TH_CM_DEFINE_FAULT_HANDLER(AFTER_REPORT)                                                         \
    __attribute__((used, noreturn)) void th_fault_report(const uint32_t *frame) {                        \
        th_cm_fault_print(frame);                                                                        \
        AFTER_REPORT;                                                                                    \
        for (;;) {                                                                                       \
        }                                                                                                \
    }                                                                                                    \
    __attribute__((naked)) void Fault_Handler(void) {                                                    \
        __asm__ volatile("mrs r0, msp\n\t"                                                               \
                         "ldr r1, =th_fault_report\n\t"                                                  \
                         "bx r1\n\t"                                                                     \
                         ".ltorg");                                                                      \
    }

typedef void (*th_vector_t)(void);

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);

/* The ARMv7-M vector table: 16 system vectors (faults to Fault_Handler, unexpected exceptions and interrupts to
 * Default_Handler, which ports alias to Fault_Handler) and NUM_IRQ device interrupts. */
#define TH_CM_DEFINE_V7M_VECTORS(NUM_IRQ)                                                                \
    __attribute__((section(".isr_vector"), used)) const th_vector_t th_vectors[16 + (NUM_IRQ)] = {       \
        (th_vector_t)(uintptr_t)&__stack_top,                                                            \
        Reset_Handler,                                                                                   \
        Fault_Handler, /* NMI */                                                                         \
        Fault_Handler, /* HardFault */                                                                   \
        Fault_Handler, /* MemManage */                                                                   \
        Fault_Handler, /* BusFault */                                                                    \
        Fault_Handler, /* UsageFault */                                                                  \
        0, 0, 0, 0,                                                                                      \
        Default_Handler, /* SVCall */                                                                    \
        Default_Handler, /* DebugMon */                                                                  \
        0,                                                                                               \
        Default_Handler, /* PendSV */                                                                    \
        Default_Handler, /* SysTick */                                                                   \
        [16 ... 16 + (NUM_IRQ) - 1] = Default_Handler,                                                   \
    }

#endif /* TH_CORTEX_M_H */
