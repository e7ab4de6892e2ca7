/* One precision's kernels (and the fused pass of tiny networks, which uses
 * their inline functions): fastnn_kernels.c defines REAL, FNN(name) and the
 * precision's constants (FNN_UINT, FNN_MANTISSA_BITS, FNN_EXPONENT_BIAS,
 * FNN_EXP_MIN, FNN_EXP_DEGREE, FNN_LN2_HI, FNN_LN2_LO), includes this file,
 * and may then define them again for the next precision.
 * No include guard on purpose: this file is meant to be included twice. */
#include "fastnn_math_impl.h"
#include "fastnn_kernels_impl.h"
#include "fastnn_tiny_impl.h"
#undef REAL
#undef FNN
#undef FNN_UINT
#undef FNN_MANTISSA_BITS
#undef FNN_EXPONENT_BIAS
#undef FNN_EXP_MIN
#undef FNN_EXP_DEGREE
#undef FNN_LN2_HI
#undef FNN_LN2_LO
