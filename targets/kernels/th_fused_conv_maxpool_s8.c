/* Fused conv + MAX_POOL_2D, int8.  Semantics, strips and scratch layout: th_fused_conv_maxpool.h. */
#include "th_fused_conv_maxpool.h"

#include <stddef.h>
#include <string.h>

#include "th_simd.h"

static inline int32_t th_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t th_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Max-pool the pool outputs [px0, px1) of pool row py from a strip holding conv rows [cy0, cy1) and conv
 * columns [cx0, cx0 + strip_w). */
static void th_pool_strip(const th_pool_s8_params *q, const int8_t *strip, int32_t cy0, int32_t cy1, int32_t cx0,
                          int32_t strip_w, int32_t px0, int32_t px1, int8_t *out_row)
{
    const int32_t c = q->channels;
    for (int32_t px = px0; px < px1; ++px) {
        const int32_t x_origin = px * q->stride_w - q->pad_w;
        const int32_t wx0 = th_max_i32(0, x_origin), wx1 = th_min_i32(q->in_w, x_origin + q->filter_w);
        int8_t *out = out_row + (size_t)px * c;
        int32_t ch0 = 0;
#if TH_HAVE_DSP
        /* four channels per word (SSUB8 + SEL, as th_max_pool2d_ch4_s8), the activation clamp on all four */
        const uint32_t lo4 = (uint32_t)(uint8_t)(int8_t)q->act_min * 0x01010101U;
        const uint32_t hi4 = (uint32_t)(uint8_t)(int8_t)q->act_max * 0x01010101U;
        const size_t row_step = (size_t)strip_w * c;
        for (; ch0 + 4 <= c; ch0 += 4) {
            uint32_t m = 0x80808080U; /* four lanes of -128 */
            const int8_t *row = strip + (size_t)(wx0 - cx0) * c + ch0;
            for (int32_t y = cy0; y < cy1; ++y, row += row_step) {
                const int8_t *e = row;
                for (int32_t x = wx0; x < wx1; ++x, e += c) {
                    uint32_t v;
                    memcpy(&v, e, 4);
                    m = th_max_s8x4(m, v);
                }
            }
            m = th_min_s8x4(th_max_s8x4(m, lo4), hi4);
            memcpy(out + ch0, &m, 4);
        }
#endif
        for (int32_t ch = ch0; ch < c; ++ch) {
            int32_t m = -128;
            for (int32_t y = cy0; y < cy1; ++y) {
                const int8_t *row = strip + (size_t)(y - cy0) * strip_w * c + ch;
                for (int32_t x = wx0; x < wx1; ++x) {
                    m = th_max_i32(m, row[(size_t)(x - cx0) * c]);
                }
            }
            out[ch] = (int8_t)th_min_i32(th_max_i32(m, q->act_min), q->act_max);
        }
    }
}

void th_fused_conv_maxpool_s8(const th_fused_conv_maxpool_s8_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, int8_t *scratch)
{
    const th_conv_s8_params *c = &p->conv;
    const th_pool_s8_params *q = &p->pool;
    const int32_t eff_h = (c->filter_h - 1) * c->dilation_h + 1;
    const int32_t eff_w = (c->filter_w - 1) * c->dilation_w + 1;
    int8_t *strip = scratch;
    int8_t *conv_scratch = scratch + p->strip_bytes;
    th_conv_s8_params s = *c;
    s.batches = 1;
    for (int32_t b = 0; b < c->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * c->in_h * c->in_w * c->in_c;
        int8_t *out_batch = output + (size_t)b * q->out_h * q->out_w * q->channels;
        for (int32_t py = 0; py < q->out_h; ++py) {
            /* conv rows under this pool row's windows, clipped to the conv output, and the input rows they read */
            const int32_t y_origin = py * q->stride_h - q->pad_h;
            const int32_t cy0 = th_max_i32(0, y_origin), cy1 = th_min_i32(c->out_h, y_origin + q->filter_h);
            const int32_t in_lo = cy0 * c->stride_h - c->pad_top;
            const int32_t in_y0 = th_max_i32(0, in_lo);
            const int32_t in_y1 = th_min_i32(c->in_h, (cy1 - 1) * c->stride_h - c->pad_top + eff_h);
            s.in_h = in_y1 - in_y0;
            s.pad_top = in_y0 - in_lo;
            s.out_h = cy1 - cy0;
            for (int32_t px0 = 0; px0 < q->out_w; px0 += p->tile_pool_cols) {
                const int32_t px1 = th_min_i32(q->out_w, px0 + p->tile_pool_cols);
                int32_t cx0 = 0, in_x0 = 0;
                if (p->tile_pool_cols < q->out_w) { /* column strip of a single-row input: contiguous slice */
                    const int32_t cx1 = th_min_i32(c->out_w, (px1 - 1) * q->stride_w - q->pad_w + q->filter_w);
                    int32_t in_lx;
                    cx0 = th_max_i32(0, px0 * q->stride_w - q->pad_w);
                    in_lx = cx0 * c->stride_w - c->pad_left;
                    in_x0 = th_max_i32(0, in_lx);
                    s.in_w = th_min_i32(c->in_w, (cx1 - 1) * c->stride_w - c->pad_left + eff_w) - in_x0;
                    s.pad_left = in_x0 - in_lx;
                    s.out_w = cx1 - cx0;
                }
                const int8_t *in_slice = in_batch + ((size_t)in_y0 * c->in_w + in_x0) * c->in_c;
                if (p->conv_kernel_scratch) {
                    p->conv_kernel_scratch(&s, in_slice, filter, strip, conv_scratch);
                } else {
                    p->conv_kernel(&s, in_slice, filter, strip);
                }
                th_pool_strip(q, strip, cy0, cy1, cx0, s.out_w, px0, px1,
                              out_batch + (size_t)py * q->out_w * q->channels);
            }
        }
    }
}
