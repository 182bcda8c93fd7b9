/* Host check of th_requant_scale (th_requant.h, the optimized one-SMLAL form) against the portable
 * th_multiply_by_quantized_multiplier (th_math.h, TFLite's two-step form) on random and edge values.
 * Prints the number of mismatches and exits nonzero when there is any.  Built by tests/kernels/test_requant.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "th_math.h"
#include "th_requant.h"

static uint64_t state = 0x9E3779B97F4A7C15ULL;
static uint32_t next(void) { /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 2685821657736338717ULL) >> 32);
}

int main(int argc, char **argv) {
    static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1,
                                    1 << 30, -(1 << 30), (1 << 30) - 1, 12345, -12345};
    const long n = argc > 1 ? atol(argv[1]) : 2000000L;
    long bad = 0;
    for (long i = 0; i < n; ++i) {
        const int32_t acc = (i % 7 == 0) ? edges[next() % 14] : (int32_t)next() >> (next() % 31);
        const uint32_t pick = next() % 16;
        const int32_t mult = pick == 0 ? 0 : pick == 1 ? (1 << 30) : pick == 2 ? INT32_MAX
                                                                   : (int32_t)((1U << 30) | (next() >> 2));
        const int32_t shift = (i % 5 == 0) ? (int32_t)(next() % 62) - 31 : -(int32_t)(next() % 16);
        const int32_t fast = th_requant_scale(acc, mult, shift);
        const int32_t ref = th_multiply_by_quantized_multiplier(acc, mult, shift);
        if (fast != ref) {
            if (bad < 5) {
                printf("acc %ld multiplier %ld shift %ld: fast %ld reference %ld\n", (long)acc, (long)mult,
                       (long)shift, (long)fast, (long)ref);
            }
            ++bad;
        }
    }
    printf("%ld mismatches in %ld\n", bad, n);
    return bad != 0;
}
