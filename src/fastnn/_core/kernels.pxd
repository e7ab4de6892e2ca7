# The element-wise kernels of csrc/, behind fused-type dispatchers so Cython
# code calls one name for float32 and float64.
from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t

cdef extern from "fastnn_kernels.h" nogil:
    ctypedef struct fnn_dropout:
        double keep_prob
        uint64_t key
        Py_ssize_t first_row
        uint8_t* mask

    uint64_t fnn_dropout_key(uint64_t seed, uint64_t step, int layer)

    # The vocabulary (codes and names; fastnn/_core/vocabulary.pyx exposes it)
    enum:
        FNN_SIGMOID
        FNN_TANH
        FNN_RELU
        FNN_LEAKY_RELU
        FNN_ARCTAN
        FNN_IDENTITY
        FNN_SOFTMAX
        FNN_EXP
        FNN_N_ACTIVATIONS
    enum:
        FNN_LOG_LOSS
        FNN_CROSS_ENTROPY
        FNN_SQUARED
        FNN_POISSON
        FNN_N_LOSSES
    enum:
        FNN_GD
        FNN_MOMENTUM
        FNN_RMSPROP
        FNN_ADAM
        FNN_HEAVY_BALL
        FNN_NESTEROV
        FNN_ADAM_STEP_CORRECTED
        FNN_N_OPTIMIZERS
    ctypedef struct fnn_activation_name:
        const char* name
        int hidden
        int output
        int relu_like
    ctypedef struct fnn_loss_name:
        const char* name
        int output_activation
    const fnn_activation_name fnn_activation_names[]
    const fnn_loss_name fnn_loss_names[]
    const char* const fnn_optimizer_names[]

    ctypedef struct fnn_step:
        int kind
        double learning_rate
        double l2_scale
        double momentum
        double beta_1
        double beta_2
        double epsilon
        double bias_correction_1
        double bias_correction_2
    void fnn_optimizer_step_f32(float* param, const float* grad, float* first, float* second, Py_ssize_t count, const fnn_step* step)
    void fnn_optimizer_step_f64(double* param, const double* grad, double* first, double* second, Py_ssize_t count, const fnn_step* step)


    void fnn_bias_activation_f32(float* Z, float* A, const float* b, Py_ssize_t rows, Py_ssize_t cols, int activation, double leaky_slope, const fnn_dropout* dropout)
    void fnn_bias_activation_f64(double* Z, double* A, const double* b, Py_ssize_t rows, Py_ssize_t cols, int activation, double leaky_slope, const fnn_dropout* dropout)
    void fnn_dropout_apply_f32(float* A, Py_ssize_t rows, Py_ssize_t cols, const fnn_dropout* dropout)
    void fnn_dropout_apply_f64(double* A, Py_ssize_t rows, Py_ssize_t cols, const fnn_dropout* dropout)
    void fnn_activation_backward_f32(float* delta, const float* Z, const float* A, Py_ssize_t rows, Py_ssize_t cols, int activation, double leaky_slope, const uint8_t* mask, double keep_prob)
    void fnn_activation_backward_f64(double* delta, const double* Z, const double* A, Py_ssize_t rows, Py_ssize_t cols, int activation, double leaky_slope, const uint8_t* mask, double keep_prob)
    void fnn_output_delta_f32(float* delta, const float* Z, const float* A, const float* Y, Py_ssize_t rows, Py_ssize_t cols, int loss, int activation, double leaky_slope)
    void fnn_output_delta_f64(double* delta, const double* Z, const double* A, const double* Y, Py_ssize_t rows, Py_ssize_t cols, int loss, int activation, double leaky_slope)
    double fnn_loss_sum_f32(const float* Z, const float* A, const float* Y, const float* weights, Py_ssize_t rows, Py_ssize_t cols, int loss)
    double fnn_loss_sum_f64(const double* Z, const double* A, const double* Y, const double* weights, Py_ssize_t rows, Py_ssize_t cols, int loss)
    int fnn_all_finite_f32(const float* x, Py_ssize_t count)
    int fnn_all_finite_f64(const double* x, Py_ssize_t count)
    void fnn_scale_rows_f32(float* M, Py_ssize_t rows, Py_ssize_t cols, const float* weights)
    void fnn_scale_rows_f64(double* M, Py_ssize_t rows, Py_ssize_t cols, const double* weights)
    void fnn_row_dots_f32(const float* A, Py_ssize_t rows, Py_ssize_t n, const float* w, float* z)
    void fnn_row_dots_f64(const double* A, Py_ssize_t rows, Py_ssize_t n, const double* w, double* z)
    void fnn_outer_product_f32(const float* d, Py_ssize_t rows, const float* w, Py_ssize_t n, float* out)
    void fnn_outer_product_f64(const double* d, Py_ssize_t rows, const double* w, Py_ssize_t n, double* out)
    void fnn_column_sums_f32(const float* M, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t ld, double scale, float* out)
    void fnn_column_sums_f64(const double* M, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t ld, double scale, double* out)
    void fnn_small_gemm_tn_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t rows, double alpha, const float* A, Py_ssize_t lda, const float* B, Py_ssize_t ldb, double beta, float* C, Py_ssize_t ldc)
    void fnn_small_gemm_tn_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t rows, double alpha, const double* A, Py_ssize_t lda, const double* B, Py_ssize_t ldb, double beta, double* C, Py_ssize_t ldc)
    double fnn_sum_squares_f32(const float* x, Py_ssize_t count)
    double fnn_sum_squares_f64(const double* x, Py_ssize_t count)
    void fnn_axpy_f32(Py_ssize_t count, double alpha, const float* x, float* y)
    void fnn_axpy_f64(Py_ssize_t count, double alpha, const double* x, double* y)
    void fnn_gather_rows_f32(const float* src, const Py_ssize_t* index, Py_ssize_t rows, Py_ssize_t cols, float* dst)
    void fnn_gather_rows_f64(const double* src, const Py_ssize_t* index, Py_ssize_t rows, Py_ssize_t cols, double* dst)

    void fnn_shuffle(Py_ssize_t* order, Py_ssize_t n, uint64_t (*next_uint64)(void* state) noexcept nogil, void* state)


cdef inline void bias_activation(floating* Z, floating* A, const floating* b, Py_ssize_t rows,
                                 Py_ssize_t cols, int activation, double leaky_slope,
                                 const fnn_dropout* dropout) noexcept nogil:
    if floating is float:
        fnn_bias_activation_f32(Z, A, b, rows, cols, activation, leaky_slope, dropout)
    else:
        fnn_bias_activation_f64(Z, A, b, rows, cols, activation, leaky_slope, dropout)


cdef inline void dropout_apply(floating* A, Py_ssize_t rows, Py_ssize_t cols,
                               const fnn_dropout* dropout) noexcept nogil:
    if floating is float:
        fnn_dropout_apply_f32(A, rows, cols, dropout)
    else:
        fnn_dropout_apply_f64(A, rows, cols, dropout)


cdef inline void activation_backward(floating* delta, const floating* Z, const floating* A,
                                     Py_ssize_t rows, Py_ssize_t cols, int activation,
                                     double leaky_slope, const uint8_t* mask,
                                     double keep_prob) noexcept nogil:
    if floating is float:
        fnn_activation_backward_f32(delta, Z, A, rows, cols, activation, leaky_slope, mask, keep_prob)
    else:
        fnn_activation_backward_f64(delta, Z, A, rows, cols, activation, leaky_slope, mask, keep_prob)


cdef inline void output_delta(floating* delta, const floating* Z, const floating* A,
                              const floating* Y, Py_ssize_t rows, Py_ssize_t cols, int loss,
                              int activation, double leaky_slope) noexcept nogil:
    if floating is float:
        fnn_output_delta_f32(delta, Z, A, Y, rows, cols, loss, activation, leaky_slope)
    else:
        fnn_output_delta_f64(delta, Z, A, Y, rows, cols, loss, activation, leaky_slope)


cdef inline double loss_sum(const floating* Z, const floating* A, const floating* Y,
                            const floating* weights, Py_ssize_t rows, Py_ssize_t cols,
                            int loss) noexcept nogil:
    if floating is float:
        return fnn_loss_sum_f32(Z, A, Y, weights, rows, cols, loss)
    else:
        return fnn_loss_sum_f64(Z, A, Y, weights, rows, cols, loss)


cdef inline bint all_finite(const floating* x, Py_ssize_t count) noexcept nogil:
    if floating is float:
        return fnn_all_finite_f32(x, count)
    else:
        return fnn_all_finite_f64(x, count)


cdef inline void scale_rows(floating* M, Py_ssize_t rows, Py_ssize_t cols,
                            const floating* weights) noexcept nogil:
    if floating is float:
        fnn_scale_rows_f32(M, rows, cols, weights)
    else:
        fnn_scale_rows_f64(M, rows, cols, weights)


cdef inline void row_dots(const floating* A, Py_ssize_t rows, Py_ssize_t n, const floating* w,
                          floating* z) noexcept nogil:
    if floating is float:
        fnn_row_dots_f32(A, rows, n, w, z)
    else:
        fnn_row_dots_f64(A, rows, n, w, z)


cdef inline void outer_product(const floating* d, Py_ssize_t rows, const floating* w,
                               Py_ssize_t n, floating* out) noexcept nogil:
    if floating is float:
        fnn_outer_product_f32(d, rows, w, n, out)
    else:
        fnn_outer_product_f64(d, rows, w, n, out)


cdef inline void column_sums(const floating* M, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t ld,
                             double scale, floating* out) noexcept nogil:
    if floating is float:
        fnn_column_sums_f32(M, rows, cols, ld, scale, out)
    else:
        fnn_column_sums_f64(M, rows, cols, ld, scale, out)


cdef inline void small_gemm_tn(Py_ssize_t m, Py_ssize_t n, Py_ssize_t rows, double alpha,
                               const floating* A, Py_ssize_t lda, const floating* B,
                               Py_ssize_t ldb, double beta, floating* C,
                               Py_ssize_t ldc) noexcept nogil:
    if floating is float:
        fnn_small_gemm_tn_f32(m, n, rows, alpha, A, lda, B, ldb, beta, C, ldc)
    else:
        fnn_small_gemm_tn_f64(m, n, rows, alpha, A, lda, B, ldb, beta, C, ldc)


cdef inline double sum_squares(const floating* x, Py_ssize_t count) noexcept nogil:
    if floating is float:
        return fnn_sum_squares_f32(x, count)
    else:
        return fnn_sum_squares_f64(x, count)


cdef inline void axpy(Py_ssize_t count, double alpha, const floating* x, floating* y) noexcept nogil:
    if floating is float:
        fnn_axpy_f32(count, alpha, x, y)
    else:
        fnn_axpy_f64(count, alpha, x, y)


cdef inline void optimizer_step(floating* param, const floating* grad, floating* first,
                                floating* second, Py_ssize_t count,
                                const fnn_step* step) noexcept nogil:
    if floating is float:
        fnn_optimizer_step_f32(param, grad, first, second, count, step)
    else:
        fnn_optimizer_step_f64(param, grad, first, second, count, step)


cdef inline void gather_rows(const floating* src, const Py_ssize_t* index, Py_ssize_t rows,
                             Py_ssize_t cols, floating* dst) noexcept nogil:
    if floating is float:
        fnn_gather_rows_f32(src, index, rows, cols, dst)
    else:
        fnn_gather_rows_f64(src, index, rows, cols, dst)


cdef extern from "fastnn_threads.h" nogil:
    enum:
        FNN_MAX_THREADS
    ctypedef struct fnn_barrier:
        pass
    void fnn_barrier_init(fnn_barrier* barrier, int n_threads)
    void fnn_barrier_wait(fnn_barrier* barrier)
    int fnn_run_team(int n_threads, void (*work)(void* context, int thread) noexcept nogil, void* context)
    ctypedef struct fnn_pacer:
        long steps_alone
    void fnn_pacer_init(fnn_pacer* pacer)
    void fnn_pacer_step_starts(fnn_pacer* pacer, long rows, int alone)
    void fnn_pacer_forget_step(fnn_pacer* pacer)
    long fnn_pacer_window(fnn_pacer* pacer, int step_is_timed)
