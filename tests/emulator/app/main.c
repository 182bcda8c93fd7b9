/* Test firmware for the twin tests: a ready line, a serial echo and instruction-count measurements.
 * Commands (one byte each): 'm' measure spin loops, 'w' measure across a 32-bit counter wrap, 'e' echo the
 * next byte, 'f' execute an undefined instruction (fault report, exit status 3), 'q' exit with status 0.  Linked with a generated model (model.h) to check
 * that the model API links; the model is not invoked.
 */
#include <stdint.h>

#include "model.h"
#include "th_port.h"

static void put_str(const char *s) {
    uint32_t n = 0;
    while (s[n]) {
        ++n;
    }
    th_port_write((const uint8_t *)s, n);
}

static void put_u64(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    put_str(&buf[i]);
}

/* Exactly 2 * n instructions inside the loop (n >= 1): SUBS + BNE per iteration. */
static __attribute__((noinline)) void spin(uint32_t n) {
    __asm__ volatile(".syntax unified\n1: subs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
}

static __attribute__((noinline)) uint64_t measure(uint32_t n) {
    uint64_t t0 = th_port_timer_read();
    spin(n);
    uint64_t t1 = th_port_timer_read();
    return t1 - t0;
}

static void report(const char *label, uint32_t n, uint64_t count) {
    put_str(label);
    put_str(" n=");
    put_u64(n);
    put_str(" count=");
    put_u64(count);
    put_str("\n");
}

int main(void) {
    th_port_init();
    put_str("TH-READY board=");
    put_str(TH_BOARD_NAME);
    put_str(" kind=");
    put_str(TH_TARGET_KIND);
    put_str(" unit=");
    put_str(th_port_timer_unit());
    put_str(" model=");
    put_str(th_model_name);
    put_str(" t=");
    put_u64(th_port_timer_read());
    put_str("\n");
    for (;;) {
        int c = th_port_getc();
        if (c == 'm') {
            static const uint32_t sizes[] = {1u, 2u, 1000u, 1001u, 123457u, 10000000u};
            for (uint32_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
                report("SPIN", sizes[i], measure(sizes[i]));
            }
            put_str("DONE\n");
        } else if (c == 'w') {
            /* The counter wraps after 2^32 ticks = 2684354560 instructions since reset; straddle it. */
            uint64_t now = th_port_timer_read();
            uint64_t wrap = 2684354560ull;
            if (now + 200000000ull < wrap) {
                uint64_t gap = (wrap - now - 100000000ull) / 2u;
                report("PRE", (uint32_t)gap, measure((uint32_t)gap));
            }
            report("WRAP", 150000000u, measure(150000000u));
            put_str("T=");
            put_u64(th_port_timer_read());
            put_str("\nDONE\n");
        } else if (c == 'e') {
            uint8_t b = (uint8_t)th_port_getc();
            th_port_write(&b, 1);
        } else if (c == 'f') {
            __asm__ volatile("udf #0");
        } else if (c == 'q') {
            return 0;
        }
    }
}
