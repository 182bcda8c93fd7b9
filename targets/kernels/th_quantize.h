#ifndef TH_QUANTIZE_H
#define TH_QUANTIZE_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
