/* th_max_pool2d_ch4_s8: MAX_POOL_2D int8, four channels per word.  Semantics and parameters: th_pool.h
 * (TFLite reference_integer_ops::MaxPool, like th_max_pool2d_s8, its portable reference).
 *
 * For each output pixel the valid part of the window is visited once per group of four channels; the running
 * maximum of the four lanes is one word (th_max_s8x4: SSUB8 + SEL on cores with the DSP extension, an exact
 * lane loop elsewhere), the fused activation clamp is applied to the four lanes at once, and the word is
 * stored.  The last channels mod 4 take the scalar path.
 */
#include <stddef.h>
#include <string.h>

#include "th_pool.h"
#include "th_simd.h"

void th_max_pool2d_ch4_s8(const th_pool_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t C = p->channels, in_w = p->in_w;
    const int32_t lo = p->act_min, hi = p->act_max;
    const uint32_t lo4 = (uint32_t)(uint8_t)(int8_t)lo * 0x01010101U;
    const uint32_t hi4 = (uint32_t)(uint8_t)(int8_t)hi * 0x01010101U;
    const uint32_t min4 = 0x80808080U; /* four lanes of -128 */
    th_pool_cursor it = th_pool_cursor_start(TH_POOL_GEOMETRY(p));
    while (th_pool_next(&it)) {
        const int32_t rows = it.rows, cols = it.cols;
        const int8_t *win = input + it.offset;
        int32_t c = 0;
        for (; c + 4 <= C; c += 4) {
            uint32_t m = min4;
            const int8_t *row = win + c;
            for (int32_t r = 0; r < rows; ++r, row += (size_t)in_w * C) {
                const int8_t *q = row;
                for (int32_t i = 0; i < cols; ++i, q += C) {
                    uint32_t v;
                    memcpy(&v, q, 4);
                    m = th_max_s8x4(m, v);
                }
            }
            m = th_min_s8x4(th_max_s8x4(m, lo4), hi4);
            memcpy(output, &m, 4);
            output += 4;
        }
        for (; c < C; ++c) {
            int32_t m = -128;
            const int8_t *row = win + c;
            for (int32_t r = 0; r < rows; ++r, row += (size_t)in_w * C) {
                for (int32_t i = 0; i < cols; ++i) {
                    const int32_t v = row[i * C];
                    m = v > m ? v : m;
                }
            }
            m = m < lo ? lo : m;
            *output++ = (int8_t)(m > hi ? hi : m);
        }
    }
}
