/* Element-wise binary operators ADD and MUL with numpy-style broadcasting, int8 (s8) and float32 (f32).
 *
 * Semantics reproduced (re-implemented, not copied):
 *   th_add_s8   TFLite reference_integer_ops::Add / BroadcastAdd6DSlow (integer_ops/add.h, AddFunc): both
 *               inputs offset, shifted left by left_shift (20), rescaled to a common scale 2*max(s1, s2) by
 *               their own multipliers, summed, requantized to the output scale, clamped.  Bit-exact.
 *   th_mul_s8   TFLite reference_integer_ops::Mul / BroadcastMul6DSlow (integer_ops/mul.h, MulElementwise):
 *               (x1 - zp1) * (x2 - zp2) requantized by s1 * s2 / s_out, clamped.  Bit-exact.
 *   th_add_f32, th_mul_f32   TFLite reference_ops::Add / Mul (float) with ActivationFunctionWithMinMax.
 *
 * Shapes: both inputs are broadcast to the output shape.  With broadcast == 0 the three tensors have the same
 * shape and are walked as one flat array of size elements (any rank).  With broadcast == 1 the output is
 * [out_shape[0]][out_shape[1]][out_shape[2]][out_shape[3]] (NHWC or any rank <= 4 padded with leading 1s) and
 * element (a,b,c,d) reads input k at offset a*in_k_strides[0] + b*in_k_strides[1] + c*in_k_strides[2] +
 * d*in_k_strides[3]: the input's row-major element strides with 0 along the dimensions it is broadcast over.
 *
 * Parameters are computed at compile time by harness/codegen/ops/elementwise.py (TFLM computes the same at
 * prepare time, kernels/add_common.cc CalculateOpDataAdd, kernels/mul_common.cc CalculateOpDataMul):
 *   ADD  input{1,2}_multiplier/shift = QuantizeMultiplierSmallerThanOneExp(s_k / (2 * max(s1, s2)))
 *        output_multiplier/shift     = QuantizeMultiplierSmallerThanOneExp(2 * max(s1, s2) / (2^20 * s_out))
 *   MUL  output_multiplier/shift     = QuantizeMultiplier(s1 * s2 / s_out)
 *   real multiplier = multiplier * 2^(shift - 31) (shift > 0 shifts left).
 *   act_min/act_max: the fused activation (NONE/RELU/RELU6/RELU_N1_TO_1) clamp, in the output's int8 domain
 *   (s8) or in real values (f32, +-FLT_MAX for NONE).
 */
#ifndef TH_ELEMENTWISE_H
#define TH_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Broadcast geometry shared by every element-wise kernel; counts and strides in elements. */
#define TH_BROADCAST_FIELDS                                                                          \
    int32_t size;              /* output elements */                                                \
    int32_t broadcast;         /* 0: same shapes, flat loop; 1: 4-D loop with the strides below */  \
    int32_t out_shape[4];      /* output shape padded to 4-D with leading 1s */                     \
    int32_t in1_strides[4];    /* input 1 element strides, 0 along broadcast dimensions */          \
    int32_t in2_strides[4];    /* input 2 element strides, 0 along broadcast dimensions */

typedef struct {
    TH_BROADCAST_FIELDS
    int32_t input1_offset;      /* -input 1 zero point */
    int32_t input2_offset;      /* -input 2 zero point */
    int32_t output_offset;      /* output zero point */
    int32_t left_shift;         /* 20 for int8 */
    int32_t input1_multiplier;  /* input 1 -> common scale, shift <= 0 */
    int32_t input1_shift;
    int32_t input2_multiplier;  /* input 2 -> common scale, shift <= 0 */
    int32_t input2_shift;
    int32_t output_multiplier;  /* common scale -> output, shift <= 0 */
    int32_t output_shift;
    int32_t act_min, act_max;   /* clamp, int8 domain */
} th_add_s8_params;

typedef struct {
    TH_BROADCAST_FIELDS
    int32_t input1_offset;      /* -input 1 zero point */
    int32_t input2_offset;      /* -input 2 zero point */
    int32_t output_offset;      /* output zero point */
    int32_t output_multiplier;  /* s1 * s2 / s_out */
    int32_t output_shift;
    int32_t act_min, act_max;   /* clamp, int8 domain */
} th_mul_s8_params;

/* ADD and MUL float32. */
typedef struct {
    TH_BROADCAST_FIELDS
    float act_min, act_max;     /* clamp, real values */
} th_elementwise_f32_params;

void th_add_s8(const th_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);
/* ADD int8, the variant the code generator selects for same-shape inputs (th_add_flat_s8.c): the same result as
 * th_add_s8 with the rescalings in SMLAL form (th_requant.h); th_add_s8 itself on ARMv6-M and for broadcasts. */
void th_add_flat_s8(const th_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);
void th_mul_s8(const th_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output);
void th_add_f32(const th_elementwise_f32_params *params, const float *input1, const float *input2, float *output);
void th_mul_f32(const th_elementwise_f32_params *params, const float *input1, const float *input2, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TH_ELEMENTWISE_H */
