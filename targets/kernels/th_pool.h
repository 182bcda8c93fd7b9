#ifndef TH_POOL_H
#define TH_POOL_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
