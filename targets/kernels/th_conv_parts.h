/* Inline parts shared by the optimized int8 convolution kernels (th_conv2d_im2col_s8.c,
 * th_conv2d_im2col_pair_s8.c, th_conv2d_im2col_m0_s8.c, th_depthwise_conv2d_ch4_s8.c,
 * th_depthwise_conv2d_m0_s8.c).  Everything here is static inline, so each kernel
 * keeps its own inlined copy: instruction counts on the twins within 0.5% of the kernels written out
 * (benchmarks/backends.py).  Parameters: th_conv.h.
 *
 *   th_conv_out_s8      the output stage (bias_eff, per-channel multiplier and shift, zero point, clamp) in locals
 *   th_conv_cursor      the output pixels of one image in row-major order, as window origins in the input
 *   th_im2col_gather    one receptive field, walked row by row, written through a kernel's column layout
 *   th_dw_window        a depthwise window's tap offsets, for interior pixels and for border pixels
 */
#ifndef TH_CONV_PARTS_H
#define TH_CONV_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "th_conv.h"
#include "th_requant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The output stage of an int8 conv copied to locals: the int8 output stores may alias anything, so fields
 * read through the params pointer would be reloaded after every store.  bias, mult, shift: [out_c] int32
 * (bias_eff, multiplier, shift of th_conv_s8_params); off: output zero point; lo, hi: clamp (int8 domain). */
typedef struct {
    const int32_t *bias, *mult, *shift;
    int32_t off, lo, hi;
} th_conv_out_s8;

static inline th_conv_out_s8 th_conv_out_of(const th_conv_s8_params *p) {
    const th_conv_out_s8 q = {p->bias_eff, p->multiplier, p->shift, p->output_offset, p->act_min, p->act_max};
    return q;
}

/* Output channel oc of accumulator acc (int32, bias included) as int8: th_requant_s8 (th_requant.h). */
static inline int8_t th_conv_requant(th_conv_out_s8 q, int32_t acc, int32_t oc) {
    return th_requant_s8(acc, q.mult[oc], q.shift[oc], q.off, q.lo, q.hi);
}

/* Stores a 2 channel x 2 pixel block whose sums are already scaled (th_requant_scale): rCP is channel oc + C at
 * pixel P, pixel 0 at out0, pixel 1 at out1.  out1 is written first: for a lone last pixel out1 == out0 and
 * both pixels hold the same values. */
static inline void th_conv_store_2x2(th_conv_out_s8 q, int8_t *out0, int8_t *out1, int32_t oc, int32_t r00,
                                     int32_t r01, int32_t r10, int32_t r11) {
    out1[oc] = th_requant_clamp(r01, q.off, q.lo, q.hi);
    out1[oc + 1] = th_requant_clamp(r11, q.off, q.lo, q.hi);
    out0[oc] = th_requant_clamp(r00, q.off, q.lo, q.hi);
    out0[oc + 1] = th_requant_clamp(r10, q.off, q.lo, q.hi);
}

/* The output pixels of one image in row-major order (oy, ox), with the geometry in locals. */
typedef struct {
    int32_t oy, ox;
    int32_t out_w, stride_h, stride_w, pad_top, pad_left;
} th_conv_cursor;

static inline th_conv_cursor th_conv_cursor_start(const th_conv_s8_params *p) {
    const th_conv_cursor cur = {0, 0, p->out_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left};
    return cur;
}

/* The input row and column (may be negative: SAME padding) where the window of the cursor's pixel starts;
 * then moves the cursor to the next pixel. */
static inline void th_conv_cursor_next(th_conv_cursor *cur, int32_t *in_y0, int32_t *in_x0) {
    *in_y0 = cur->oy * cur->stride_h - cur->pad_top;
    *in_x0 = cur->ox * cur->stride_w - cur->pad_left;
    if (++cur->ox == cur->out_w) {
        cur->ox = 0;
        ++cur->oy;
    }
}

/* A column layout: put writes the n int8 values of src, fill n copies of v, as entries k .. k+n-1 of the
 * column col; kfull = 4 * (K / 4) with K = filter_h * filter_w * in_c (for layouts that reorder complete
 * groups of four). */
typedef void (*th_col_put_fn)(void *col, int32_t k, int32_t kfull, const int8_t *src, int32_t n);
typedef void (*th_col_fill_fn)(void *col, int32_t k, int32_t kfull, int32_t v, int32_t n);

/* The receptive field of the output pixel whose window starts at input (in_y0, in_x0) of in_batch (one NHWC
 * image), as column entries k = (fy * filter_w + fx) * in_c + c.  Taps outside the image are the input zero
 * point -input_offset (see bias_eff, th_conv.h); a filter row wholly inside with dilation_w == 1 is one run of
 * filter_w * in_c values.  Inlined into each kernel's one gather function, where put and fill are constants
 * (called directly or inlined). */
static inline void th_im2col_gather(const th_conv_s8_params *p, const int8_t *in_batch, int32_t in_y0, int32_t in_x0,
                                    void *col, th_col_put_fn put, th_col_fill_fn fill) {
    const int32_t c = p->in_c;
    const int32_t kfull = (p->filter_h * p->filter_w * c) & ~3;
    const int32_t pad = -p->input_offset;
    int32_t k = 0;
    for (int32_t fy = 0; fy < p->filter_h; ++fy) {
        const int32_t y = in_y0 + fy * p->dilation_h;
        if (y < 0 || y >= p->in_h) {
            fill(col, k, kfull, pad, p->filter_w * c);
            k += p->filter_w * c;
            continue;
        }
        const int8_t *row = in_batch + (size_t)y * p->in_w * c;
        if (p->dilation_w == 1 && in_x0 >= 0 && in_x0 + p->filter_w <= p->in_w) { /* one contiguous run */
            put(col, k, kfull, row + (size_t)in_x0 * c, p->filter_w * c);
            k += p->filter_w * c;
            continue;
        }
        for (int32_t fx = 0; fx < p->filter_w; ++fx) {
            const int32_t x = in_x0 + fx * p->dilation_w;
            if (x < 0 || x >= p->in_w) {
                fill(col, k, kfull, pad, c);
            } else {
                put(col, k, kfull, row + (size_t)x * c, c);
            }
            k += c;
        }
    }
}

/* The window of a depthwise conv: filter fh x fw with dilation dh, dw over an in_h x in_w image of c channels
 * (NHWC).  Built at each use from the params (th_dw_window_of): a copy kept live across the kernel's pixel
 * loop cost the M7 twin ~1% on DS-CNN (register pressure). */
typedef struct {
    int32_t fh, fw, dh, dw, in_h, in_w, c;
} th_dw_window;

static inline th_dw_window th_dw_window_of(const th_conv_s8_params *p) {
    const th_dw_window w = {p->filter_h, p->filter_w, p->dilation_h, p->dilation_w, p->in_h, p->in_w, p->in_c};
    return w;
}

/* offs[fy * fw + fx] = the input offset (int8 elements) of tap (fy, fx) from the window origin: an interior
 * pixel's taps.  offs: fh * fw int32. */
static inline void th_dw_inner_offsets(th_dw_window w, int32_t *offs) {
    for (int32_t fy = 0, t = 0; fy < w.fh; ++fy) {
        for (int32_t fx = 0; fx < w.fw; ++fx, ++t) {
            offs[t] = (fy * w.dh * w.in_w + fx * w.dw) * w.c;
        }
    }
}

/* offs[fy * fw + fx] = the input offset of tap (fy, fx) of the window at (in_y0, in_x0) from the image origin,
 * or -1 for a tap outside the image (it reads the input zero point): a border pixel's taps. */
static inline void th_dw_edge_offsets(th_dw_window w, int32_t in_y0, int32_t in_x0, int32_t *offs) {
    for (int32_t fy = 0, t = 0; fy < w.fh; ++fy) {
        const int32_t y = in_y0 + fy * w.dh;
        for (int32_t fx = 0; fx < w.fw; ++fx, ++t) {
            const int32_t x = in_x0 + fx * w.dw;
            offs[t] = (y >= 0 && y < w.in_h && x >= 0 && x < w.in_w) ? (y * w.in_w + x) * w.c : -1;
        }
    }
}

#ifdef __cplusplus
}
#endif

#endif /* TH_CONV_PARTS_H */
