/* RESHAPE, TRANSPOSE, PAD and CONCATENATION for int8 and float32 (see th_shape.h). */
#include "th_shape.h"

#include <stdarg.h>
#include <string.h>

void th_reshape(const th_reshape_params *p, const void *input, void *output) {
    memcpy(output, input, (size_t)p->nbytes);
}

/* Output row-major over 6 dimensions; the input walked with the permuted strides.  elem: sizeof(int8_t) or
 * sizeof(float), a constant at both call sites, so each kernel gets its own typed copy of the loops. */
static inline void th_transpose_elems(const th_transpose_params *p, const void *input, void *output, size_t elem) {
    const int32_t *d = p->out_dims, *s = p->in_strides;
    int32_t n = 0;
    for (int32_t i0 = 0; i0 < d[0]; ++i0)
    for (int32_t i1 = 0; i1 < d[1]; ++i1)
    for (int32_t i2 = 0; i2 < d[2]; ++i2)
    for (int32_t i3 = 0; i3 < d[3]; ++i3)
    for (int32_t i4 = 0; i4 < d[4]; ++i4) {
        const int32_t row = i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4];
        for (int32_t i5 = 0; i5 < d[5]; ++i5, ++n) {
            if (elem == sizeof(float)) {
                ((float *)output)[n] = ((const float *)input)[row + i5 * s[5]];
            } else {
                ((int8_t *)output)[n] = ((const int8_t *)input)[row + i5 * s[5]];
            }
        }
    }
}

void th_transpose_s8(const th_transpose_params *p, const int8_t *input, int8_t *output) {
    th_transpose_elems(p, input, output, sizeof(int8_t));
}

void th_transpose_f32(const th_transpose_params *p, const float *input, float *output) {
    th_transpose_elems(p, input, output, sizeof(float));
}

/* 1 when output index o lies inside the input along a dimension with `before` padding and `size` elements. */
static int th_inside(int32_t o, int32_t before, int32_t size) {
    return o >= before && o < before + size;
}

/* The input row (index of an innermost row of id[4] elements) that output row (o0, o1, o2, o3) copies, or -1
 * when an outer index falls in the padding.  id: input dims, b: padding before each dimension. */
static int32_t th_pad_row(const int32_t *id, const int32_t *b, int32_t o0, int32_t o1, int32_t o2, int32_t o3) {
    if (!(th_inside(o0, b[0], id[0]) && th_inside(o1, b[1], id[1]) && th_inside(o2, b[2], id[2])
          && th_inside(o3, b[3], id[3]))) {
        return -1;
    }
    return (((o0 - b[0]) * id[1] + (o1 - b[1])) * id[2] + (o2 - b[2])) * id[3] + (o3 - b[3]);
}

/* Output written row-major: each innermost row is [before pad | input row | after pad], or all pad when
 * an outer index falls in the padding (reference_ops::Pad writes the same values). */
void th_pad_s8(const th_pad_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t *od = p->out_dims, *id = p->in_dims, *b = p->before;
    const int8_t pad = (int8_t)p->pad_value;
    const int32_t after = od[4] - b[4] - id[4];
    for (int32_t o0 = 0; o0 < od[0]; ++o0)
    for (int32_t o1 = 0; o1 < od[1]; ++o1)
    for (int32_t o2 = 0; o2 < od[2]; ++o2)
    for (int32_t o3 = 0; o3 < od[3]; ++o3) {
        const int32_t row = th_pad_row(id, b, o0, o1, o2, o3);
        if (row >= 0) {
            memset(output, pad, (size_t)b[4]);
            memcpy(output + b[4], input + row * id[4], (size_t)id[4]);
            memset(output + b[4] + id[4], pad, (size_t)after);
        } else {
            memset(output, pad, (size_t)od[4]);
        }
        output += od[4];
    }
}

void th_pad_f32(const th_pad_f32_params *p, const float *input, float *output) {
    const int32_t *od = p->out_dims, *id = p->in_dims, *b = p->before;
    for (int32_t o0 = 0; o0 < od[0]; ++o0)
    for (int32_t o1 = 0; o1 < od[1]; ++o1)
    for (int32_t o2 = 0; o2 < od[2]; ++o2)
    for (int32_t o3 = 0; o3 < od[3]; ++o3) {
        const int32_t row = th_pad_row(id, b, o0, o1, o2, o3);
        if (row >= 0) {
            const float *in = input + row * id[4];
            for (int32_t o4 = 0; o4 < od[4]; ++o4) {
                output[o4] = th_inside(o4, b[4], id[4]) ? in[o4 - b[4]] : p->pad_value;
            }
        } else {
            for (int32_t o4 = 0; o4 < od[4]; ++o4) {
                output[o4] = p->pad_value;
            }
        }
        output += od[4];
    }
}

/* Sum of the inputs' slice sizes: the output's slice per outer index. */
static int32_t th_concat_row(const th_concatenation_params *p) {
    int32_t row = 0;
    for (int32_t i = 0; i < p->num_inputs; ++i) {
        row += p->copy_sizes[i];
    }
    return row;
}

/* Copies the inputs (variadic: num_inputs input pointers, then the output pointer) slice by slice; sizes in
 * elements of elem_bytes bytes.  The int8 and float32 kernels differ only in that size. */
static void th_concatenation_bytes(const th_concatenation_params *p, size_t elem_bytes, va_list ap) {
    va_list aq;
    va_copy(aq, ap);
    for (int32_t i = 0; i < p->num_inputs; ++i) { /* the output pointer follows the inputs */
        (void)va_arg(aq, const void *);
    }
    uint8_t *const output = va_arg(aq, void *);
    va_end(aq);
    const size_t row = (size_t)th_concat_row(p) * elem_bytes;
    size_t offset = 0;
    for (int32_t i = 0; i < p->num_inputs; ++i) {
        const uint8_t *in = va_arg(ap, const void *);
        const size_t n = (size_t)p->copy_sizes[i] * elem_bytes;
        for (int32_t k = 0; k < p->outer_size; ++k) {
            memcpy(output + (size_t)k * row + offset, in + (size_t)k * n, n);
        }
        offset += n;
    }
}

void th_concatenation_s8(const th_concatenation_params *p, ...) {
    va_list ap;
    va_start(ap, p);
    th_concatenation_bytes(p, sizeof(int8_t), ap);
    va_end(ap);
}

void th_concatenation_f32(const th_concatenation_params *p, ...) {
    va_list ap;
    va_start(ap, p);
    th_concatenation_bytes(p, sizeof(float), ap);
    va_end(ap);
}
