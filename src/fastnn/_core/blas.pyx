# cython: language_level=3
"""Row-major GEMM over the BLAS that SciPy ships.

BLAS is column-major. A row-major matrix read as column-major is its
transpose, so the row-major product C = op(A) op(B) is computed as the
column-major product C^T = op(B)^T op(A)^T: swap the operands (and m with n),
keep the transpose flags. No copy is ever made.

A wrapper and nothing else: every call goes to BLAS. Where a small C loop
beats BLAS for a layer's product, fastnn/_core/products.pxd chooses it.
"""
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k,
               floating alpha, const floating* A, int lda,
               const floating* B, int ldb,
               floating beta, floating* C, int ldc) noexcept nogil:
    """C (m x n) = alpha * op(A) @ op(B) + beta * C, all row-major.

    op(A) is m x k, op(B) is k x n; lda, ldb, ldc are row strides in elements.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    # cython_blas takes non-const pointers; it never writes A or B.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> B, &ldb,
              <float*> A, &lda, &beta, C, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> B, &ldb,
              <double*> A, &lda, &beta, C, &ldc)


def gemm_checked(bint trans_a, bint trans_b, double alpha,
                 const floating[:, :] A, const floating[:, :] B,
                 double beta, floating[:, :] C):
    """Python twin of `gemm` for the tests: C = alpha op(A) op(B) + beta C, in place.

    Each matrix needs unit stride along its rows; its row stride becomes the
    leading dimension, so views into larger arrays exercise lda/ldb/ldc.
    """
    cdef int m = C.shape[0]
    cdef int n = C.shape[1]
    cdef int k = A.shape[0] if trans_a else A.shape[1]
    if (A.shape[1] if trans_a else A.shape[0]) != m:
        raise ValueError("op(A) must have as many rows as C")
    if (B.shape[1] if trans_b else B.shape[0]) != k:
        raise ValueError("op(B) must have as many rows as op(A) has columns")
    if (B.shape[0] if trans_b else B.shape[1]) != n:
        raise ValueError("op(B) must have as many columns as C")
    if m == 0 or n == 0 or k == 0:
        raise ValueError("gemm_checked needs non-empty matrices")
    cdef Py_ssize_t item = sizeof(floating)
    for name, row_stride, column_stride in (("A", A.strides[0], A.strides[1]),
                                            ("B", B.strides[0], B.strides[1]),
                                            ("C", C.strides[0], C.strides[1])):
        if column_stride != item or row_stride % item != 0 or row_stride < 0:
            raise ValueError(f"{name} must have unit stride along its rows")
    cdef int lda = max(A.shape[1], A.strides[0] // item)
    cdef int ldb = max(B.shape[1], B.strides[0] // item)
    cdef int ldc = max(C.shape[1], C.strides[0] // item)
    with nogil:
        gemm(trans_a, trans_b, m, n, k, <floating> alpha, &A[0, 0], lda,
             &B[0, 0], ldb, <floating> beta, &C[0, 0], ldc)
