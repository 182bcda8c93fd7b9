/* Startup for the MPS2 twins (QEMU mps2-an500 / an386 / an385): vector table, reset handler, fault report.
 * Symbols come from the generated linker script (targets/boards/cortex-m.ld.in).
 * The same file serves ARMv6-M (cortex-m0plus builds) and ARMv7E-M with or without FPU.
 */
#include <stdint.h>

#include "semihost.h"
#include "th_port.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, __stack_top;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
extern int main(void);

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);

#define TH_SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define TH_NUM_IRQ 32

typedef void (*th_vector_t)(void);

__attribute__((section(".isr_vector"), used)) const th_vector_t th_vectors[16 + TH_NUM_IRQ] = {
    (th_vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    Fault_Handler,   /* NMI */
    Fault_Handler,   /* HardFault */
    Fault_Handler,   /* MemManage (v7-M) */
    Fault_Handler,   /* BusFault (v7-M) */
    Fault_Handler,   /* UsageFault (v7-M) */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
    [16 ... 16 + TH_NUM_IRQ - 1] = Default_Handler,
};

void Reset_Handler(void) {
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
    th_port_exit(main());
}

static void put_str(const char *s) {
    uint32_t n = 0;
    while (s[n]) {
        ++n;
    }
    th_port_write((const uint8_t *)s, n);
}

static void put_hex(uint32_t v) {
    uint8_t buf[8];
    for (int i = 7; i >= 0; --i, v >>= 4) {
        buf[i] = (uint8_t)"0123456789abcdef"[v & 0xFu];
    }
    th_port_write(buf, 8);
}

/* Called by Fault_Handler with the stacked exception frame (r0-r3, r12, lr, pc, xpsr) on the main stack. */
__attribute__((used, noreturn)) void th_fault_report(const uint32_t *frame) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    put_str("\r\nTH-FAULT exception=");
    put_hex(ipsr & 0x1FFu);
    put_str(" pc=");
    put_hex(frame[6]);
    put_str(" lr=");
    put_hex(frame[5]);
    put_str("\r\n");
    th_port_exit(TH_EXIT_FAULT);
}

/* Naked so that the stack pointer still points at the exception frame; ARMv6-M compatible instructions. */
__attribute__((naked)) void Fault_Handler(void) {
    __asm__ volatile(
        "mrs r0, msp\n\t"
        "ldr r1, =th_fault_report\n\t"
        "bx r1\n\t"
        ".ltorg");
}

/* Unexpected interrupts are reported like faults. */
void Default_Handler(void) __attribute__((alias("Fault_Handler")));
