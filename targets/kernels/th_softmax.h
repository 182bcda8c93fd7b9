#ifndef TH_SOFTMAX_H
#define TH_SOFTMAX_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
