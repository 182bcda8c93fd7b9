/* Startup for the MPS2 twins (QEMU mps2-an500 / an386 / an385): vector table, reset handler, fault report.
 * Symbols come from the generated linker script (targets/boards/cortex-m.ld.in).
 * The same file serves ARMv6-M (cortex-m0plus builds) and ARMv7E-M with or without FPU: the ARMv7-M-only
 * vectors (MemManage, BusFault, UsageFault, DebugMon) are never taken on ARMv6-M.
 * Unlike a board, a twin ends QEMU with a semihosting exit status: main's, or TH_EXIT_FAULT after a fault.
 */
#include <stdint.h>

#include "../th_cortex_m.h"
#include "semihost.h"

void Default_Handler(void) __attribute__((alias("Fault_Handler"))); /* unexpected interrupts: a fault */

TH_CM_DEFINE_V7M_VECTORS(32);

void Reset_Handler(void) {
    th_cm_crt0();
    th_port_exit(main());
}

TH_CM_DEFINE_FAULT_HANDLER(th_port_exit(TH_EXIT_FAULT))
