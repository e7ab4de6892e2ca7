/* Instantiates the generic kernels of fastnn_kernels_impl.h for float and
 * double, so both precisions share one source. */
#define _USE_MATH_DEFINES
#include <string.h>
#include <tgmath.h>

#include "fastnn_kernels.h"
#include "fastnn_tiny.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "fastnn_multiversion.h"

/* "lowbias32" integer hash (C. Wellons): a bijection of 32-bit integers with
 * near-ideal avalanche; two rounds with the key give the dropout draws. */
static inline uint32_t fnn_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* splitmix64's finaliser: distinct (step, layer) inputs give unrelated keys. */
uint64_t fnn_dropout_key(uint64_t seed, uint64_t step, int layer)
{
    uint64_t z = seed + (step << 8) + (uint64_t)layer + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define REAL float
#define FNN(name) name##_f32
#define FNN_UINT uint32_t
#define FNN_MANTISSA_BITS 23
#define FNN_EXPONENT_BIAS 127
#define FNN_EXP_MIN (-87.0f)
#define FNN_EXP_DEGREE 7
#define FNN_LN2_HI 0x1.62e400p-1f
#define FNN_LN2_LO 0x1.7f7d1cp-20f
#include "fastnn_instantiate.h"

#define REAL double
#define FNN(name) name##_f64
#define FNN_UINT uint64_t
#define FNN_MANTISSA_BITS 52
#define FNN_EXPONENT_BIAS 1023
#define FNN_EXP_MIN (-708.0)
#define FNN_EXP_DEGREE 13
#define FNN_LN2_HI 0x1.62e42fefa3800p-1
#define FNN_LN2_LO 0x1.ef35793c76730p-45
#include "fastnn_instantiate.h"
