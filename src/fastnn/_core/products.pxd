# The three matrix products of a dense layer, and for each the one place that
# chooses between BLAS (fastnn._core.blas, a plain wrapper) and a small C loop
# of csrc/ by shape. Thresholds were measured on this project's workloads
# (W2: a 2-4-1 network on 400 rows; W5: 12288-20-7-5-1); the small loops are
# correct for any shape, so a threshold only moves speed.
from cython cimport floating

from fastnn._core.blas cimport gemm
from fastnn._core.kernels cimport outer_product, row_dots, small_gemm_tn

cdef enum:
    # Z = A W into one unit from at most this many inputs: one short dot
    # product per row beats BLAS's set-up. Wider rows stay with BLAS, whose
    # sums are vectorised (a dot product in C order is not, without
    # reassociation).
    ROW_DOTS_MAX_INPUTS = 8
    # A^T delta with at most this many multiply-adds: above, BLAS's kernels
    # win; below, its set-up (about 0.4 us) costs more than the whole product
    # (W2 in float64: 4.8 -> 4.2 us per full-batch step; float32 3.1 -> 2.5).
    SMALL_WEIGHT_PRODUCT = 4096


cdef inline void forward_product(const floating* A_prev, Py_ssize_t rows, Py_ssize_t n_in,
                                 const floating* W, Py_ssize_t n_out,
                                 floating* Z) noexcept nogil:
    """Z (rows x n_out) = A_prev (rows x n_in) @ W (n_in x n_out)."""
    if n_out == 1 and n_in <= ROW_DOTS_MAX_INPUTS:
        row_dots(A_prev, rows, n_in, W, Z)
    else:
        gemm(False, False, <int> rows, <int> n_out, <int> n_in, <floating> 1.0, A_prev,
             <int> n_in, W, <int> n_out, <floating> 0.0, Z, <int> n_out)


cdef inline void backward_product(const floating* delta, Py_ssize_t rows, Py_ssize_t n_out,
                                  const floating* W, Py_ssize_t n_in,
                                  floating* delta_below) noexcept nogil:
    """delta_below (rows x n_in) = delta (rows x n_out) @ W.T (W: n_in x n_out)."""
    if n_out == 1:
        # Through a single unit (a binary or single-output head) the product
        # is an outer product; BLAS's set-up for an inner dimension of 1 costs
        # more than the product itself (0.6 of the 6.5 us full-batch step of
        # W2). From 2 units on, measured, BLAS is as fast or faster.
        outer_product(delta, rows, W, n_in, delta_below)
    else:
        gemm(False, True, <int> rows, <int> n_in, <int> n_out, <floating> 1.0, delta,
             <int> n_out, W, <int> n_out, <floating> 0.0, delta_below, <int> n_in)


cdef inline void weight_product(int m, int n, int rows, floating alpha, const floating* A,
                                int lda, const floating* delta, int ldd, floating beta,
                                floating* C, int ldc) noexcept nogil:
    """C (m x n) = alpha A.T @ delta + beta C, with A (rows x m) and delta
    (rows x n) row-major of row strides lda and ldd: a block of a weight
    gradient."""
    if <long> m * n * rows <= SMALL_WEIGHT_PRODUCT:
        small_gemm_tn(m, n, rows, alpha, A, lda, delta, ldd, beta, C, ldc)
    else:
        gemm(True, False, m, n, rows, alpha, A, lda, delta, ldd, beta, C, ldc)
