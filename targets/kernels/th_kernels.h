/* tinyhil kernels: one header per operator family, each kernel named th_<op>_<dtype> (s8 = int8 with
 * TFLite per-channel/per-tensor quantization semantics, bit-exact with TFLM's reference kernels; f32 = float).
 * Every kernel takes a pointer to a constant parameter struct computed at compile time by
 * harness/codegen/ops/<family>.py, then its tensors (inputs..., outputs..., [scratch]). */
#ifndef TH_KERNELS_H
#define TH_KERNELS_H

#include "th_math.h"
#include "th_conv.h"            /* CONV_2D, DEPTHWISE_CONV_2D */
#include "th_fully_connected.h" /* FULLY_CONNECTED */
#include "th_pool.h"            /* MAX_POOL_2D, AVERAGE_POOL_2D */
#include "th_reduce.h"          /* MEAN */
#include "th_shape.h"           /* PAD, CONCATENATION, RESHAPE, TRANSPOSE */
#include "th_softmax.h"         /* SOFTMAX */
#include "th_elementwise.h"     /* ADD, MUL */
#include "th_quantize.h"        /* QUANTIZE, DEQUANTIZE */
#include "th_xnor.h"            /* CUSTOM TH_XNOR_CONV_2D (binary convolution) */

#endif /* TH_KERNELS_H */
