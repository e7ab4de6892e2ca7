# cython: language_level=3
"""Row-major GEMM over the BLAS that SciPy ships.

BLAS is column-major. A row-major matrix read as column-major is its
transpose, so the row-major product C = op(A) op(B) is computed as the
column-major product C^T = op(B)^T op(A)^T: swap the operands (and m with n),
keep the transpose flags. No copy is ever made.

Every call goes to BLAS, except float32 products of at least
ONEDNN_MIN_PRODUCT multiply-adds on a thread that opted in (the training
team's members) when oneDNN is loaded (csrc/fastnn_onednn.h says why and
how; fastnn/_onednn.py finds the library). Where a small C loop beats both
for a layer's product, fastnn/_core/products.pxd chooses it.
"""
from cython cimport floating
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from scipy.linalg.cython_blas cimport sgemm, dgemm

cdef extern from "fastnn_onednn.h" nogil:
    int fnn_onednn_load(const char* path)
    const char* fnn_onednn_error()
    int fnn_onednn_available()
    void fnn_onednn_disable()
    int fnn_onednn_use_on_this_thread(int on)
    int fnn_onednn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float* A, int lda, const float* B, int ldb, float beta,
                         float* C, int ldc)
    const char* fnn_onednn_kernel(int trans_a, int trans_b, int m, int n, int k)

cdef enum:
    # Below this many multiply-adds OpenBLAS's small-matrix paths win (32 x 32
    # x 5: oneDNN 21 GFLOP/s, OpenBLAS 25-64); from here on oneDNN does
    # (32 x 64 x 32: 149 against 69-218; benchmarks/kernels.py).
    ONEDNN_MIN_PRODUCT = 16384


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k,
               floating alpha, const floating* A, int lda,
               const floating* B, int ldb,
               floating beta, floating* C, int ldc) noexcept nogil:
    """C (m x n) = alpha * op(A) @ op(B) + beta * C, all row-major.

    op(A) is m x k, op(B) is k x n; lda, ldb, ldc are row strides in elements.
    """
    if floating is float:
        if (<long> m * n * k >= ONEDNN_MIN_PRODUCT
                and fnn_onednn_sgemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                                     beta, C, ldc) == 0):
            return
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    # cython_blas takes non-const pointers; it never writes A or B.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*> B, &ldb,
              <float*> A, &lda, &beta, C, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*> B, &ldb,
              <double*> A, &lda, &beta, C, &ldc)


cdef int use_onednn_here(int on) noexcept nogil:
    return fnn_onednn_use_on_this_thread(on)


def load_onednn(path):
    """Load oneDNN from `path` (libdnnl.so.3); None on success, else why not."""
    cdef bytes encoded = path.encode()
    if fnn_onednn_load(encoded) == 0:
        return None
    return fnn_onednn_error().decode(errors="replace")


def onednn_available():
    """Whether float32 products of the training team go to oneDNN."""
    return bool(fnn_onednn_available())


def disable_onednn():
    """BLAS for every product from now on (tests, and FASTNN_ONEDNN=0)."""
    fnn_onednn_disable()


def onednn_kernel(bint trans_a, bint trans_b, int m, int n, int k):
    """oneDNN's name of the kernel it runs for that float32 product ("": none)."""
    return fnn_onednn_kernel(trans_a, trans_b, m, n, k).decode(errors="replace")


def gemm_checked(bint trans_a, bint trans_b, double alpha,
                 const floating[:, :] A, const floating[:, :] B,
                 double beta, floating[:, :] C, bint onednn=False):
    """Python twin of `gemm` for the tests: C = alpha op(A) op(B) + beta C, in place.
    onednn: run it as a member of the training team would (float32 products
    may go to oneDNN).

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
    cdef int before
    with nogil:
        if onednn:
            before = use_onednn_here(1)
        gemm(trans_a, trans_b, m, n, k, <floating> alpha, &A[0, 0], lda,
             &B[0, 0], ldb, <floating> beta, &C[0, 0], ldc)
        if onednn:
            use_onednn_here(before)


def gemm_seconds(bint trans_a, bint trans_b, const floating[:, ::1] A,
                 const floating[:, ::1] B, floating[:, ::1] C, int repeats,
                 bint onednn=False):
    """The fastest of `repeats` calls of `gemm` for C = op(A) op(B), in
    seconds, timed without the GIL around each call alone (no Python in the
    figure): benchmarks/kernels.py's measurement. onednn as for gemm_checked."""
    cdef int m = C.shape[0], n = C.shape[1]
    cdef int k = A.shape[0] if trans_a else A.shape[1]
    if ((A.shape[1] if trans_a else A.shape[0]) != m or (B.shape[1] if trans_b else B.shape[0]) != k
            or (B.shape[0] if trans_b else B.shape[1]) != n or m == 0 or n == 0 or k == 0):
        raise ValueError("op(A) op(B) does not fit C")
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    cdef timespec start, end
    cdef double best = 1e300, seconds
    cdef int r, before = 0
    with nogil:
        if onednn:
            before = use_onednn_here(1)
        for r in range(repeats):
            clock_gettime(CLOCK_MONOTONIC, &start)
            gemm(trans_a, trans_b, m, n, k, <floating> 1.0, &A[0, 0], <int> A.shape[1],
                 &B[0, 0], <int> B.shape[1], <floating> 0.0, &C[0, 0], n)
            clock_gettime(CLOCK_MONOTONIC, &end)
            seconds = (end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec)
            if seconds < best:
                best = seconds
        if onednn:
            use_onednn_here(before)
    return best
