/* Startup for the Raspberry Pi Pico (RP2040, Cortex-M0+): vector table (16 system + 26 device vectors,
 * RP2040 datasheet 2.3.2), Reset_Handler, fault report on UART0.  Memory map from boards.yaml via
 * cortex-m.ld.in: 2 MB of QSPI flash at 0x10000000 (XIP) and 264 KB of SRAM at 0x20000000.
 *
 * Boot: the bootrom copies the first 256 bytes of flash (our second-stage loader, boot2_image.c, section
 * .boot2, placed first by the linker script) to SRAM, checks their CRC-32 and runs them; boot2 enables XIP
 * and jumps through this vector table at 0x10000100.  The SysTick vector counts 2^24-cycle periods for the
 * cycle timer (port.c).
 */
#include <stdint.h>

#include "../th_cortex_m.h"

#define TH_NUM_IRQ 26

void Default_Handler(void) __attribute__((alias("Fault_Handler")));
void th_systick_handler(void);

__attribute__((section(".isr_vector"), used)) const th_vector_t th_vectors[16 + TH_NUM_IRQ] = {
    (th_vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    0, 0, 0, 0, 0, 0, 0,
    Default_Handler, /* SVCall */
    0, 0,
    Default_Handler,    /* PendSV */
    th_systick_handler, /* SysTick: cycle-timer periods */
    [16 ... 16 + TH_NUM_IRQ - 1] = Default_Handler,
};

void Reset_Handler(void) {
    th_cm_crt0();
    (void)main();
    th_cm_reset();
}

TH_CM_DEFINE_FAULT_HANDLER((void)0)
