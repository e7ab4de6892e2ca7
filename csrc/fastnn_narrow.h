/* Matrix products with a narrow result (fastnn_narrow_impl.h says how):
 * C (m x n) = alpha op(A) B + beta C with op(A)[i, r] = A[i * a_row + r * a_col],
 * B row-major (k x n, row stride ldb), C row-major (row stride ldc).
 * Correct for any shape; fast while each row of C is at most
 * FNN_NARROW_MAX_VECTORS vectors (32 floats, 16 doubles); wider C runs as
 * blocks of that many columns. */
#ifndef FASTNN_NARROW_H
#define FASTNN_NARROW_H

#include <stddef.h>

/* A tile of C is at most FNN_NARROW_MAX_ROWS rows by FNN_NARROW_MAX_VECTORS
 * vectors: with one row of B and a broadcast value it fits AVX2's 16
 * vector registers (8 x 1, 6 x 2, 4 x 3, 3 x 4). */
#define FNN_NARROW_MAX_VECTORS 4
#define FNN_NARROW_MAX_ROWS 8
/* The rows of B one pass of the tiles goes over: half of a 1 MB L2. */
#define FNN_NARROW_CHUNK_BYTES (512 * 1024)

void fnn_narrow_gemm_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const float *A,
                         ptrdiff_t a_row, ptrdiff_t a_col, const float *B, ptrdiff_t ldb,
                         double beta, float *C, ptrdiff_t ldc);
void fnn_narrow_gemm_f64(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const double *A,
                         ptrdiff_t a_row, ptrdiff_t a_col, const double *B, ptrdiff_t ldb,
                         double beta, double *C, ptrdiff_t ldc);

#endif /* FASTNN_NARROW_H */
