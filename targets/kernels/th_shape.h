/* Data-movement kernels: RESHAPE, TRANSPOSE, PAD, CONCATENATION (int8 and float32).
 *
 * Semantics reproduced (re-implemented, not copied) from TFLM kernels/reshape.cc (a copy of the bytes when
 * input and output buffers differ), kernels/transpose.cc -> reference_ops::Transpose, kernels/pad.cc ->
 * reference_ops::Pad (pad value: the output zero point for int8, 0.0f for float, as PAD without
 * constant_values) and kernels/concatenation.cc -> reference_ops::Concatenation.  None of these kernels
 * requantizes: int8 CONCATENATION inputs must share the output's scale and zero point (TFLM's Prepare
 * refuses other models, and so does the compiler).  All tensors are row-major (NHWC for 4-D activations);
 * sizes and strides are in elements.
 */
#ifndef TH_SHAPE_H
#define TH_SHAPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RESHAPE: a copy of nbytes bytes (any dtype).  The arena planner gives input and output separate buffers. */
typedef struct {
    int32_t nbytes;
} th_reshape_params;

void th_reshape(const th_reshape_params *params, const void *input, void *output);

/* TRANSPOSE of a tensor of up to 6 dimensions, extended to 6 with leading size-1 dimensions.
 *   out_dims[6]   : output shape
 *   in_strides[6] : in_strides[k] = row-major input stride (elements) of input dimension perm[k], i.e. the
 *                   step in the input when output index k advances (0 for padded dimensions)
 * output[o0..o5] = input[sum_k o_k * in_strides[k]], output written in row-major order. */
typedef struct {
    int32_t out_dims[6];
    int32_t in_strides[6];
} th_transpose_params;

void th_transpose_s8(const th_transpose_params *params, const int8_t *input, int8_t *output);
void th_transpose_f32(const th_transpose_params *params, const float *input, float *output);

/* PAD of a tensor of up to 5 dimensions, extended to 5 with leading size-1 dimensions.
 *   in_dims[5], out_dims[5] : input and output shapes (out = before + in + after per dimension)
 *   before[5]               : padding before each dimension (the paddings tensor's first column)
 *   pad_value               : value written outside the input (int8: output zero point; float: 0.0f) */
typedef struct {
    int32_t in_dims[5];
    int32_t out_dims[5];
    int32_t before[5];
    int32_t pad_value;
} th_pad_s8_params;

typedef struct {
    int32_t in_dims[5];
    int32_t out_dims[5];
    int32_t before[5];
    float pad_value;
} th_pad_f32_params;

void th_pad_s8(const th_pad_s8_params *params, const int8_t *input, int8_t *output);
void th_pad_f32(const th_pad_f32_params *params, const float *input, float *output);

/* CONCATENATION along one axis.
 *   num_inputs    : number of input tensors
 *   outer_size    : product of the output dimensions before the axis
 *   copy_sizes[i] : product of input i's dimensions from the axis on (its slice per outer index)
 * The call passes num_inputs input pointers (const int8_t * / const float *) and then the output pointer
 * (int8_t * / float *) as variable arguments.  For each outer index the inputs' slices are appended to the
 * output in input order. */
typedef struct {
    int32_t num_inputs;
    int32_t outer_size;
    const int32_t *copy_sizes;
} th_concatenation_params;

void th_concatenation_s8(const th_concatenation_params *params, ...);
void th_concatenation_f32(const th_concatenation_params *params, ...);

#ifdef __cplusplus
}
#endif

#endif /* TH_SHAPE_H */
