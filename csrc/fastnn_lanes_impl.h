/* A row of up to FNN_LANES_OF(REAL) values as one SIMD register (GCC vector
 * extension: AVX on the v3/v4 clones, SSE pairs on the baseline). Included
 * once per precision, like the kernels that use it. */
typedef REAL FNN(lanes) __attribute__((vector_size(32)));
#define FNN_LANES_OF(T) ((ptrdiff_t)(32 / sizeof(T)))
