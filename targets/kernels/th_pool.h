/* Pooling kernels: MAX_POOL_2D, AVERAGE_POOL_2D.  (MEAN, a reduction, is in th_reduce.h.)
 *
 * Semantics reproduced (re-implemented, not copied): TFLite reference_integer_ops::MaxPool / AveragePool
 * (kernels/internal/reference/integer_ops/pooling.h) and reference_ops::MaxPool / AveragePool for float
 * (kernels/internal/reference/pooling.h), as called by TFLM kernels/pooling.cc.  Windows are clipped to the
 * input: the average divides by the number of valid elements of the window (SAME padding never counts padded
 * elements); int8 rounds that division half away from zero; int8 pools assume (as TFLM does) that input and
 * output share scale and zero point.
 *
 * Layouts: pools take NHWC int8/float tensors.
 */
#ifndef TH_POOL_H
#define TH_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2-D pool geometry, shared by the int8 and float kernels.  All counts in elements.
 *   batches, in_h, in_w, channels : input NHWC shape;  out_h, out_w : output spatial size (same N and C)
 *   filter_h, filter_w, stride_h, stride_w : window and step
 *   pad_h, pad_w : implicit padding before the first row/column (TFLite ComputePaddingHeightWidth; 0 for VALID)
 *   act_min, act_max : clamp range of the fused activation, in the output's quantized domain
 *                      (CalculateActivationRangeQuantized; -128..127 for NONE) */
#define TH_POOL_GEOMETRY_FIELDS                               \
    int32_t batches, in_h, in_w, channels, out_h, out_w; \
    int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;

typedef struct {
    TH_POOL_GEOMETRY_FIELDS
    int32_t act_min, act_max;
} th_pool_s8_params;

/* As th_pool_s8_params; act_min/act_max are the float clamp range (+-FLT_MAX for no activation). */
typedef struct {
    TH_POOL_GEOMETRY_FIELDS
    float act_min, act_max;
} th_pool_f32_params;

/* The geometry alone, for the kernels' shared window walk (th_pool_next). */
typedef struct {
    TH_POOL_GEOMETRY_FIELDS
} th_pool_geometry;

/* The geometry of any pool params pointer p (th_pool_s8_params, th_pool_f32_params), as a th_pool_geometry. */
#define TH_POOL_GEOMETRY(p)                                                                                  \
    ((th_pool_geometry){(p)->batches, (p)->in_h, (p)->in_w, (p)->channels, (p)->out_h, (p)->out_w,          \
                        (p)->filter_h, (p)->filter_w, (p)->stride_h, (p)->stride_w, (p)->pad_h, (p)->pad_w})

/* The output pixels of a pool in NHWC order (batch, oy, ox) and the valid part of each one's window. */
typedef struct {
    th_pool_geometry g;
    int32_t b, oy, ox; /* the next output pixel */
    int32_t offset;    /* the current window's first valid element, in elements from the input's origin */
    int32_t rows, cols; /* its valid rows and columns; their product is the number of valid taps */
} th_pool_cursor;

static inline th_pool_cursor th_pool_cursor_start(th_pool_geometry g) {
    th_pool_cursor it = {g, 0, 0, 0, 0, 0, 0};
    if (g.out_h <= 0 || g.out_w <= 0) {
        it.b = g.batches; /* no output pixels */
    }
    return it;
}

/* Moves to the next output pixel: sets it->offset, rows, cols to its window clipped to the input (rows
 * [max(0, -y0), min(filter_h, in_h - y0)) of the window at y0 = oy * stride_h - pad_h, columns likewise, as
 * TFLite's reference pooling clips), and returns 1; returns 0 after the last pixel.  Element (r, i) of the
 * window, channel c, is input[offset + (r * in_w + i) * channels + c]. */
static inline int th_pool_next(th_pool_cursor *it) {
    const th_pool_geometry *g = &it->g;
    if (it->b >= g->batches) {
        return 0;
    }
    const int32_t y0 = it->oy * g->stride_h - g->pad_h, x0 = it->ox * g->stride_w - g->pad_w;
    const int32_t fy0 = y0 < 0 ? -y0 : 0, fx0 = x0 < 0 ? -x0 : 0;
    const int32_t fy1 = g->filter_h < g->in_h - y0 ? g->filter_h : g->in_h - y0;
    const int32_t fx1 = g->filter_w < g->in_w - x0 ? g->filter_w : g->in_w - x0;
    it->rows = fy1 - fy0;
    it->cols = fx1 - fx0;
    it->offset = ((it->b * g->in_h + y0 + fy0) * g->in_w + x0 + fx0) * g->channels;
    if (++it->ox == g->out_w) {
        it->ox = 0;
        if (++it->oy == g->out_h) {
            it->oy = 0;
            ++it->b;
        }
    }
    return 1;
}

/* MAX_POOL_2D: maximum over the valid part of each window, then clamped to [act_min, act_max]. */
void th_max_pool2d_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
/* MAX_POOL_2D int8, optimized variant (th_max_pool2d_ch4_s8.c): four channels per word (SSUB8/SEL on cores
 * with the DSP extension).  Same result as th_max_pool2d_s8. */
void th_max_pool2d_ch4_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
void th_max_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

/* AVERAGE_POOL_2D: sum over the valid part of each window divided by the number of valid elements
 * (int8: int32 sum, division rounded half away from zero), then clamped to [act_min, act_max]. */
void th_avg_pool2d_s8(const th_pool_s8_params *params, const int8_t *input, int8_t *output);
void th_avg_pool2d_f32(const th_pool_f32_params *params, const float *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_POOL_H */
