/* SIMD primitives of the optimized int8 kernels, one definition per core family.
 *
 *   TH_HAVE_DSP   1 when the kernels take their packed-int16 (SXTB16 + SMLAD) paths: Arm cores with the DSP
 *                 extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55) and the host build, where every
 *                 primitive below is an exact C emulation, so host tests run the very code paths the M4/M7
 *                 firmware runs.  0 on ARMv6-M (Cortex-M0/M0+) and ARMv7-M without DSP (M3), which take the
 *                 plain 32-bit C paths.  Define TH_FORCE_NO_DSP to build the plain paths on any machine (the
 *                 host tests do, to check them too).
 *
 * Semantics of the instructions (Arm Architecture Reference Manual ARMv7-M, A7.7 SXTB16, SMLAD, SMLABB/SMLATT;
 * ACLE section 9 "SIMD32 intrinsics"):
 *   th_sxtb16(x)       { (int16)(int8)x[7:0], (int16)(int8)x[23:16] }        halfwords low, high
 *   th_sxtb16_ror8(x)  { (int16)(int8)x[15:8], (int16)(int8)x[31:24] }
 *   th_smlad(a, b, c)  c + a.lo * b.lo + a.hi * b.hi   (int32, wraps; the kernels' sums never overflow)
 *   th_smlabb(a,b,c)   c + a.lo * b.lo ;  th_smlatt(a, b, c)  c + a.hi * b.hi
 * Words are little-endian; th_read_*() are unaligned-safe word reads (one LDR on M4/M7) that advance the pointer.
 */
#ifndef TH_SIMD_H
#define TH_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(TH_FORCE_NO_DSP)
#define TH_HAVE_DSP 0
#elif defined(__arm__) || defined(__thumb__)
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TH_HAVE_DSP 1
#define TH_DSP_NATIVE 1
#include <arm_acle.h>
#else
#define TH_HAVE_DSP 0
#endif
#else
#define TH_HAVE_DSP 1 /* host: exact C emulation of the DSP instructions */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Four int8 as one word (unaligned-safe); advances *p by 4. */
static inline uint32_t th_read_s8x4(const int8_t **p) {
    uint32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    return v;
}

/* Two int16 as one word (unaligned-safe); advances *p by 2. */
static inline uint32_t th_read_s16x2(const int16_t **p) {
    uint32_t v;
    memcpy(&v, *p, 4);
    *p += 2;
    return v;
}

/* Stores one word of two int16 (unaligned-safe); advances *p by 2. */
static inline void th_write_s16x2(int16_t **p, uint32_t v) {
    memcpy(*p, &v, 4);
    *p += 2;
}

/* (x * m + 2^30) >> 31 with a 64-bit product (arithmetic shift); the result fits int32 unless x = m = INT32_MIN.
 * On Arm one SMLAL onto {2^30, 0} and two shifts (GCC otherwise emits a 64x64 multiply here at times). */
#if defined(__arm__) && (defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__))
static inline int32_t th_mul_round_high(int32_t x, int32_t m) {
    uint32_t lo = 1UL << 30;
    int32_t hi = 0;
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(x), "r"(m));
    return (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
}
#else
static inline int32_t th_mul_round_high(int32_t x, int32_t m) {
    return (int32_t)(((int64_t)x * m + (1LL << 30)) >> 31);
}
#endif

#if TH_HAVE_DSP
#if defined(TH_DSP_NATIVE)
static inline uint32_t th_sxtb16(uint32_t x) { return (uint32_t)__sxtb16(x); }
static inline uint32_t th_sxtb16_ror8(uint32_t x) { /* one SXTB16 with its rotate (GCC does not fold a ROR) */
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t th_smlad(uint32_t a, uint32_t b, int32_t c) { return __smlad(a, b, c); }
static inline int32_t th_smlabb(uint32_t a, uint32_t b, int32_t c) { return __smlabb(a, b, c); }
static inline int32_t th_smlatt(uint32_t a, uint32_t b, int32_t c) { return __smlatt(a, b, c); }
#else
static inline int32_t th_lo16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFU); }
static inline int32_t th_hi16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }
static inline uint32_t th_sxtb16(uint32_t x) {
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(uint8_t)(x & 0xFFU) & 0xFFFFU;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)(uint8_t)((x >> 16) & 0xFFU) & 0xFFFFU;
    return lo | (hi << 16);
}
static inline uint32_t th_sxtb16_ror8(uint32_t x) { return th_sxtb16((x >> 8) | (x << 24)); }
static inline int32_t th_smlad(uint32_t a, uint32_t b, int32_t c) {
    return (int32_t)((uint32_t)c + (uint32_t)(th_lo16(a) * th_lo16(b)) + (uint32_t)(th_hi16(a) * th_hi16(b)));
}
static inline int32_t th_smlabb(uint32_t a, uint32_t b, int32_t c) {
    return (int32_t)((uint32_t)c + (uint32_t)(th_lo16(a) * th_lo16(b)));
}
static inline int32_t th_smlatt(uint32_t a, uint32_t b, int32_t c) {
    return (int32_t)((uint32_t)c + (uint32_t)(th_hi16(a) * th_hi16(b)));
}
#endif
#endif /* TH_HAVE_DSP */

/* Lane-wise max / min of four int8 lanes (SSUB8 sets the GE flags per lane, SEL picks by them; ARMv7-M A7.7). */
#if defined(TH_DSP_NATIVE)
static inline uint32_t th_max_s8x4(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
static inline uint32_t th_min_s8x4(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#else
static inline uint32_t th_lanes_s8x4(uint32_t a, uint32_t b, int want_max) {
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        const int32_t x = (int8_t)(uint8_t)(a >> i), y = (int8_t)(uint8_t)(b >> i);
        const int32_t v = (x >= y) == (want_max != 0) ? x : y;
        r |= ((uint32_t)v & 0xFFU) << i;
    }
    return r;
}
static inline uint32_t th_max_s8x4(uint32_t a, uint32_t b) { return th_lanes_s8x4(a, b, 1); }
static inline uint32_t th_min_s8x4(uint32_t a, uint32_t b) { return th_lanes_s8x4(a, b, 0); }
#endif

#ifdef __cplusplus
}
#endif

#endif /* TH_SIMD_H */
