/* Board port for the MPS2 twins: CMSDK UART0 and the FPGAIO counter read as an exact instruction count.
 *
 * Timer: QEMU runs with `-icount shift=6,sleep=off` (harness/flash/qemu.py), so each instruction advances
 * virtual time by exactly 64 ns and the FPGAIO COUNTER (25 MHz, 40 ns per tick, reset to 0 with virtual time)
 * reads T = floor(1.6 * N) after N instructions since reset.  Since 1/1.6 < 1, N = ceil(5 * T / 8) is the
 * only integer consistent with T, so the instruction count is recovered exactly.  With QEMU's default
 * sleep=on, virtual time may jump while QEMU thinks the vCPU idles, the phase of the counter is lost and
 * counts were off by 1-2 instructions from run to run: sleep=off is required.
 * The 32-bit counter wraps every 2^32 ticks (2,684,354,560 instructions); it is extended to 64 bits by wrap
 * detection, which needs one read per wrap period (th_port_getc reads it while it waits).
 * Verified (tests/emulator/test_twin_boot.py, QEMU 7.2): a spin loop of 2n instructions measures 2n + K with
 * K constant per build (30 for the cortex-m7 build on mps2-an500, 33 for the cortex-m0plus build on
 * mps2-an385), for n = 1 .. 1.28e9, identical in every run and across the counter wrap.
 */
#include <stdint.h>

#include "th_port.h"

#define TH_UART0_BASE 0x40004000u
#define TH_UART_DATA (*(volatile uint32_t *)(TH_UART0_BASE + 0x00u))
#define TH_UART_STATE (*(volatile uint32_t *)(TH_UART0_BASE + 0x04u))
#define TH_UART_CTRL (*(volatile uint32_t *)(TH_UART0_BASE + 0x08u))
#define TH_UART_BAUDDIV (*(volatile uint32_t *)(TH_UART0_BASE + 0x10u))
#define TH_UART_STATE_TX_FULL 0x1u
#define TH_UART_STATE_RX_FULL 0x2u

#define TH_FPGAIO_COUNTER (*(volatile uint32_t *)0x40028018u)

static uint32_t timer_last_ticks;
static uint32_t timer_wraps;

void th_port_init(void) {
    TH_UART_BAUDDIV = 16u; /* the smallest legal divider; QEMU ignores the baud rate */
    TH_UART_CTRL = 3u;     /* TX and RX enable, no interrupts */
    (void)TH_UART_DATA;    /* makes QEMU poll the host socket again (else the first byte waits ~1 s) */
    timer_last_ticks = 0;
    timer_wraps = 0;
}

int th_port_getc(void) {
    while (!(TH_UART_STATE & TH_UART_STATE_RX_FULL)) {
        (void)th_port_timer_read(); /* keep the 64-bit extension current while idle */
    }
    return (int)(TH_UART_DATA & 0xFFu);
}

void th_port_write(const uint8_t *buf, uint32_t len) {
    for (uint32_t i = 0; i < len; ++i) {
        while (TH_UART_STATE & TH_UART_STATE_TX_FULL) {
        }
        TH_UART_DATA = buf[i];
    }
}

uint64_t th_port_timer_read(void) {
    uint32_t ticks = TH_FPGAIO_COUNTER;
    if (ticks < timer_last_ticks) {
        ++timer_wraps;
    }
    timer_last_ticks = ticks;
    uint64_t t = ((uint64_t)timer_wraps << 32) | ticks;
    return (t * 5u + 7u) >> 3; /* ceil(T * 5 / 8) */
}

const char *th_port_timer_unit(void) { return "instructions"; }

void th_port_timestamp(void) {}

/* newlib hooks: stdout/stderr go to the UART; the heap is the linker script's .heap region. */
int _write(int fd, const char *buf, int len) {
    (void)fd;
    th_port_write((const uint8_t *)buf, (uint32_t)len);
    return len;
}

extern uint8_t __heap_start[], __heap_end[];

void *_sbrk(int incr) {
    static uint8_t *brk = __heap_start;
    if (incr > __heap_end - brk || incr < __heap_start - brk) {
        return (void *)-1;
    }
    uint8_t *prev = brk;
    brk += incr;
    return prev;
}
