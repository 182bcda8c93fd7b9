/* th_xnor_conv2d_s8: see th_xnor.h. */
#include "th_xnor.h"

#include "th_math.h"

static inline int32_t th_popcount32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcount(x);
#else
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (int32_t)((((x + (x >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
#endif
}

void th_xnor_conv2d_s8(const th_xnor_conv_s8_params *p, const int8_t *input, int8_t *output, int8_t *scratch) {
    uint32_t *signs = (uint32_t *)scratch;
    uint32_t *valid = signs + p->words;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            for (int32_t i = 0; i < p->words; ++i) {
                signs[i] = 0u;
                valid[i] = 0u;
            }
            int32_t k = 0;
            for (int32_t ky = 0; ky < p->filter_h; ++ky) {
                const int32_t iy = oy * p->stride_h - p->pad_top + ky;
                for (int32_t kx = 0; kx < p->filter_w; ++kx) {
                    const int32_t ix = ox * p->stride_w - p->pad_left + kx;
                    if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                        k += p->in_c;
                        continue;
                    }
                    const int8_t *x = input + ((int32_t)iy * p->in_w + ix) * p->in_c;
                    for (int32_t c = 0; c < p->in_c; ++c, ++k) {
                        const uint32_t bit = 1u << (k & 31);
                        valid[k >> 5] |= bit;
                        if ((int32_t)x[c] >= p->threshold[c]) {
                            signs[k >> 5] |= bit;
                        }
                    }
                }
            }
            int32_t n_valid = 0;
            for (int32_t i = 0; i < p->words; ++i) {
                n_valid += th_popcount32(valid[i]);
            }
            int8_t *out = output + ((int32_t)oy * p->out_w + ox) * p->out_c;
            for (int32_t c = 0; c < p->out_c; ++c) {
                const uint32_t *w = p->weights + c * p->words;
                int32_t agree = 0;
                for (int32_t i = 0; i < p->words; ++i) {
                    agree += th_popcount32(~(signs[i] ^ w[i]) & valid[i]);
                }
                const int32_t dot = 2 * agree - n_valid;
                const int32_t acc = dot * p->dot_scale + p->bias[c];
                int32_t y = th_multiply_by_quantized_multiplier(acc, p->multiplier[c], p->shift[c]);
                y += p->output_offset;
                out[c] = (int8_t)th_clamp_i32(y, p->act_min, p->act_max);
            }
        }
    }
}
