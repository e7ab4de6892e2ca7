# Row-major GEMM, one fused function for float32 and float64, callable
# without the GIL: BLAS (scipy.linalg.cython_blas), and for float32 products
# of a thread that opted in, oneDNN where it is installed (blas.pyx).
from cython cimport floating

cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k,
               floating alpha, const floating* A, int lda,
               const floating* B, int ldb,
               floating beta, floating* C, int ldc) noexcept nogil

# The calling thread's float32 products may (on = 1) or may not (0) go to
# oneDNN, on this thread alone; returns the previous setting. The training
# team's members opt in: the team is the parallelism.
cdef int use_onednn_here(int on) noexcept nogil
