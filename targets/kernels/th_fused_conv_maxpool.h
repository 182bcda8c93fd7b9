/* Fused CONV_2D (or DEPTHWISE_CONV_2D) + MAX_POOL_2D, int8: the pair of TFLM operators computed without
 * materializing the convolution's output tensor (harness/codegen/fuse.py decides when and how to fuse).
 *
 * Bit-exact with the unfused pair (TFLite reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel
 * followed by reference_integer_ops::MaxPool): every conv output is computed, requantized and clamped by the
 * conv kernel itself, then the pool takes the max of the int8 values of each window clipped to the conv output
 * and clamps it to its own activation range.
 *
 * Strips: for each pool output row, the conv output rows its windows cover are computed into `scratch` by
 * calling the conv kernel on a sliced geometry (the input rows those conv rows read, padding adjusted so
 * out-of-image rows still read the zero point, out_h = strip rows).  With tile_pool_cols < pool.out_w (only
 * generated for a single-row conv input, where a column slice of the input is contiguous) a strip is also cut
 * along the columns: tile_pool_cols pool outputs at a time.  Pool windows never overlap along a strip
 * direction (fuse.py checks stride >= filter), so no conv output is computed twice.
 *
 * scratch: strip_bytes for the conv strip (int8 [rows][cols][out_c]), followed by the conv kernel's own
 * scratch when it takes one (conv_kernel_scratch), 4-byte aligned.
 */
#ifndef TH_FUSED_CONV_MAXPOOL_H
#define TH_FUSED_CONV_MAXPOOL_H

#include <stdint.h>

#include "th_conv.h"
#include "th_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*th_conv_s8_kernel)(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                  int8_t *output);
typedef void (*th_conv_s8_kernel_scratch)(const th_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                                          int8_t *output, int8_t *scratch);

typedef struct {
    th_conv_s8_params conv;                        /* the whole convolution, as unfused */
    th_pool_s8_params pool;                        /* the whole max pool over the conv output, as unfused */
    th_conv_s8_kernel conv_kernel;                 /* the conv kernel, or NULL when it takes scratch: */
    th_conv_s8_kernel_scratch conv_kernel_scratch; /* the conv kernel taking a scratch buffer, or NULL */
    int32_t tile_pool_cols;                        /* pool output columns per strip (pool.out_w: full rows) */
    int32_t strip_bytes;                           /* bytes of scratch for the conv strip, multiple of 4 */
} th_fused_conv_maxpool_s8_params;

/* input NHWC int8 (the conv's), filter as the conv kernel takes it, output NHWC int8 (the pool's). */
void th_fused_conv_maxpool_s8(const th_fused_conv_maxpool_s8_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, int8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TH_FUSED_CONV_MAXPOOL_H */
