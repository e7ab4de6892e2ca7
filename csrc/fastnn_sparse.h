/* fastnn sparse-input kernels: the two products of the first layer when X is
 * a CSR matrix (SciPy's layout: row r's nonzeros are data[p], column
 * indices[p], for p in [indptr[r], indptr[r+1])). Plain C99, no Python headers.
 *
 * Every kernel exists for float (_f32) and double (_f64) values and for
 * int32 (_i32) and int64 (_i64) indices (indices and indptr of one type),
 * instantiated from the one generic body in fastnn_sparse_impl.h.
 *
 * A batch is a list of matrix rows: batch row i is matrix row order[i], or
 * first + i where order is NULL (consecutive rows, unshuffled). The kernels
 * read those rows in place: no batch is gathered, nothing is densified, and
 * the time is proportional to the batch's nonzeros (times the row width of
 * W). Unsorted indices, explicit zeros and duplicate entries (summed, as
 * SciPy does) need nothing special; the caller checked that every index is
 * below the width of W's rows' owner (n_features) and that indptr is monotone.
 */
#ifndef FASTNN_SPARSE_H
#define FASTNN_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "fastnn_kernels.h"   /* fnn_step */

#define FNN_DECLARE_SPARSE_KERNELS(REAL, SFX, INDEX, ISFX)                            \
    /* Z (rows x n_out) = X[batch] @ W (W: n_features x n_out, row-major): row i \
     * of Z is the sum over row i's nonzeros (k, x) of x * W[k, :]. */              \
    void fnn_csr_forward_product_##SFX##_##ISFX(                                    \
        const REAL *data, const INDEX *indices, const INDEX *indptr,                \
        const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows,                    \
        const REAL *W, ptrdiff_t n_out, REAL *Z);                                   \
    /* The block [first_in, end_in) x [0, n) of alpha X[batch]^T @ delta + beta C: \
     * C (row stride ldc) points at the block's first entry (row first_in of the \
     * full matrix), delta (rows x n, row stride ldd) at the block's first       \
     * column. First C = beta C over the block (beta == 0: C's old contents are  \
     * ignored, as BLAS does), then each nonzero (k, x) of batch row i with k in  \
     * the block adds alpha x delta[i, :] to row k: the others belong to another \
     * thread's block. */                                                         \
    void fnn_csr_weight_product_##SFX##_##ISFX(                                     \
        const REAL *data, const INDEX *indices, const INDEX *indptr,                \
        const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows, double alpha,      \
        const REAL *delta, ptrdiff_t ldd, ptrdiff_t first_in, ptrdiff_t end_in,     \
        ptrdiff_t n, double beta, REAL *C, ptrdiff_t ldc);                          \
    /* One optimiser step (fnn_optimizer_step's rule, `step`, its l2_scale      \
     * included) on rows [first_in, end_in) of W_0 (n_out = n units, whole     \
     * rows), with gradient alpha X[batch]^T @ delta (delta: rows x n), built   \
     * chunk_rows rows at a time in `chunk` (chunk_rows * n values) and never    \
     * stored whole: no gradient buffer of W_0's size is written, zeroed or     \
     * read. param, first_moment, second_moment point at row first_in (moments  \
     * NULL where the rule keeps none). Workspace: starts (end_in - first_in + 1 \
     * entries), entry_rows and entry_values (as many as the batch's nonzeros   \
     * in the block). Equal, bit for bit, to fnn_csr_weight_product into a      \
     * gradient (beta 0) followed by fnn_optimizer_step on it. */              \
    void fnn_csr_optimizer_rows_##SFX##_##ISFX(                                     \
        const REAL *data, const INDEX *indices, const INDEX *indptr,                \
        const ptrdiff_t *order, ptrdiff_t first, ptrdiff_t rows, double alpha,      \
        const REAL *delta, ptrdiff_t n, ptrdiff_t first_in, ptrdiff_t end_in,       \
        REAL *param, REAL *first_moment, REAL *second_moment,                       \
        const fnn_step *step, ptrdiff_t *starts, ptrdiff_t *entry_rows,             \
        REAL *entry_values, REAL *chunk, ptrdiff_t chunk_rows);

FNN_DECLARE_SPARSE_KERNELS(float, f32, int32_t, i32)
FNN_DECLARE_SPARSE_KERNELS(float, f32, int64_t, i64)
FNN_DECLARE_SPARSE_KERNELS(double, f64, int32_t, i32)
FNN_DECLARE_SPARSE_KERNELS(double, f64, int64_t, i64)

#endif /* FASTNN_SPARSE_H */
