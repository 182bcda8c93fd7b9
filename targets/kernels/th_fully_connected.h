/* FULLY_CONNECTED kernels, int8 (s8) and float32 (f32); defined in th_fully_connected.c.
 *
 * Semantics reproduced (re-implemented, not copied):
 *   th_fully_connected_s8   TFLite reference_integer_ops::FullyConnected(PerChannel) (integer_ops/fully_connected.h)
 *   th_fully_connected_f32  TFLite reference_ops::FullyConnected (float)             (reference/fully_connected.h)
 * which are the kernels the TFLM host interpreter runs.  The int8 kernel is bit-exact with them; the float
 * kernel keeps their accumulation order (accum_depth order; bias added last).
 *
 * Layouts: weights [out_depth][accum_depth], input/output rows of accum_depth / out_depth values,
 * batches = number of rows.
 *
 * All parameters are computed at compile time by harness/codegen/ops/fully_connected.py (TFLM computes the
 * same at prepare time, kernels/fully_connected_common.cc), with the requantization scheme of CONV_2D
 * (th_conv.h): multiplier/shift per output row from QuantizeMultiplier(input_scale * weight_scale[o] /
 * output_scale) (a per-tensor weight scale is repeated for every row), bias_eff = bias[o] + input_offset *
 * sum(weights row o), act_min/act_max the fused activation clamp in the output's quantized (s8) or real (f32)
 * domain.
 */
#ifndef TH_FULLY_CONNECTED_H
#define TH_FULLY_CONNECTED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;               /* rows: output elements / out_depth */
    int32_t accum_depth;           /* weights' last dimension */
    int32_t out_depth;             /* weights' first dimension */
    int32_t input_offset;          /* -input zero point */
    int32_t output_offset;         /* output zero point */
    int32_t act_min, act_max;      /* clamp, int8 domain */
    const int32_t *multiplier;     /* [out_depth] (per-tensor weights: the same value repeated) */
    const int32_t *shift;          /* [out_depth] */
    const int32_t *bias_eff;       /* [out_depth] bias + input_offset * sum(weights row) */
} th_fully_connected_s8_params;

typedef struct {
    int32_t batches, accum_depth, out_depth;
    float act_min, act_max;
} th_fully_connected_f32_params;

/* FULLY_CONNECTED int8 (per-tensor or per-channel weights, zero point 0). */
void th_fully_connected_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                           int8_t *output);

/* FULLY_CONNECTED int8, optimized variant (th_fully_connected_x4_s8.c): four output rows at a time with
 * SXTB16/SMLAD on cores with the DSP extension, plain C otherwise.  Same result as th_fully_connected_s8. */
void th_fully_connected_x4_s8(const th_fully_connected_s8_params *p, const int8_t *input, const int8_t *weights,
                              int8_t *output);

/* FULLY_CONNECTED float32; bias [out_depth] or NULL. */
void th_fully_connected_f32(const th_fully_connected_f32_params *p, const float *input, const float *weights,
                            const float *bias, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_FULLY_CONNECTED_H */
