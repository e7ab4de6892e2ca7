/* Instantiates the generic kernels of fastnn_kernels_impl.h for float and
 * double, so both precisions share one source. */
#define _USE_MATH_DEFINES
#include <string.h>
#include <tgmath.h>

#include "fastnn_kernels.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define REAL float
#define FNN(name) name##_f32
#include "fastnn_kernels_impl.h"
#undef REAL
#undef FNN

#define REAL double
#define FNN(name) name##_f64
#include "fastnn_kernels_impl.h"
#undef REAL
#undef FNN
