/* Instantiates the sparse kernels of fastnn_sparse_impl.h for each value
 * type (float, double) and index type (int32, int64). */
#include <string.h>

#include "fastnn_kernels.h"
#include "fastnn_sparse.h"

/* Picked at load time like the element-wise kernels: the per-nonzero row
 * updates vectorise over the units with AVX-512 or AVX2 where the CPU has them. */
#include "fastnn_multiversion.h"

#define REAL float
#define INDEX int32_t
#define FNN(name) name##_f32_i32
#define FNN_OPTIMIZER_STEP fnn_optimizer_step_f32
#include "fastnn_sparse_impl.h"
#undef REAL
#undef INDEX
#undef FNN
#undef FNN_OPTIMIZER_STEP

#define REAL float
#define INDEX int64_t
#define FNN(name) name##_f32_i64
#define FNN_OPTIMIZER_STEP fnn_optimizer_step_f32
#include "fastnn_sparse_impl.h"
#undef REAL
#undef INDEX
#undef FNN
#undef FNN_OPTIMIZER_STEP

#define REAL double
#define INDEX int32_t
#define FNN(name) name##_f64_i32
#define FNN_OPTIMIZER_STEP fnn_optimizer_step_f64
#include "fastnn_sparse_impl.h"
#undef REAL
#undef INDEX
#undef FNN
#undef FNN_OPTIMIZER_STEP

#define REAL double
#define INDEX int64_t
#define FNN(name) name##_f64_i64
#define FNN_OPTIMIZER_STEP fnn_optimizer_step_f64
#include "fastnn_sparse_impl.h"
#undef REAL
#undef INDEX
#undef FNN
#undef FNN_OPTIMIZER_STEP
