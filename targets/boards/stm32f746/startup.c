/* Startup for the NUCLEO-F746ZG (STM32F746ZG, Cortex-M7): vector table (16 system + 98 device vectors,
 * RM0385 table 40), Reset_Handler, fault report on USART3.  Memory map from boards.yaml via cortex-m.ld.in:
 * flash at 0x08000000 (AXIM), 320 KB of RAM at 0x20000000 (DTCM 64 KB + SRAM1 240 KB + SRAM2 16 KB, contiguous).
 */
#include <stdint.h>

#include "../th_cortex_m.h"

void Default_Handler(void) __attribute__((alias("Fault_Handler")));

TH_CM_DEFINE_V7M_VECTORS(98);

void Reset_Handler(void) {
    th_cm_crt0();
    (void)main();
    th_cm_reset();
}

TH_CM_DEFINE_FAULT_HANDLER((void)0)
