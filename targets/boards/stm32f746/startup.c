/* Startup for the NUCLEO-F746ZG (STM32F746ZG, Cortex-M7): vector table (16 system + 98 device vectors,
 * RM0385 table 40), Reset_Handler, fault report on USART3.  Memory map from boards.yaml via cortex-m.ld.in:
 * flash at 0x08000000 (AXIM), 320 KB of RAM at 0x20000000 (DTCM 64 KB + SRAM1 240 KB + SRAM2 16 KB, contiguous).
 */
#include <stdint.h>

#include "../th_cortex_m.h"

#define TH_NUM_IRQ 98

void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void) __attribute__((alias("Fault_Handler")));

__attribute__((section(".isr_vector"), used)) const th_vector_t th_vectors[16 + TH_NUM_IRQ] = {
    (th_vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
    [16 ... 16 + TH_NUM_IRQ - 1] = Default_Handler,
};

void Reset_Handler(void) {
    th_cm_crt0();
    (void)main();
    th_cm_reset();
}

TH_CM_DEFINE_FAULT_HANDLER()
