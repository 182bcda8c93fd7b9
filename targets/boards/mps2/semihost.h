/* ARM semihosting for the emulated twins (QEMU -semihosting-config enable=on,target=native).
 * Only for twins: on a real board without a debugger attached, BKPT 0xAB faults.
 */
#ifndef TH_SEMIHOST_H
#define TH_SEMIHOST_H

#include <stdint.h>

#define TH_SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define TH_SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* Exit codes the twin uses; the host sees them as QEMU's exit status. */
#define TH_EXIT_OK 0
#define TH_EXIT_FAULT 3

/* One semihosting call: operation in r0, argument (pointer to a parameter block) in r1; result in r0. */
static inline uint32_t th_semihost_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Stop QEMU with exit status `code` (0..255); SYS_EXIT_EXTENDED carries the code on 32-bit Arm. */
static inline __attribute__((noreturn)) void th_port_exit(int code) {
    uint32_t block[2] = {TH_SEMIHOST_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    th_semihost_call(TH_SEMIHOST_SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

#endif /* TH_SEMIHOST_H */
