/* Generic body of the element-wise kernels. Included once per precision by
 * fastnn_kernels.c with REAL (float or double) and FNN(name) (adds the suffix)
 * defined. <tgmath.h> makes log, log1p, atan pick the precision of REAL;
 * the exp and tanh of the hidden units come from fastnn_math_impl.h (the
 * exp output unit takes libm's exp, which covers the whole range).
 * No include guard on purpose: this file is meant to be included twice. */

/* log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
static inline REAL FNN(softplus)(REAL x)
{
    return (x > 0 ? x : (REAL)0) + log1p(FNN(exp_nonpositive)(-fabs(x)));
}

static inline REAL FNN(activate)(REAL z, int activation, REAL leaky_slope)
{
    switch (activation) {
    case FNN_SIGMOID:    return FNN(sigmoid)(z);
    case FNN_TANH:       return FNN(tanh)(z);
    case FNN_RELU:       return z > 0 ? z : (REAL)0;
    case FNN_LEAKY_RELU: return z >= 0 ? z : leaky_slope * z;
    case FNN_ARCTAN:     return atan(z) / (REAL)M_PI + (REAL)0.5;
    /* the whole range, as NumPy's: inf above the largest finite result,
     * subnormals and 0 below the smallest normal one (the fast exp of
     * fastnn_math_impl.h covers z <= 0 only, and clamps) */
    case FNN_EXP:        return exp(z);
    default:             return z; /* FNN_IDENTITY */
    }
}

/* g'(z), written with a = g(z) where that is cheaper (SPEC 1 conventions:
 * relu and leaky relu have slope 1 at z = 0). */
static inline REAL FNN(derivative)(REAL z, REAL a, int activation, REAL leaky_slope)
{
    switch (activation) {
    case FNN_SIGMOID:    return a * ((REAL)1 - a);
    case FNN_TANH:       return (REAL)1 - a * a;
    case FNN_RELU:       return z >= 0 ? (REAL)1 : (REAL)0;
    case FNN_LEAKY_RELU: return z >= 0 ? (REAL)1 : leaky_slope;
    case FNN_ARCTAN:     return (REAL)1 / ((REAL)M_PI * ((REAL)1 + z * z));
    case FNN_EXP:        return a;
    default:             return (REAL)1; /* FNN_IDENTITY */
    }
}

static void FNN(softmax_row)(const REAL *z, REAL *a, ptrdiff_t cols)
{
    REAL zmax = z[0];
    for (ptrdiff_t j = 1; j < cols; j++) {
        if (z[j] > zmax) zmax = z[j];
    }
    REAL total = 0;
    for (ptrdiff_t j = 0; j < cols; j++) {
        a[j] = FNN(exp_nonpositive)(z[j] - zmax);
        total += a[j];
    }
    for (ptrdiff_t j = 0; j < cols; j++) {
        a[j] /= total;
    }
}

/* Dropout on row `row` (batch numbering) of `cols` units: unit j is kept
 * when hash(key, row * cols + j), a uniform 32-bit integer, is below
 * keep_prob * 2^32. Branch-free, so it vectorises. */
static inline void FNN(dropout_row)(REAL *a, uint8_t *mask, ptrdiff_t row, ptrdiff_t cols,
                                    const fnn_dropout *dropout)
{
    /* kept: u < keep_prob * 2^32, written as u <= last so that keep_prob = 1
     * (2^32, which no uint32_t holds) keeps every unit instead of being an
     * out-of-range conversion. keep_prob >= 2^-32 (the estimators' bound)
     * keeps last >= 0. */
    const double bound = dropout->keep_prob * 4294967296.0;
    const uint32_t last = bound >= 4294967296.0 ? UINT32_MAX : (uint32_t)bound - 1u;
    const uint32_t key_low = (uint32_t)dropout->key;
    const uint32_t key_high = (uint32_t)(dropout->key >> 32);
    const REAL inverse_keep = (REAL)(1.0 / dropout->keep_prob);
    const uint32_t first = (uint32_t)(row * cols);
    for (ptrdiff_t j = 0; j < cols; j++) {
        const uint32_t u = fnn_hash32(fnn_hash32((first + (uint32_t)j) ^ key_low) + key_high);
        const uint8_t kept = u <= last;
        mask[j] = kept;
        a[j] *= kept ? inverse_keep : (REAL)0;
    }
}

FNN_MULTIVERSION
void FNN(fnn_dropout_apply)(REAL *A, ptrdiff_t rows, ptrdiff_t cols, const fnn_dropout *dropout)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        FNN(dropout_row)(A + i * cols, dropout->mask + i * cols, dropout->first_row + i, cols,
                         dropout);
    }
}

/* The row loops below take `activation` as an argument of an always-inlined
 * function and are called from a switch with a constant in each case: the
 * compiler specialises one branch-free, vectorised loop per activation
 * instead of switching per element. */
/* Rows are processed in blocks of about FNN_BLOCK values: the bias is added
 * row by row, then the activation runs as one flat loop over the block, so
 * narrow layers (a few units) still fill whole SIMD vectors, and the block is
 * still in L1 when it is dropped out. */
#ifndef FNN_BLOCK
#define FNN_BLOCK 2048
#endif

/* Narrow layers (fewer than FNN_NARROW units) add the bias and apply the
 * activation in one flat loop over chunks of whole rows, with the bias tiled
 * to the chunk's length: a per-row loop of 1-4 units would cost more in
 * loop overhead than the arithmetic. */
#ifndef FNN_NARROW
#define FNN_NARROW 32
#define FNN_TILE 64
#endif

static inline __attribute__((always_inline)) void FNN(bias_activation_rows)(
    REAL *Z, REAL *A, const REAL *b, ptrdiff_t rows, ptrdiff_t cols, const int activation,
    REAL slope, const fnn_dropout *dropout)
{
    const ptrdiff_t block_rows = cols >= FNN_BLOCK ? 1 : FNN_BLOCK / cols;
    REAL tiled_bias[FNN_TILE];
    const ptrdiff_t tile = cols < FNN_NARROW ? cols * (FNN_TILE / cols) : 0;
    for (ptrdiff_t t = 0; t < tile; t += cols) {
        memcpy(tiled_bias + t, b, (size_t)cols * sizeof(REAL));
    }
    for (ptrdiff_t first = 0; first < rows; first += block_rows) {
        const ptrdiff_t n = rows - first < block_rows ? rows - first : block_rows;
        REAL *z = Z + first * cols;
        REAL *a = A + first * cols;
        if (tile > 0 && activation != FNN_SOFTMAX) {
            const ptrdiff_t count = n * cols;
            for (ptrdiff_t start = 0; start < count; start += tile) {
                const ptrdiff_t length = count - start < tile ? count - start : tile;
                REAL *zc = z + start;
                REAL *ac = a + start;
                for (ptrdiff_t t = 0; t < length; t++) {
                    const REAL value = zc[t] + tiled_bias[t];
                    zc[t] = value;
                    ac[t] = FNN(activate)(value, activation, slope);
                }
            }
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                for (ptrdiff_t j = 0; j < cols; j++) {
                    z[i * cols + j] += b[j];
                }
            }
            if (activation == FNN_SOFTMAX) {
                for (ptrdiff_t i = 0; i < n; i++) {
                    FNN(softmax_row)(z + i * cols, a + i * cols, cols);
                }
            } else {
                for (ptrdiff_t k = 0; k < n * cols; k++) {
                    a[k] = FNN(activate)(z[k], activation, slope);
                }
            }
        }
        if (dropout != NULL) {
            for (ptrdiff_t i = 0; i < n; i++) {
                FNN(dropout_row)(a + i * cols, dropout->mask + (first + i) * cols,
                                 dropout->first_row + first + i, cols, dropout);
            }
        }
    }
}

FNN_MULTIVERSION
void FNN(fnn_bias_activation)(REAL *Z, REAL *A, const REAL *b, ptrdiff_t rows,
                              ptrdiff_t cols, int activation, double leaky_slope,
                              const fnn_dropout *dropout)
{
    const REAL slope = (REAL)leaky_slope;
    switch (activation) {
#define FNN_CASE(CODE) \
    case CODE: FNN(bias_activation_rows)(Z, A, b, rows, cols, CODE, slope, dropout); break;
    FNN_ELEMENTWISE_ACTIVATIONS(FNN_CASE)
    FNN_CASE(FNN_SOFTMAX)
    default: FNN(bias_activation_rows)(Z, A, b, rows, cols, FNN_IDENTITY, slope, dropout);
#undef FNN_CASE
    }
}

static inline __attribute__((always_inline)) void FNN(activation_backward_all)(
    REAL *delta, const REAL *Z, const REAL *A, ptrdiff_t count, const int activation,
    REAL slope, const uint8_t *mask, REAL keep_prob)
{
    if (mask == NULL) {
        for (ptrdiff_t k = 0; k < count; k++) {
            delta[k] *= FNN(derivative)(Z[k], A[k], activation, slope);
        }
        return;
    }
    /* A kept unit holds g(z) / p, so g(z) = A * p for the derivative; a
     * dropped unit passes no gradient. */
    for (ptrdiff_t k = 0; k < count; k++) {
        const REAL through = delta[k] / keep_prob
                             * FNN(derivative)(Z[k], A[k] * keep_prob, activation, slope);
        delta[k] = mask[k] ? through : (REAL)0;
    }
}

FNN_MULTIVERSION
void FNN(fnn_activation_backward)(REAL *delta, const REAL *Z, const REAL *A,
                                  ptrdiff_t rows, ptrdiff_t cols, int activation,
                                  double leaky_slope, const uint8_t *mask, double keep_prob)
{
    const REAL slope = (REAL)leaky_slope;
    const REAL p = (REAL)keep_prob;
    const ptrdiff_t count = rows * cols;
    if (activation == FNN_IDENTITY && mask == NULL) {
        return;
    }
    switch (activation) {
#define FNN_CASE(CODE) \
    case CODE: FNN(activation_backward_all)(delta, Z, A, count, CODE, slope, mask, p); break;
    /* FNN_EXP among them is output only: the squared loss's delta comes through here */
    FNN_ELEMENTWISE_ACTIVATIONS(FNN_CASE)
    default: FNN(activation_backward_all)(delta, Z, A, count, FNN_IDENTITY, slope, mask, p);
#undef FNN_CASE
    }
}

FNN_MULTIVERSION
void FNN(fnn_output_delta)(REAL *delta, const REAL *Z, const REAL *A, const REAL *Y,
                           ptrdiff_t rows, ptrdiff_t cols, int loss, int activation,
                           double leaky_slope)
{
    const ptrdiff_t count = rows * cols;
    for (ptrdiff_t k = 0; k < count; k++) {
        delta[k] = A[k] - Y[k];
    }
    /* log-loss after sigmoid, cross-entropy after softmax and poisson after
     * exp (canonical links): the output derivative cancels and
     * delta = A - Y (SPEC 2). */
    if (loss != FNN_SQUARED) {
        return;
    }
    if (activation == FNN_SOFTMAX) {
        /* Jacobian-vector product of softmax: s * (r - <r, s>) row by row. */
        for (ptrdiff_t i = 0; i < rows; i++) {
            REAL *r = delta + i * cols;
            const REAL *s = A + i * cols;
            REAL dot = 0;
            for (ptrdiff_t j = 0; j < cols; j++) {
                dot += r[j] * s[j];
            }
            for (ptrdiff_t j = 0; j < cols; j++) {
                r[j] = s[j] * (r[j] - dot);
            }
        }
    } else {
        FNN(fnn_activation_backward)(delta, Z, A, rows, cols, activation, leaky_slope,
                                      NULL, 1.0);
    }
}

/* The loss of one example (SPEC 2). */
static inline double FNN(row_loss)(const REAL *z, const REAL *a, const REAL *y, ptrdiff_t cols,
                                   int loss)
{
    double total = 0.0;
    if (loss == FNN_LOG_LOSS) {
        /* -[y log a + (1-y) log(1-a)] from the logit: log a = -softplus(-z),
         * log(1-a) = -softplus(z); finite for saturated units. */
        for (ptrdiff_t j = 0; j < cols; j++) {
            total += y[j] * FNN(softplus)(-z[j]) + ((REAL)1 - y[j]) * FNN(softplus)(z[j]);
        }
    } else if (loss == FNN_CROSS_ENTROPY) {
        /* -sum_k y_k (z_k - logsumexp(z)) */
        REAL zmax = z[0];
        for (ptrdiff_t j = 1; j < cols; j++) {
            if (z[j] > zmax) zmax = z[j];
        }
        REAL sum_exp = 0;
        for (ptrdiff_t j = 0; j < cols; j++) {
            sum_exp += FNN(exp_nonpositive)(z[j] - zmax);
        }
        const REAL log_sum_exp = zmax + log(sum_exp);
        for (ptrdiff_t j = 0; j < cols; j++) {
            total -= y[j] * (z[j] - log_sum_exp);
        }
    } else if (loss == FNN_POISSON) {
        /* half the Poisson deviance, as scikit-learn's poisson_loss:
         * xlogy(y, y / a) - y + a with a = e^z, the log taken as
         * y (log y - z), and 0 for y == 0 (y log y -> 0). */
        for (ptrdiff_t j = 0; j < cols; j++) {
            const REAL y_log_ratio = y[j] > 0 ? y[j] * (log(y[j]) - z[j]) : (REAL)0;
            total += y_log_ratio - y[j] + a[j];
        }
    } else { /* FNN_SQUARED */
        for (ptrdiff_t j = 0; j < cols; j++) {
            const REAL r = a[j] - y[j];
            total += 0.5 * r * r;
        }
    }
    return total;
}

double FNN(fnn_loss_sum)(const REAL *Z, const REAL *A, const REAL *Y, const REAL *weights,
                         ptrdiff_t rows, ptrdiff_t cols, int loss)
{
    double total = 0.0;
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double row = FNN(row_loss)(Z + i * cols, A + i * cols, Y + i * cols, cols, loss);
        total += weights != NULL ? (double)weights[i] * row : row;
    }
    return total;
}

FNN_MULTIVERSION
void FNN(fnn_scale_rows)(REAL *M, ptrdiff_t rows, ptrdiff_t cols, const REAL *weights)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const REAL w = weights[i];
        for (ptrdiff_t j = 0; j < cols; j++) {
            M[i * cols + j] *= w;
        }
    }
}

#ifndef FNN_WITH_CONSTANT_WIDTH
/* Runs STATEMENT, which names the row width `width`, with `width` a
 * compile-time constant for widths 1..FNN_CONSTANT_WIDTHS, and WIDE for any
 * other n. Inlined with a constant width, a loop over a row unrolls into a
 * few whole-vector operations instead of a vectorised loop with its set-up
 * and tail per row (2-4-1 network: the backward outer product took 0.7 of a
 * 6 us step with a runtime width, 0.2 unrolled). */
#define FNN_CONSTANT_WIDTHS 8
#define FNN_WITH_CONSTANT_WIDTH(n, STATEMENT, WIDE)            \
    switch (n) {                                               \
    case 1: { enum { width = 1 }; STATEMENT; } break;          \
    case 2: { enum { width = 2 }; STATEMENT; } break;          \
    case 3: { enum { width = 3 }; STATEMENT; } break;          \
    case 4: { enum { width = 4 }; STATEMENT; } break;          \
    case 5: { enum { width = 5 }; STATEMENT; } break;          \
    case 6: { enum { width = 6 }; STATEMENT; } break;          \
    case 7: { enum { width = 7 }; STATEMENT; } break;          \
    case 8: { enum { width = 8 }; STATEMENT; } break;          \
    default: WIDE;                                             \
    }
#endif

/* out[i, :] = d[i] * w for rows of n entries. */
static inline void FNN(outer_rows)(const REAL *d, ptrdiff_t rows, const REAL *w, ptrdiff_t n,
                                   REAL *out)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const REAL di = d[i];
        REAL *o = out + i * n;
        for (ptrdiff_t c = 0; c < n; c++) {
            o[c] = di * w[c];
        }
    }
}

FNN_MULTIVERSION
void FNN(fnn_outer_product)(const REAL *d, ptrdiff_t rows, const REAL *w, ptrdiff_t n,
                            REAL *out)
{
    FNN_WITH_CONSTANT_WIDTH(n, FNN(outer_rows)(d, rows, w, width, out),
                            FNN(outer_rows)(d, rows, w, n, out))
}

/* z[i] = A[i, :] . w for rows of n entries. */
static inline void FNN(dot_rows)(const REAL *A, ptrdiff_t rows, ptrdiff_t n, const REAL *w,
                                 REAL *z)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const REAL *a = A + i * n;
        REAL sum = 0;
        for (ptrdiff_t c = 0; c < n; c++) {
            sum += a[c] * w[c];
        }
        z[i] = sum;
    }
}

FNN_MULTIVERSION
void FNN(fnn_row_dots)(const REAL *A, ptrdiff_t rows, ptrdiff_t n, const REAL *w, REAL *z)
{
    FNN_WITH_CONSTANT_WIDTH(n, FNN(dot_rows)(A, rows, width, w, z),
                            FNN(dot_rows)(A, rows, n, w, z))
}

#include "fastnn_lanes_impl.h"

/* sum[:] += xi * row[0..n), a vector at a time. `whole`: load whole
 * vectors, reading (and then ignoring) up to a vector's worth of values past
 * the row's end; otherwise load the row's values one by one (a short memcpy
 * into a vector would go through the stack and stall on store forwarding). */
static inline __attribute__((always_inline)) void FNN(add_row)(
    FNN(lanes) *sum, REAL xi, const REAL *row, const ptrdiff_t n, const int whole)
{
    const ptrdiff_t lanes = FNN_LANES_OF(REAL);
    for (ptrdiff_t v = 0; v * lanes < n; v++) {
        FNN(lanes) values = {0};
        if (whole || n - v * lanes >= lanes) {
            memcpy(&values, row + v * lanes, sizeof values);
        } else {
            for (ptrdiff_t k = 0; k < n - v * lanes; k++) {
                values[k] = row[v * lanes + k];
            }
        }
        sum[v] += xi * values;
    }
}

/* out[j] = sum_i x_i M[i, j] for j < n <= FNN_CONSTANT_WIDTHS, where
 * x_i = x[i * incx] if `weighted`, else 1 (plain column sums).
 * Each row is loaded as whole vectors (explicitly: left to itself, GCC
 * vectorises across the rows with strided loads); where the vectors would
 * reach past the row, they read into the next row, so only the last rows,
 * whose vectors would leave the matrix, are loaded value by value.
 * Four partial sums per column are in flight, so the adds do not wait on
 * each other: rows i = u (mod 4) go to the u-th, the leftover rows to the
 * first, and the result is (s0 + s1) + (s2 + s3). That order depends on
 * nothing but the rows: a block of columns sums exactly as in the whole
 * matrix. Always inlined: an outlined copy would be compiled for the
 * baseline instruction set, not for the caller's clone. */
static inline __attribute__((always_inline)) void FNN(weighted_column_sums)(
    const int weighted, const REAL *x, ptrdiff_t incx, const REAL *M, ptrdiff_t ld,
    ptrdiff_t rows, const ptrdiff_t n, REAL *out)
{
    enum { MAX_VECTORS = 2 };  /* FNN_CONSTANT_WIDTHS doubles */
    const ptrdiff_t lanes = FNN_LANES_OF(REAL);
    const ptrdiff_t vectors = (n + lanes - 1) / lanes;
    /* rows [0, whole_rows) can be read as whole vectors inside the matrix */
    const ptrdiff_t readable = rows > 0 ? (rows - 1) * ld + n : 0;
    const ptrdiff_t whole_rows = readable >= vectors * lanes
                                 ? (readable - vectors * lanes) / ld + 1 : 0;
    FNN(lanes) s[4][MAX_VECTORS] = {{{0}}};
    ptrdiff_t i = 0;
    for (; i + 4 <= rows; i += 4) {
        if (i + 4 <= whole_rows) {
            for (int u = 0; u < 4; u++) {
                FNN(add_row)(s[u], weighted ? x[(i + u) * incx] : (REAL)1, M + (i + u) * ld, n, 1);
            }
        } else {
            for (int u = 0; u < 4; u++) {
                FNN(add_row)(s[u], weighted ? x[(i + u) * incx] : (REAL)1, M + (i + u) * ld, n, 0);
            }
        }
    }
    for (; i < rows; i++) {
        FNN(add_row)(s[0], weighted ? x[i * incx] : (REAL)1, M + i * ld, n, 0);
    }
    REAL total[MAX_VECTORS * FNN_LANES_OF(float)];
    for (ptrdiff_t v = 0; v < vectors; v++) {
        const FNN(lanes) sum = (s[0][v] + s[1][v]) + (s[2][v] + s[3][v]);
        memcpy(total + v * lanes, &sum, sizeof sum);
    }
    for (ptrdiff_t j = 0; j < n; j++) {
        out[j] = total[j];
    }
}

FNN_MULTIVERSION
void FNN(fnn_column_sums)(const REAL *M, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld,
                          double scale, REAL *out)
{
    if (cols <= FNN_CONSTANT_WIDTHS) {
        FNN_WITH_CONSTANT_WIDTH(cols, FNN(weighted_column_sums)(0, M, 0, M, ld, rows, width, out), )
    } else {
        for (ptrdiff_t j = 0; j < cols; j++) {
            out[j] = 0;
        }
        /* Row by row so the inner loop is contiguous and vectorises. */
        for (ptrdiff_t i = 0; i < rows; i++) {
            const REAL *m = M + i * ld;
            for (ptrdiff_t j = 0; j < cols; j++) {
                out[j] += m[j];
            }
        }
    }
    for (ptrdiff_t j = 0; j < cols; j++) {
        out[j] *= (REAL)scale;
    }
}

FNN_MULTIVERSION
void FNN(fnn_small_gemm_tn)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t rows, double alpha,
                            const REAL *A, ptrdiff_t lda, const REAL *B, ptrdiff_t ldb,
                            double beta, REAL *C, ptrdiff_t ldc)
{
    /* C[a, b] = sum_i A[i, a] B[i, b]: one pass over the rows per column of
     * the narrower operand (the weights x_i), summing the wider operand's
     * columns a vector at a time. Either way round each C[a, b] adds the
     * same products in the same order. */
    const int by_rows_of_C = m <= n;
    const ptrdiff_t passes = by_rows_of_C ? m : n, span = by_rows_of_C ? n : m;
    const REAL *weights = by_rows_of_C ? A : B, *summed = by_rows_of_C ? B : A;
    const ptrdiff_t ld_weights = by_rows_of_C ? lda : ldb, ld_summed = by_rows_of_C ? ldb : lda;
    /* C's step along a pass, and along the summed columns */
    const ptrdiff_t pass_step = by_rows_of_C ? ldc : 1, column_step = by_rows_of_C ? 1 : ldc;
    REAL sums[FNN_CONSTANT_WIDTHS];
    for (ptrdiff_t p = 0; p < passes; p++) {
        for (ptrdiff_t first = 0; first < span; first += FNN_CONSTANT_WIDTHS) {
            const ptrdiff_t count = span - first < FNN_CONSTANT_WIDTHS ? span - first : FNN_CONSTANT_WIDTHS;
            FNN_WITH_CONSTANT_WIDTH(count, FNN(weighted_column_sums)(1, weights + p, ld_weights,
                                                                    summed + first, ld_summed,
                                                                    rows, width, sums), )
            for (ptrdiff_t k = 0; k < count; k++) {
                REAL *c = C + p * pass_step + (first + k) * column_step;
                /* beta == 0 ignores C (BLAS's rule) */
                *c = beta == 0 ? (REAL)alpha * sums[k] : (REAL)alpha * sums[k] + (REAL)beta * *c;
            }
        }
    }
}

FNN_MULTIVERSION
double FNN(fnn_sum_squares)(const REAL *x, ptrdiff_t count)
{
    /* Eight running sums, added at the end: the loop vectorises (one chain of
     * dependent adds ran at a quarter of the memory speed, and the drop-ins
     * take this L2 term at every batch). */
    double part[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t k = 0;
    for (; k + 8 <= count; k += 8) {
        for (int j = 0; j < 8; j++) {
            part[j] += (double)x[k + j] * (double)x[k + j];
        }
    }
    double total = 0.0;
    for (; k < count; k++) {
        total += (double)x[k] * (double)x[k];
    }
    for (int j = 0; j < 8; j++) {
        total += part[j];
    }
    return total;
}

FNN_MULTIVERSION
void FNN(fnn_axpy)(ptrdiff_t count, double alpha, const REAL *x, REAL *y)
{
    const REAL a = (REAL)alpha;
    for (ptrdiff_t k = 0; k < count; k++) {
        y[k] += a * x[k];
    }
}

void FNN(fnn_gather_rows)(const REAL *src, const ptrdiff_t *index, ptrdiff_t rows,
                          ptrdiff_t cols, REAL *dst)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        memcpy(dst + i * cols, src + index[i] * cols, (size_t)cols * sizeof(REAL));
    }
}

/* The update rules of SPEC 10, each a single pass over its arrays; the loop
 * per optimiser is specialised like the activations' (constant `kind`).
 * Plain gradient descent is not here: its step rides on the weight GEMM.
 * heavy_ball, nesterov and adam_step_corrected are scikit-learn's SGD and
 * Adam optimisers (sklearn/neural_network/_stochastic_optimizers.py), each
 * operation in its order, so the same gradients give the same weights (to
 * the last bit but where the x86-64-v3/v4 clones contract a * b + c into a
 * fused multiply-add: there an ulp or so per step). */
static inline __attribute__((always_inline)) void FNN(optimizer_loop)(
    REAL *param, const REAL *grad, REAL *first, REAL *second, ptrdiff_t count,
    const fnn_step *step, const int kind)
{
    const REAL lr = (REAL)step->learning_rate;
    const REAL l2_scale = (REAL)step->l2_scale;
    const REAL momentum = (REAL)step->momentum;
    const REAL beta_1 = (REAL)step->beta_1, beta_2 = (REAL)step->beta_2;
    const REAL epsilon = (REAL)step->epsilon;
    const REAL correction_1 = (REAL)step->bias_correction_1;
    const REAL correction_2 = (REAL)step->bias_correction_2;
    /* The complements in double, rounded once: in float, 1 - (float)0.999 is
     * 1.3e-5 off 0.001 (scikit-learn's float32 fits round 1 - beta_2 once too). */
    const REAL one_minus_momentum = (REAL)(1.0 - step->momentum);
    const REAL one_minus_beta_1 = (REAL)(1.0 - step->beta_1);
    const REAL one_minus_beta_2 = (REAL)(1.0 - step->beta_2);
    /* adam_step_corrected's step size lr sqrt(1 - beta_2^t) / (1 - beta_1^t),
     * once per call in double as scikit-learn's learning_rate */
    const REAL corrected_lr = kind == FNN_ADAM_STEP_CORRECTED
        ? (REAL)(step->learning_rate * sqrt(step->bias_correction_2) / step->bias_correction_1)
        : (REAL)0;
    for (ptrdiff_t k = 0; k < count; k++) {
        const REAL g = grad[k] + l2_scale * param[k];
        if (kind == FNN_MOMENTUM) {
            first[k] = momentum * first[k] + one_minus_momentum * g;
            param[k] -= lr * first[k];
        } else if (kind == FNN_RMSPROP) {
            second[k] = beta_2 * second[k] + one_minus_beta_2 * g * g;
            param[k] -= lr * g / (sqrt(second[k]) + epsilon);
        } else if (kind == FNN_ADAM) {
            first[k] = beta_1 * first[k] + one_minus_beta_1 * g;
            second[k] = beta_2 * second[k] + one_minus_beta_2 * g * g;
            const REAL m_hat = first[k] / correction_1;
            const REAL v_hat = second[k] / correction_2;
            param[k] -= lr * m_hat / (sqrt(v_hat) + epsilon);
        } else if (kind == FNN_HEAVY_BALL) {
            /* update = momentum v - lr g; v = update; param += update */
            first[k] = momentum * first[k] - lr * g;
            param[k] += first[k];
        } else if (kind == FNN_NESTEROV) {
            /* v = momentum v - lr g; param += momentum v - lr g (the new v) */
            first[k] = momentum * first[k] - lr * g;
            param[k] += momentum * first[k] - lr * g;
        } else { /* FNN_ADAM_STEP_CORRECTED */
            first[k] = beta_1 * first[k] + one_minus_beta_1 * g;
            second[k] = beta_2 * second[k] + one_minus_beta_2 * (g * g);
            param[k] += -corrected_lr * first[k] / (sqrt(second[k]) + epsilon);
        }
    }
}

FNN_MULTIVERSION
void FNN(fnn_optimizer_step)(REAL *param, const REAL *grad, REAL *first, REAL *second,
                             ptrdiff_t count, const fnn_step *step)
{
    switch (step->kind) {
    case FNN_MOMENTUM: FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_MOMENTUM); break;
    case FNN_RMSPROP:  FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_RMSPROP); break;
    case FNN_ADAM:     FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_ADAM); break;
    case FNN_HEAVY_BALL:
        FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_HEAVY_BALL); break;
    case FNN_NESTEROV:
        FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_NESTEROV); break;
    case FNN_ADAM_STEP_CORRECTED:
        FNN(optimizer_loop)(param, grad, first, second, count, step, FNN_ADAM_STEP_CORRECTED);
        break;
    default:           break; /* no other kind reaches here (the Python side checks) */
    }
}

FNN_MULTIVERSION
int FNN(fnn_all_finite)(const REAL *x, ptrdiff_t count)
{
    /* x - x is 0 for a finite x and NaN for an infinity or a NaN, and a NaN
     * stays in the sum: one branch-free pass. */
    REAL total = 0;
    for (ptrdiff_t k = 0; k < count; k++) {
        total += x[k] - x[k];
    }
    return total == 0;
}
