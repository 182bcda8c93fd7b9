/* MAX_POOL_2D and AVERAGE_POOL_2D for int8 and float32 (see th_pool.h for the semantics and sources). */
#include "th_pool.h"

#include "th_math.h"

/* Valid part [*start, *end) of a window of `filter` taps starting at `origin` over an axis of `size`. */
static void th_window(int32_t origin, int32_t filter, int32_t size, int32_t *start, int32_t *end) {
    *start = th_max_i32(0, -origin);
    *end = th_min_i32(filter, size - origin);
}

void th_max_pool2d_s8(const th_pool_s8_params *p, const int8_t *input, int8_t *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + (int32_t)(b * p->in_h * p->in_w * p->channels);
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy0, fy1;
            th_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx0, fx1;
                th_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
                for (int32_t c = 0; c < p->channels; ++c) {
                    int32_t max = -128;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const int8_t *row = in_b + ((y0 + fy) * p->in_w + x0 + fx0) * p->channels + c;
                        for (int32_t fx = 0; fx < fx1 - fx0; ++fx) {
                            const int32_t v = row[fx * p->channels];
                            max = v > max ? v : max;
                        }
                    }
                    *output++ = (int8_t)th_clamp_i32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}

void th_avg_pool2d_s8(const th_pool_s8_params *p, const int8_t *input, int8_t *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + (int32_t)(b * p->in_h * p->in_w * p->channels);
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy0, fy1;
            th_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx0, fx1;
                th_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
                /* Number of valid taps; >= 1 for any window the TFLite converter produces. */
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const int8_t *row = in_b + ((y0 + fy) * p->in_w + x0 + fx0) * p->channels + c;
                        for (int32_t fx = 0; fx < fx1 - fx0; ++fx) {
                            acc += row[fx * p->channels];
                        }
                    }
                    if (count > 0) {
                        /* Round half away from zero, as reference_integer_ops::AveragePool. */
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    *output++ = (int8_t)th_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

static float th_clamp_f32(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

void th_max_pool2d_f32(const th_pool_f32_params *p, const float *input, float *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in_b = input + (int32_t)(b * p->in_h * p->in_w * p->channels);
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy0, fy1;
            th_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx0, fx1;
                th_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float max = -3.40282347e+38f; /* std::numeric_limits<float>::lowest() */
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const float *row = in_b + ((y0 + fy) * p->in_w + x0 + fx0) * p->channels + c;
                        for (int32_t fx = 0; fx < fx1 - fx0; ++fx) {
                            const float v = row[fx * p->channels];
                            max = v > max ? v : max;
                        }
                    }
                    *output++ = th_clamp_f32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}

void th_avg_pool2d_f32(const th_pool_f32_params *p, const float *input, float *output) {
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in_b = input + (int32_t)(b * p->in_h * p->in_w * p->channels);
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy0, fy1;
            th_window(y0, p->filter_h, p->in_h, &fy0, &fy1);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx0, fx1;
                th_window(x0, p->filter_w, p->in_w, &fx0, &fx1);
                const float count = (float)((fy1 - fy0) * (fx1 - fx0));
                for (int32_t c = 0; c < p->channels; ++c) {
                    float total = 0.0f;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        const float *row = in_b + ((y0 + fy) * p->in_w + x0 + fx0) * p->channels + c;
                        for (int32_t fx = 0; fx < fx1 - fx0; ++fx) {
                            total += row[fx * p->channels];
                        }
                    }
                    *output++ = th_clamp_f32(total / count, p->act_min, p->act_max);
                }
            }
        }
    }
}
