/* Instantiates the narrow-result products of fastnn_narrow_impl.h for float
 * and double, compiled like the element-wise kernels for several
 * instruction sets and picked at load time. */
#include <string.h>

#include "fastnn_multiversion.h"
#include "fastnn_narrow.h"

#define REAL float
#define FNN(name) name##_f32
#include "fastnn_narrow_impl.h"
#undef REAL
#undef FNN

#define REAL double
#define FNN(name) name##_f64
#include "fastnn_narrow_impl.h"
#undef REAL
#undef FNN
