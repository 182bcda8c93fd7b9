/* Startup for the nRF52840-DK (nRF52840, Cortex-M4F): vector table (16 system + 48 device vectors,
 * nRF52840 PS v1.7 6.3.1), Reset_Handler, fault report on UARTE0.  Memory map from boards.yaml via cortex-m.ld.in:
 * 1 MB of flash at 0x00000000, 256 KB of RAM at 0x20000000.
 */
#include <stdint.h>

#include "../th_cortex_m.h"

void Default_Handler(void) __attribute__((alias("Fault_Handler")));

TH_CM_DEFINE_V7M_VECTORS(48);

void Reset_Handler(void) {
    th_cm_crt0();
    (void)main();
    th_cm_reset();
}

TH_CM_DEFINE_FAULT_HANDLER((void)0)
