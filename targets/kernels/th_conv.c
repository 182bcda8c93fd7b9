/* CONV_2D and DEPTHWISE_CONV_2D kernels, int8 and float32.  Semantics and parameter meaning: th_conv.h.
 *
 * int8 CONV_2D strategy: for every output pixel whose receptive field lies entirely inside the image (the
 * interior, nearly all pixels) and whose taps are contiguous along x (dilation_w == 1), one filter row of
 * filter_w * in_c int8 values is a contiguous dot product against the matching input row segment; two output
 * channels are computed together so every input byte is loaded once per pair.  Border pixels (SAME padding,
 * partial windows) and dilated filters take a per-tap path in which an out-of-image tap contributes
 * filter * (-input_offset), i.e. the input zero point, which the pre-folded bias_eff turns into TFLM's
 * "skip the tap" (see th_conv.h).  All arithmetic is exact int32, so both paths equal TFLM bit for bit.
 */
#include "th_conv.h"

#include <stddef.h>

#include "th_math.h"

/* sum a[i] * b[i], i < n (int8 products are exact in int32). */
static inline int32_t th_dot_s8(const int8_t *a, const int8_t *b, int32_t n) {
    int32_t acc = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += (int32_t)a[i] * b[i] + (int32_t)a[i + 1] * b[i + 1] + (int32_t)a[i + 2] * b[i + 2] +
               (int32_t)a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * b[i];
    }
    return acc;
}

#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
/* Cortex-M4/M7/M33 (DSP extension): four int8 of x, f0 and f1 per 32-bit load, sign-extended pairwise
 * with SXTB16 and accumulated with SMLAD (two exact 16x16 products per instruction, int32 accumulate), the
 * scheme of CMSIS-NN's s8 kernels.  Integer sums are order-independent, so results equal the C loop. */
#include <arm_acle.h>
#include <string.h>

static inline uint32_t th_load_s8x4(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v); /* unaligned word load */
    return v;
}

static inline uint32_t th_ror8(uint32_t v) { return (v >> 8) | (v << 24); }
#endif

/* Two dot products sharing the input x: *acc0 += x.f0, *acc1 += x.f1. */
static inline void th_dot2_s8(const int8_t *x, const int8_t *f0, const int8_t *f1, int32_t n, int32_t *acc0,
                              int32_t *acc1) {
    int32_t s0 = 0, s1 = 0;
    int32_t i = 0;
#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
    for (; i + 4 <= n; i += 4) {
        const uint32_t xw = th_load_s8x4(x + i), w0 = th_load_s8x4(f0 + i), w1 = th_load_s8x4(f1 + i);
        const int16x2_t x02 = __sxtb16(xw), x13 = __sxtb16(th_ror8(xw));
        s0 = __smlad(x02, __sxtb16(w0), s0);
        s0 = __smlad(x13, __sxtb16(th_ror8(w0)), s0);
        s1 = __smlad(x02, __sxtb16(w1), s1);
        s1 = __smlad(x13, __sxtb16(th_ror8(w1)), s1);
    }
#endif
    for (; i + 2 <= n; i += 2) {
        const int32_t xa = x[i], xb = x[i + 1];
        s0 += xa * f0[i] + xb * f0[i + 1];
        s1 += xa * f1[i] + xb * f1[i + 1];
    }
    if (i < n) {
        s0 += (int32_t)x[i] * f0[i];
        s1 += (int32_t)x[i] * f1[i];
    }
    *acc0 += s0;
    *acc1 += s1;
}

static inline int32_t th_sum_s8(const int8_t *a, int32_t n) {
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) {
        s += a[i];
    }
    return s;
}

/* TFLM's requantization tail: scale, add the output zero point, clamp to the activation range. */
static inline int8_t th_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                      int32_t act_min, int32_t act_max) {
    acc = th_multiply_by_quantized_multiplier(acc, multiplier, (int)shift) + output_offset;
    return (int8_t)th_clamp_i32(acc, act_min, act_max);
}

/* Offset (elements) of input pixel (y, x) of an NHWC image of in_h x in_w x in_c from its origin, or -1 when the
 * pixel lies outside the image (a padded tap). */
static inline int32_t th_pixel_offset(int32_t y, int32_t x, int32_t in_h, int32_t in_w, int32_t in_c) {
    return (y >= 0 && y < in_h && x >= 0 && x < in_w) ? (y * in_w + x) * in_c : -1;
}

/* One output channel of one output pixel, any window (border, dilation): taps outside the image read the
 * input zero point. */
static int32_t th_conv_pixel_generic_s8(const th_conv_s8_params *p, const int8_t *in_batch,
                                        const int8_t *filter_oc, int32_t in_y0, int32_t in_x0) {
    const int32_t pad_value = -p->input_offset;
    int32_t acc = 0;
    for (int32_t fy = 0; fy < p->filter_h; ++fy) {
        for (int32_t fx = 0; fx < p->filter_w; ++fx) {
            const int32_t o = th_pixel_offset(in_y0 + fy * p->dilation_h, in_x0 + fx * p->dilation_w, p->in_h,
                                              p->in_w, p->in_c);
            const int8_t *f = filter_oc + (fy * p->filter_w + fx) * p->in_c;
            acc += o >= 0 ? th_dot_s8(in_batch + o, f, p->in_c) : pad_value * th_sum_s8(f, p->in_c);
        }
    }
    return acc;
}

void th_conv2d_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output) {
    const int32_t filter_size = p->filter_h * p->filter_w * p->in_c; /* one output channel's weights */
    const int32_t row_len = p->filter_w * p->in_c;                    /* one contiguous filter row */
    const int32_t eff_h = (p->filter_h - 1) * p->dilation_h + 1;
    const int32_t eff_w = (p->filter_w - 1) * p->dilation_w + 1;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            const int rows_inside = in_y0 >= 0 && in_y0 + eff_h <= p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                const int fast = rows_inside && p->dilation_w == 1 && in_x0 >= 0 && in_x0 + eff_w <= p->in_w;
                if (!fast) {
                    for (int32_t oc = 0; oc < p->out_c; ++oc) {
                        const int32_t acc = p->bias_eff[oc] +
                            th_conv_pixel_generic_s8(p, in_batch, filter + (size_t)oc * filter_size, in_y0, in_x0);
                        out[oc] = th_requantize_s8(acc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                                   p->act_min, p->act_max);
                    }
                    continue;
                }
                const int8_t *in_origin = in_batch + ((size_t)in_y0 * p->in_w + in_x0) * p->in_c;
                const int32_t in_row_step = p->dilation_h * p->in_w * p->in_c;
                int32_t oc = 0;
                for (; oc + 2 <= p->out_c; oc += 2) {
                    const int8_t *f0 = filter + (size_t)oc * filter_size;
                    const int8_t *f1 = f0 + filter_size;
                    int32_t acc0 = p->bias_eff[oc], acc1 = p->bias_eff[oc + 1];
                    for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                        th_dot2_s8(in_origin + fy * in_row_step, f0 + fy * row_len, f1 + fy * row_len, row_len,
                                   &acc0, &acc1);
                    }
                    out[oc] = th_requantize_s8(acc0, p->multiplier[oc], p->shift[oc], p->output_offset,
                                               p->act_min, p->act_max);
                    out[oc + 1] = th_requantize_s8(acc1, p->multiplier[oc + 1], p->shift[oc + 1],
                                                   p->output_offset, p->act_min, p->act_max);
                }
                if (oc < p->out_c) {
                    const int8_t *f0 = filter + (size_t)oc * filter_size;
                    int32_t acc = p->bias_eff[oc];
                    for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                        acc += th_dot_s8(in_origin + fy * in_row_step, f0 + fy * row_len, row_len);
                    }
                    out[oc] = th_requantize_s8(acc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                               p->act_min, p->act_max);
                }
            }
        }
    }
}

static inline float th_act_f32(float x, float lo, float hi) {
    /* TFLM ActivationFunctionWithMinMax: min(max(x, lo), hi) */
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

void th_conv2d_f32(const th_conv_f32_params *p, const float *input, const float *filter, const float *bias,
                   float *output) {
    const int32_t filter_size = p->filter_h * p->filter_w * p->in_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                float *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const float *f_oc = filter + (size_t)oc * filter_size;
                    float total = 0.0f;
                    for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                        for (int32_t fx = 0; fx < p->filter_w; ++fx) {
                            const int32_t o = th_pixel_offset(in_y0 + fy * p->dilation_h, in_x0 + fx * p->dilation_w,
                                                              p->in_h, p->in_w, p->in_c);
                            if (o < 0) {
                                continue;
                            }
                            const float *x = in_batch + o;
                            const float *f = f_oc + (fy * p->filter_w + fx) * p->in_c;
                            for (int32_t ic = 0; ic < p->in_c; ++ic) {
                                total += x[ic] * f[ic];
                            }
                        }
                    }
                    const float bias_value = bias ? bias[oc] : 0.0f;
                    out[oc] = th_act_f32(total + bias_value, p->act_min, p->act_max);
                }
            }
        }
    }
}

/* Depthwise: the taps of one output pixel are visited in (filter_y, filter_x) order; at each tap the
 * out_c = in_c * depth_multiplier contiguous filter values meet the in_c contiguous input values, accumulating
 * into one int32 per output channel (scratch).  Out-of-image taps read the input zero point (bias_eff). */
void th_depthwise_conv2d_s8(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                            int8_t *output, int8_t *scratch) {
    int32_t *acc = (int32_t *)(void *)scratch;
    const int32_t dm = p->depth_multiplier;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    acc[oc] = p->bias_eff[oc];
                }
                for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                    for (int32_t fx = 0; fx < p->filter_w; ++fx) {
                        const int32_t o = th_pixel_offset(in_y0 + fy * p->dilation_h, in_x0 + fx * p->dilation_w,
                                                          p->in_h, p->in_w, p->in_c);
                        const int8_t *f = filter + (fy * p->filter_w + fx) * p->out_c;
                        if (o >= 0) {
                            const int8_t *x = in_batch + o;
                            if (dm == 1) {
                                for (int32_t c = 0; c < p->out_c; ++c) {
                                    acc[c] += (int32_t)x[c] * f[c];
                                }
                            } else {
                                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                                    const int32_t xv = x[ic];
                                    for (int32_t m = 0; m < dm; ++m) {
                                        acc[ic * dm + m] += xv * f[ic * dm + m];
                                    }
                                }
                            }
                        } else {
                            for (int32_t c = 0; c < p->out_c; ++c) {
                                acc[c] += (int32_t)pad_value * f[c];
                            }
                        }
                    }
                }
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    out[oc] = th_requantize_s8(acc[oc], p->multiplier[oc], p->shift[oc], p->output_offset,
                                               p->act_min, p->act_max);
                }
            }
        }
    }
}

/* Float depthwise: per output channel the sum runs over valid taps in (filter_y, filter_x) order starting
 * from 0, bias added last, as TFLM's reference_ops::DepthwiseConv. */
void th_depthwise_conv2d_f32(const th_conv_f32_params *p, const float *input, const float *filter,
                             const float *bias, float *output, int8_t *scratch) {
    float *acc = (float *)(void *)scratch;
    const int32_t dm = p->depth_multiplier;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                float *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    acc[oc] = 0.0f;
                }
                for (int32_t fy = 0; fy < p->filter_h; ++fy) {
                    for (int32_t fx = 0; fx < p->filter_w; ++fx) {
                        const int32_t o = th_pixel_offset(in_y0 + fy * p->dilation_h, in_x0 + fx * p->dilation_w,
                                                          p->in_h, p->in_w, p->in_c);
                        if (o < 0) {
                            continue;
                        }
                        const float *x = in_batch + o;
                        const float *f = filter + (fy * p->filter_w + fx) * p->out_c;
                        for (int32_t ic = 0; ic < p->in_c; ++ic) {
                            for (int32_t m = 0; m < dm; ++m) {
                                acc[ic * dm + m] += x[ic] * f[ic * dm + m];
                            }
                        }
                    }
                }
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const float bias_value = bias ? bias[oc] : 0.0f;
                    out[oc] = th_act_f32(acc[oc] + bias_value, p->act_min, p->act_max);
                }
            }
        }
    }
}
