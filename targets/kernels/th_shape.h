#ifndef TH_SHAPE_H
#define TH_SHAPE_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
