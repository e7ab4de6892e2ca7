/* float32 GEMM through oneDNN's matmul primitive, loaded at run time.
 *
 * Why: where OpenBLAS runs its AVX2 kernels on an AVX-512 core (pinned by
 * OPENBLAS_CORETYPE, or a CPU it does not know), oneDNN's JIT kernels
 * ("brg:avx512_core") run the training step's float32 products 1.1-2.5x
 * faster (benchmarks/kernels.py). oneDNN has no float64 matmul on the CPU;
 * float64 stays with BLAS.
 *
 * How: libdnnl.so.3 (PyPI's onednn-cpu-gomp) is opened with dlopen, so the
 * build needs nothing of oneDNN and a machine without it keeps BLAS. Only the
 * few C API entry points used here are declared (oneDNN 3.x ABI; the major
 * version is checked at load). Each thread that opts in keeps its own cache
 * of primitives by shape (primitives, memory objects and streams are not
 * shared between threads) and runs them on itself alone: the training
 * team is the parallelism, so oneDNN's OpenMP threads are held to one. */
#ifndef FASTNN_ONEDNN_H
#define FASTNN_ONEDNN_H

/* Opens the library at `path` and checks it; 0 on success, else nonzero
 * and fnn_onednn_error() says why. Call once, before any other function,
 * with the GIL held (not thread-safe). */
int fnn_onednn_load(const char *path);
const char *fnn_onednn_error(void);

/* Whether fnn_onednn_load succeeded (and fnn_onednn_disable was not called). */
int fnn_onednn_available(void);

/* Stops using oneDNN from now on (tests, and a failed self-check). */
void fnn_onednn_disable(void);

/* The calling thread opts in (on = 1: its products may go to oneDNN, on one
 * thread) or out (on = 0, its OpenMP thread count restored). Returns the
 * previous state. */
int fnn_onednn_use_on_this_thread(int on);

/* Row-major C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n,
 * with row strides lda, ldb, ldc; 0 if done, nonzero if not (not opted in,
 * not loaded, or oneDNN refused the shape): the caller then uses BLAS. */
int fnn_onednn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc);

/* oneDNN's name of the kernel it runs for that product ("" if none). */
const char *fnn_onednn_kernel(int trans_a, int trans_b, int m, int n, int k);

#endif /* FASTNN_ONEDNN_H */
