# cython: language_level=3
"""Row-major GEMM: the one place that picks the kernel of every matrix
product of a step, by shape and dtype.

- Narrow results (each row of C at most NARROW_MAX_COLUMNS values: the
  products into a layer of few units and their weight gradients) go to
  fastnn's own kernel (csrc/fastnn_narrow_impl.h), where BLAS's wide tiles
  run at a third to a half of the core's peak.
- float32 products of at least ONEDNN_MIN_PRODUCT multiply-adds on a thread
  that opted in (the training team's members) go to oneDNN when it is
  loaded (csrc/fastnn_onednn.h says why and how; fastnn/_onednn.py finds
  the library).
- Everything else goes to the BLAS that SciPy ships. BLAS is column-major: a
  row-major matrix read as column-major is its transpose, so the row-major
  product C = op(A) op(B) is computed as the column-major product
  C^T = op(B)^T op(A)^T: swap the operands (and m with n), keep the
  transpose flags. No copy is ever made.

Where a small C loop beats all of them for a layer's product (a few rows or
one unit), fastnn/_core/products.pxd chooses it. benchmarks/kernels.py
measures the candidates on the step's shapes (benchmarks/KERNELS.md).
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

cdef extern from "fastnn_narrow.h" nogil:
    void fnn_narrow_gemm_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                             const float* A, Py_ssize_t a_row, Py_ssize_t a_col,
                             const float* B, Py_ssize_t ldb, double beta, float* C,
                             Py_ssize_t ldc)
    void fnn_narrow_gemm_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                             const double* A, Py_ssize_t a_row, Py_ssize_t a_col,
                             const double* B, Py_ssize_t ldb, double beta, double* C,
                             Py_ssize_t ldc)

cdef enum:
    # Below this many multiply-adds OpenBLAS's small-matrix paths win (32 x 32
    # x 5: oneDNN 21 GFLOP/s, OpenBLAS 25-64); from here on oneDNN does
    # (32 x 64 x 32: 149 against 69-218; benchmarks/kernels.py).
    ONEDNN_MIN_PRODUCT = 16384
    # The widest rows of C that fastnn's narrow kernel takes: four vectors
    # (FNN_NARROW_MAX_VECTORS: 32 floats, 16 doubles), or eight over a short
    # inner dimension. Measured against OpenBLAS and oneDNN, one thread, m in
    # {32, 100, 200}, k in {32, 100, 784}: there it is 1.0-2.5x the faster
    # of them (a few 0.8 at 10 floats over 32 inputs); past these widths it
    # loses up to 2x on long inner dimensions.
    NARROW_MAX_BYTES = 128
    NARROW_SHORT_MAX_BYTES = 256
    NARROW_SHORT_INNER = 128
    # ... and at least this wide when A is not transposed: 1-3 floats a row
    # use a vector's lanes so poorly that OpenBLAS's matrix-vector paths win
    # (0.44-0.9x at 10000 x 30 x 1..3); doubles win from one column on
    # (1.3-2.4x), and so does A^T (weight gradients) in either precision.
    NARROW_MIN_FLOATS_NN = 4

# Which kernel a product goes to: AUTO is gemm's own choice; the others
# force one, for the tests and benchmarks/kernels.py (ONEDNN: as a member
# of the training team would, falling back to BLAS where oneDNN declines).
cdef enum Kernel:
    AUTO, BLAS, ONEDNN, NARROW

KERNELS = {"auto": AUTO, "blas": BLAS, "onednn": ONEDNN, "narrow": NARROW}


cdef inline bint narrow_wins(bint trans_a, bint trans_b, int n, int k,
                             Py_ssize_t item) noexcept nogil:
    """Whether fastnn's narrow kernel takes C = op(A) op(B) (n columns of
    `item` bytes, inner dimension k): B must be read row by row (not
    transposed)."""
    if trans_b:
        return False
    if not trans_a and n < (NARROW_MIN_FLOATS_NN if item == 4 else 1):
        return False
    return n * item <= NARROW_MAX_BYTES or (n * item <= NARROW_SHORT_MAX_BYTES
                                            and k <= NARROW_SHORT_INNER)


cdef void narrow_gemm(bint trans_a, int m, int n, int k, floating alpha,
                      const floating* A, int lda, const floating* B, int ldb,
                      floating beta, floating* C, int ldc) noexcept nogil:
    # op(A)[i, r] = A[i * a_row + r * a_col]
    cdef Py_ssize_t a_row = 1 if trans_a else lda
    cdef Py_ssize_t a_col = lda if trans_a else 1
    if floating is float:
        fnn_narrow_gemm_f32(m, n, k, alpha, A, a_row, a_col, B, ldb, beta, C, ldc)
    else:
        fnn_narrow_gemm_f64(m, n, k, alpha, A, a_row, a_col, B, ldb, beta, C, ldc)


cdef void gemm_with(Kernel kernel, bint trans_a, bint trans_b, int m, int n, int k,
                    floating alpha, const floating* A, int lda,
                    const floating* B, int ldb,
                    floating beta, floating* C, int ldc) noexcept nogil:
    """gemm through `kernel` (AUTO: gemm's choice)."""
    if kernel == NARROW or (kernel == AUTO and narrow_wins(trans_a, trans_b, n, k, sizeof(floating))):
        if not trans_b:
            narrow_gemm(trans_a, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
            return
    if floating is float:
        if ((kernel == ONEDNN or (kernel == AUTO and <long> m * n * k >= ONEDNN_MIN_PRODUCT))
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


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k,
               floating alpha, const floating* A, int lda,
               const floating* B, int ldb,
               floating beta, floating* C, int ldc) noexcept nogil:
    """C (m x n) = alpha * op(A) @ op(B) + beta * C, all row-major.

    op(A) is m x k, op(B) is k x n; lda, ldb, ldc are row strides in elements.
    """
    gemm_with(AUTO, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


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


cdef Kernel kernel_named(str name) except *:
    if name not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}, not {name!r}")
    return KERNELS[name]


def gemm_checked(bint trans_a, bint trans_b, double alpha,
                 const floating[:, :] A, const floating[:, :] B,
                 double beta, floating[:, :] C, str kernel="auto"):
    """Python twin of `gemm` for the tests: C = alpha op(A) op(B) + beta C, in place.
    kernel: "auto" (gemm's choice, as a member of the training team makes
    it), or one forced: "blas", "onednn" (float32; BLAS where oneDNN
    declines) or "narrow".

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
    cdef Kernel chosen = kernel_named(kernel)
    cdef int before
    with nogil:
        before = use_onednn_here(1)
        gemm_with(chosen, trans_a, trans_b, m, n, k, <floating> alpha, &A[0, 0], lda,
                  &B[0, 0], ldb, <floating> beta, &C[0, 0], ldc)
        use_onednn_here(before)


def gemm_seconds(bint trans_a, bint trans_b, const floating[:, ::1] A,
                 const floating[:, ::1] B, floating[:, ::1] C, int repeats,
                 str kernel="auto"):
    """The fastest of `repeats` calls of `gemm` for C = op(A) op(B), in
    seconds, timed without the GIL around each call alone (no Python in the
    figure): benchmarks/kernels.py's measurement. kernel as for gemm_checked."""
    cdef int m = C.shape[0], n = C.shape[1]
    cdef int k = A.shape[0] if trans_a else A.shape[1]
    if ((A.shape[1] if trans_a else A.shape[0]) != m or (B.shape[1] if trans_b else B.shape[0]) != k
            or (B.shape[0] if trans_b else B.shape[1]) != n or m == 0 or n == 0 or k == 0):
        raise ValueError("op(A) op(B) does not fit C")
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    cdef timespec start, end
    cdef double best = 1e300, seconds
    cdef Kernel chosen = kernel_named(kernel)
    cdef int r, before = 0
    with nogil:
        before = use_onednn_here(1)
        for r in range(repeats):
            clock_gettime(CLOCK_MONOTONIC, &start)
            gemm_with(chosen, trans_a, trans_b, m, n, k, <floating> 1.0, &A[0, 0],
                      <int> A.shape[1], &B[0, 0], <int> B.shape[1], <floating> 0.0,
                      &C[0, 0], n)
            clock_gettime(CLOCK_MONOTONIC, &end)
            seconds = (end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec)
            if seconds < best:
                best = seconds
        use_onednn_here(before)
    return best
