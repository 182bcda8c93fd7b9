#ifndef TH_CONV_H
#define TH_CONV_H
#include <stdint.h>
/* placeholder: kernels being written */
#endif
