/* MAX_POOL_2D and AVERAGE_POOL_2D for int8 and float32 (see th_pool.h for the semantics and sources). */
#include "th_pool.h"

#include "th_math.h"

void th_max_pool2d_s8(const th_pool_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t C = p->channels, row_step = p->in_w * C;
    th_pool_cursor it = th_pool_cursor_start(TH_POOL_GEOMETRY(p));
    while (th_pool_next(&it)) {
        for (int32_t c = 0; c < C; ++c) {
            int32_t max = -128;
            const int8_t *row = input + it.offset + c;
            for (int32_t r = 0; r < it.rows; ++r, row += row_step) {
                for (int32_t i = 0; i < it.cols; ++i) {
                    const int32_t v = row[i * C];
                    max = v > max ? v : max;
                }
            }
            *output++ = (int8_t)th_clamp_i32(max, p->act_min, p->act_max);
        }
    }
}

void th_avg_pool2d_s8(const th_pool_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t C = p->channels, row_step = p->in_w * C;
    th_pool_cursor it = th_pool_cursor_start(TH_POOL_GEOMETRY(p));
    while (th_pool_next(&it)) {
        /* Number of valid taps; >= 1 for any window the TFLite converter produces. */
        const int32_t count = it.rows * it.cols;
        for (int32_t c = 0; c < C; ++c) {
            int32_t acc = 0;
            const int8_t *row = input + it.offset + c;
            for (int32_t r = 0; r < it.rows; ++r, row += row_step) {
                for (int32_t i = 0; i < it.cols; ++i) {
                    acc += row[i * C];
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

static float th_clamp_f32(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

void th_max_pool2d_f32(const th_pool_f32_params *p, const float *input, float *output) {
    const int32_t C = p->channels, row_step = p->in_w * C;
    th_pool_cursor it = th_pool_cursor_start(TH_POOL_GEOMETRY(p));
    while (th_pool_next(&it)) {
        for (int32_t c = 0; c < C; ++c) {
            float max = -3.40282347e+38f; /* std::numeric_limits<float>::lowest() */
            const float *row = input + it.offset + c;
            for (int32_t r = 0; r < it.rows; ++r, row += row_step) {
                for (int32_t i = 0; i < it.cols; ++i) {
                    const float v = row[i * C];
                    max = v > max ? v : max;
                }
            }
            *output++ = th_clamp_f32(max, p->act_min, p->act_max);
        }
    }
}

void th_avg_pool2d_f32(const th_pool_f32_params *p, const float *input, float *output) {
    const int32_t C = p->channels, row_step = p->in_w * C;
    th_pool_cursor it = th_pool_cursor_start(TH_POOL_GEOMETRY(p));
    while (th_pool_next(&it)) {
        const float count = (float)(it.rows * it.cols);
        for (int32_t c = 0; c < C; ++c) {
            float total = 0.0f;
            const float *row = input + it.offset + c;
            for (int32_t r = 0; r < it.rows; ++r, row += row_step) {
                for (int32_t i = 0; i < it.cols; ++i) {
                    total += row[i * C];
                }
            }
            *output++ = th_clamp_f32(total / count, p->act_min, p->act_max);
        }
    }
}
