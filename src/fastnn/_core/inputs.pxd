# The data as layer 0 reads a batch of it: dense rows, or rows of a SciPy CSR
# matrix read in place through the batch's row order. Dense and sparse X
# differ only here, in layer 0's two products (forward: X W_0; update:
# X^T delta_0); every other pass is the same code for both.
from cython cimport floating
from libc.stdint cimport int32_t, int64_t

from fastnn._core.kernels cimport fnn_step
from fastnn._core.products cimport forward_product, weight_product

cdef extern from "fastnn_sparse.h" nogil:
    void fnn_csr_forward_product_f32_i32(const float* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, const float* W, Py_ssize_t n_out, float* Z)
    void fnn_csr_forward_product_f32_i64(const float* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, const float* W, Py_ssize_t n_out, float* Z)
    void fnn_csr_forward_product_f64_i32(const double* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, const double* W, Py_ssize_t n_out, double* Z)
    void fnn_csr_forward_product_f64_i64(const double* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, const double* W, Py_ssize_t n_out, double* Z)
    void fnn_csr_weight_product_f32_i32(const float* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const float* delta, Py_ssize_t ldd, Py_ssize_t first_in, Py_ssize_t end_in, Py_ssize_t n, double beta, float* C, Py_ssize_t ldc)
    void fnn_csr_weight_product_f32_i64(const float* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const float* delta, Py_ssize_t ldd, Py_ssize_t first_in, Py_ssize_t end_in, Py_ssize_t n, double beta, float* C, Py_ssize_t ldc)
    void fnn_csr_weight_product_f64_i32(const double* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const double* delta, Py_ssize_t ldd, Py_ssize_t first_in, Py_ssize_t end_in, Py_ssize_t n, double beta, double* C, Py_ssize_t ldc)
    void fnn_csr_weight_product_f64_i64(const double* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const double* delta, Py_ssize_t ldd, Py_ssize_t first_in, Py_ssize_t end_in, Py_ssize_t n, double beta, double* C, Py_ssize_t ldc)
    void fnn_csr_optimizer_rows_f32_i32(const float* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const float* delta, Py_ssize_t n, Py_ssize_t first_in, Py_ssize_t end_in, float* param, float* first_moment, float* second_moment, const fnn_step* step, Py_ssize_t* starts, Py_ssize_t* entry_rows, float* entry_values, float* chunk, Py_ssize_t chunk_rows)
    void fnn_csr_optimizer_rows_f32_i64(const float* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const float* delta, Py_ssize_t n, Py_ssize_t first_in, Py_ssize_t end_in, float* param, float* first_moment, float* second_moment, const fnn_step* step, Py_ssize_t* starts, Py_ssize_t* entry_rows, float* entry_values, float* chunk, Py_ssize_t chunk_rows)
    void fnn_csr_optimizer_rows_f64_i32(const double* data, const int32_t* indices, const int32_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const double* delta, Py_ssize_t n, Py_ssize_t first_in, Py_ssize_t end_in, double* param, double* first_moment, double* second_moment, const fnn_step* step, Py_ssize_t* starts, Py_ssize_t* entry_rows, double* entry_values, double* chunk, Py_ssize_t chunk_rows)
    void fnn_csr_optimizer_rows_f64_i64(const double* data, const int64_t* indices, const int64_t* indptr, const Py_ssize_t* order, Py_ssize_t first, Py_ssize_t rows, double alpha, const double* delta, Py_ssize_t n, Py_ssize_t first_in, Py_ssize_t end_in, double* param, double* first_moment, double* second_moment, const fnn_step* step, Py_ssize_t* starts, Py_ssize_t* entry_rows, double* entry_values, double* chunk, Py_ssize_t chunk_rows)


cdef struct Input:
    # One batch of X. Dense: `dense` points at the batch's first row
    # (row-major, n_features per row: X itself or a gathered batch). Sparse
    # (dense == NULL): the whole CSR matrix, checked at the Python boundary
    # (fastnn._core.train), of which batch row i is matrix row order[i], or
    # first + i where order is NULL.
    const void* dense
    const void* data          # values, float or double as the parameters
    const void* indices       # int32, or int64 if wide_indices
    const void* indptr        # the same integer type as indices
    bint wide_indices
    const Py_ssize_t* order
    Py_ssize_t first


cdef struct ColumnScratch:
    # One thread's workspace for stepping W_0 of sparse X without a gradient
    # buffer (input_optimizer_rows): the batch's nonzeros in its block of
    # rows bucketed by column, and the gradient of a chunk of rows.
    Py_ssize_t* starts        # one more than the rows of W_0
    Py_ssize_t* entry_rows    # as many as a batch's nonzeros can be
    void* entry_values
    void* chunk               # chunk_rows rows of W_0
    Py_ssize_t chunk_rows


cdef inline void input_forward_product(const Input* X, Py_ssize_t first_row, Py_ssize_t rows,
                                       Py_ssize_t n_in, const floating* W, Py_ssize_t n_out,
                                       floating* Z) noexcept nogil:
    """Z (rows x n_out) = X[first_row:first_row + rows] @ W_0 (W_0: n_in x n_out),
    rows counted in the batch."""
    cdef const Py_ssize_t* order = X.order + first_row if X.order != NULL else NULL
    cdef Py_ssize_t first = X.first + first_row
    if X.dense != NULL:
        forward_product(<const floating*> X.dense + first_row * n_in, rows, n_in, W, n_out, Z)
    elif floating is float:
        if X.wide_indices:
            fnn_csr_forward_product_f32_i64(<const float*> X.data, <const int64_t*> X.indices,
                                            <const int64_t*> X.indptr, order, first, rows, W,
                                            n_out, Z)
        else:
            fnn_csr_forward_product_f32_i32(<const float*> X.data, <const int32_t*> X.indices,
                                            <const int32_t*> X.indptr, order, first, rows, W,
                                            n_out, Z)
    else:
        if X.wide_indices:
            fnn_csr_forward_product_f64_i64(<const double*> X.data, <const int64_t*> X.indices,
                                            <const int64_t*> X.indptr, order, first, rows, W,
                                            n_out, Z)
        else:
            fnn_csr_forward_product_f64_i32(<const double*> X.data, <const int32_t*> X.indices,
                                            <const int32_t*> X.indptr, order, first, rows, W,
                                            n_out, Z)


cdef inline void input_weight_product(const Input* X, Py_ssize_t rows, Py_ssize_t n_in,
                                      Py_ssize_t first_in, Py_ssize_t end_in,
                                      Py_ssize_t first_out, Py_ssize_t end_out, floating alpha,
                                      const floating* delta, Py_ssize_t n_out, floating beta,
                                      floating* W_block) noexcept nogil:
    """W_block = alpha (X[batch].T @ delta)[first_in:end_in, first_out:end_out]
    + beta W_block: a thread's block of layer 0's weight gradient (or of W_0,
    for the folded gradient-descent step). W_block points at the block's
    first entry in a matrix laid out like W_0 (n_in x n_out); delta is the
    whole batch's delta_0 (rows x n_out)."""
    if X.dense != NULL:
        weight_product(<int> (end_in - first_in), <int> (end_out - first_out), <int> rows, alpha,
                       <const floating*> X.dense + first_in, <int> n_in, delta + first_out,
                       <int> n_out, beta, W_block, <int> n_out)
    elif floating is float:
        if X.wide_indices:
            fnn_csr_weight_product_f32_i64(<const float*> X.data, <const int64_t*> X.indices,
                                           <const int64_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta + first_out, n_out, first_in, end_in,
                                           end_out - first_out, beta, W_block, n_out)
        else:
            fnn_csr_weight_product_f32_i32(<const float*> X.data, <const int32_t*> X.indices,
                                           <const int32_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta + first_out, n_out, first_in, end_in,
                                           end_out - first_out, beta, W_block, n_out)
    else:
        if X.wide_indices:
            fnn_csr_weight_product_f64_i64(<const double*> X.data, <const int64_t*> X.indices,
                                           <const int64_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta + first_out, n_out, first_in, end_in,
                                           end_out - first_out, beta, W_block, n_out)
        else:
            fnn_csr_weight_product_f64_i32(<const double*> X.data, <const int32_t*> X.indices,
                                           <const int32_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta + first_out, n_out, first_in, end_in,
                                           end_out - first_out, beta, W_block, n_out)


cdef inline void input_optimizer_rows(const Input* X, Py_ssize_t rows, Py_ssize_t first_in,
                                      Py_ssize_t end_in, double alpha, const floating* delta,
                                      Py_ssize_t n_out, floating* W_block, floating* moment1,
                                      floating* moment2, const fnn_step* step,
                                      ColumnScratch* scratch) noexcept nogil:
    """One optimiser step on rows [first_in, end_in) of W_0 (whole rows; W_block
    and the moments point at row first_in) for sparse X, its gradient
    alpha (X[batch].T @ delta) built chunk by chunk in `scratch`: equal, bit
    for bit, to input_weight_product into a gradient and optimizer_step on
    it, without writing, zeroing or reading a gradient of W_0's size."""
    if floating is float:
        if X.wide_indices:
            fnn_csr_optimizer_rows_f32_i64(<const float*> X.data, <const int64_t*> X.indices,
                                           <const int64_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta, n_out, first_in, end_in, W_block,
                                           moment1, moment2, step, scratch.starts,
                                           scratch.entry_rows, <float*> scratch.entry_values,
                                           <float*> scratch.chunk, scratch.chunk_rows)
        else:
            fnn_csr_optimizer_rows_f32_i32(<const float*> X.data, <const int32_t*> X.indices,
                                           <const int32_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta, n_out, first_in, end_in, W_block,
                                           moment1, moment2, step, scratch.starts,
                                           scratch.entry_rows, <float*> scratch.entry_values,
                                           <float*> scratch.chunk, scratch.chunk_rows)
    else:
        if X.wide_indices:
            fnn_csr_optimizer_rows_f64_i64(<const double*> X.data, <const int64_t*> X.indices,
                                           <const int64_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta, n_out, first_in, end_in, W_block,
                                           moment1, moment2, step, scratch.starts,
                                           scratch.entry_rows, <double*> scratch.entry_values,
                                           <double*> scratch.chunk, scratch.chunk_rows)
        else:
            fnn_csr_optimizer_rows_f64_i32(<const double*> X.data, <const int32_t*> X.indices,
                                           <const int32_t*> X.indptr, X.order, X.first, rows,
                                           alpha, delta, n_out, first_in, end_in, W_block,
                                           moment1, moment2, step, scratch.starts,
                                           scratch.entry_rows, <double*> scratch.entry_values,
                                           <double*> scratch.chunk, scratch.chunk_rows)
