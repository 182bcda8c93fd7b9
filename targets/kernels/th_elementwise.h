#ifndef TH_ELEMENTWISE_H
#define TH_ELEMENTWISE_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
