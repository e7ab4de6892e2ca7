/* fastnn element-wise kernels: plain C99, no Python headers.
 *
 * Every kernel exists for float (suffix _f32) and double (suffix _f64); both are
 * instantiated from the one generic body in fastnn_kernels_impl.h.
 * Matrices are row-major with rows = examples; `cols` is also the leading dimension.
 */
#ifndef FASTNN_KERNELS_H
#define FASTNN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The vocabulary of fastnn: every activation, loss and optimiser has one
 * code here and one name in the tables below. These are the source:
 * fastnn/_core/vocabulary.pyx reads the tables, and the estimators' parameter
 * checks, the CLI and the network description take their names from there
 * (fastnn.reference, independent of the core, spells the same names, and
 * the estimators' docstrings list them as text; tests hold both to it).
 * Adding an activation: its code and table row here, its case in the
 * kernels' switches (an element-wise one: in FNN_ELEMENTWISE_ACTIVATIONS
 * below, which the forward, derivative and fused tiny-step switches expand;
 * its value and derivative in fastnn_kernels_impl.h), its NumPy form
 * in fastnn/reference.py, its name in the docstrings. New codes go last:
 * the tables' order is the order the names are listed in everywhere. */
enum fnn_activation {
    FNN_SIGMOID = 0,
    FNN_TANH = 1,
    FNN_RELU = 2,
    FNN_LEAKY_RELU = 3,
    FNN_ARCTAN = 4,
    FNN_IDENTITY = 5,
    FNN_SOFTMAX = 6,
    FNN_EXP = 7,           /* output only: e^z, the log link of the poisson loss */
    FNN_N_ACTIVATIONS = 8
};

/* CASE(code) for every element-wise activation but the identity: the
 * kernels' switches make one case of each, a loop specialised for it. */
#define FNN_ELEMENTWISE_ACTIVATIONS(CASE) \
    CASE(FNN_SIGMOID) CASE(FNN_TANH) CASE(FNN_RELU) CASE(FNN_LEAKY_RELU) CASE(FNN_ARCTAN) \
    CASE(FNN_EXP)

enum fnn_loss {
    FNN_LOG_LOSS = 0,      /* sigmoid output, y in {0,1}  */
    FNN_CROSS_ENTROPY = 1, /* softmax output, y one-hot   */
    FNN_SQUARED = 2,       /* any output activation       */
    FNN_POISSON = 3,       /* exp output, y >= 0: half the Poisson deviance */
    FNN_N_LOSSES = 4
};

enum fnn_optimizer {
    FNN_GD = 0,            /* folded into the weight-gradient GEMM: no fnn_step */
    FNN_MOMENTUM = 1,
    FNN_RMSPROP = 2,
    FNN_ADAM = 3,
    /* scikit-learn's rules (sklearn/neural_network/_stochastic_optimizers.py),
     * in its operation order: */
    FNN_HEAVY_BALL = 4,    /* sgd, nesterovs_momentum=False: v = mu v - lr g; p += v */
    FNN_NESTEROV = 5,      /* sgd, nesterovs_momentum=True: p += mu v_new - lr g */
    FNN_ADAM_STEP_CORRECTED = 6, /* AdamOptimizer: the corrections folded into lr_t */
    FNN_N_OPTIMIZERS = 7
};

/* Where an activation may sit: hidden layers need an element-wise
 * derivative (fnn_activation_backward), softmax is row-wise and only an
 * output; relu-like units are not offered as outputs. relu_like: init="auto"
 * starts their layers with he's scale (SPEC 4), the others with xavier's. */
typedef struct {
    const char *name;
    int hidden;
    int output;
    int relu_like;
} fnn_activation_name;

static const fnn_activation_name fnn_activation_names[FNN_N_ACTIVATIONS] = {
    [FNN_SIGMOID]    = {"sigmoid", 1, 1, 0},
    [FNN_TANH]       = {"tanh", 1, 1, 0},
    [FNN_RELU]       = {"relu", 1, 0, 1},
    [FNN_LEAKY_RELU] = {"leaky_relu", 1, 0, 1},
    [FNN_ARCTAN]     = {"arctan", 1, 1, 0},
    [FNN_IDENTITY]   = {"identity", 1, 1, 0},
    [FNN_SOFTMAX]    = {"softmax", 0, 1, 0},
    [FNN_EXP]        = {"exp", 0, 1, 0},
};

/* A loss and the output activation it requires (-1: any output). */
typedef struct {
    const char *name;
    int output_activation;
} fnn_loss_name;

static const fnn_loss_name fnn_loss_names[FNN_N_LOSSES] = {
    [FNN_LOG_LOSS]      = {"log_loss", FNN_SIGMOID},
    [FNN_CROSS_ENTROPY] = {"cross_entropy", FNN_SOFTMAX},
    [FNN_SQUARED]       = {"squared", -1},
    [FNN_POISSON]       = {"poisson", FNN_EXP},
};

static const char *const fnn_optimizer_names[FNN_N_OPTIMIZERS] = {
    [FNN_GD] = "gd",
    [FNN_MOMENTUM] = "momentum",
    [FNN_RMSPROP] = "rmsprop",
    [FNN_ADAM] = "adam",
    [FNN_HEAVY_BALL] = "heavy_ball",
    [FNN_NESTEROV] = "nesterov",
    [FNN_ADAM_STEP_CORRECTED] = "adam_step_corrected",
};

/* Inverted dropout of one layer in one step (SPEC 6): each unit is kept
 * with probability keep_prob and kept units are divided by keep_prob.
 * The draw for unit j of batch row i is a hash of (key, i * cols + j): a
 * counter-based generator, so any thread can draw any row and the masks do
 * not depend on how the batch is split. `key` differs per step and layer
 * (fnn_dropout_key, from a seed drawn from NumPy's bit generator). `mask`
 * (1 = kept) holds the draw of row `first_row` onwards, for the backward pass. */
typedef struct {
    double keep_prob;
    uint64_t key;
    ptrdiff_t first_row;
    uint8_t *mask;
} fnn_dropout;

/* The key of one (step, layer) under the fit's seed. */
uint64_t fnn_dropout_key(uint64_t seed, uint64_t step, int layer);

/* One optimiser step's constants (SPEC 10), named as the estimators'
 * parameters. kind is any optimiser but FNN_GD (plain gradient descent
 * never runs through this struct). l2_scale adds the L2 term,
 * g = grad + l2_scale * param, inside the same pass. */
typedef struct {
    int kind;
    double learning_rate;     /* of this step's epoch, after the schedule */
    double l2_scale;
    double momentum;          /* momentum: v = momentum v + (1 - momentum) g;
                               * heavy_ball, nesterov: v = momentum v - lr g */
    double beta_1, beta_2;    /* both adams (beta_2 also rmsprop) */
    double epsilon;
    double bias_correction_1; /* both adams: 1 - beta_1^t */
    double bias_correction_2; /* both adams: 1 - beta_2^t */
} fnn_step;

#define FNN_DECLARE_KERNELS(REAL, SFX)                                              \
    /* Z += b (row broadcast), then A = g(Z) (softmax is row-wise), then       \
     * dropout on A when `dropout` is not NULL: one pass, block by block of     \
     * whole rows (FNN_BLOCK in fastnn_kernels_impl.h). */                      \
    void fnn_bias_activation_##SFX(REAL *Z, REAL *A, const REAL *b,                \
                                   ptrdiff_t rows, ptrdiff_t cols,                  \
                                   int activation, double leaky_slope,              \
                                   const fnn_dropout *dropout);                     \
    /* Dropout alone, in place (the input layer). */                                \
    void fnn_dropout_apply_##SFX(REAL *A, ptrdiff_t rows, ptrdiff_t cols,           \
                                 const fnn_dropout *dropout);                       \
    /* delta *= g'(Z) for an element-wise activation; with a dropout mask          \
     * (not NULL) also delta *= mask / keep_prob. A is the layer's output as the    \
     * forward pass left it (after dropout). */                                     \
    void fnn_activation_backward_##SFX(REAL *delta, const REAL *Z, const REAL *A,   \
                                       ptrdiff_t rows, ptrdiff_t cols,              \
                                       int activation, double leaky_slope,          \
                                       const uint8_t *mask, double keep_prob);      \
    /* delta = n * dJ/dZ_L for the output layer (SPEC 2). */                        \
    void fnn_output_delta_##SFX(REAL *delta, const REAL *Z, const REAL *A,          \
                                const REAL *Y, ptrdiff_t rows, ptrdiff_t cols,      \
                                int loss, int activation, double leaky_slope);      \
    /* Sum over the rows of the per-example loss, each times weights[i]        \
     * (weights NULL: 1), accumulated in double. */                                \
    double fnn_loss_sum_##SFX(const REAL *Z, const REAL *A, const REAL *Y,          \
                              const REAL *weights, ptrdiff_t rows, ptrdiff_t cols,  \
                              int loss);                                            \
    /* 1 if every x[k] is finite (the divergence check), else 0. */               \
    int fnn_all_finite_##SFX(const REAL *x, ptrdiff_t count);                       \
    /* M[i, :] *= weights[i] (sample weights on the output error). */              \
    void fnn_scale_rows_##SFX(REAL *M, ptrdiff_t rows, ptrdiff_t cols,              \
                              const REAL *weights);                                 \
    /* out[i, c] = d[i] * w[c] (rows x n): the backward product through a    \
     * one-unit layer, where BLAS's set-up costs more than the product. */       \
    void fnn_outer_product_##SFX(const REAL *d, ptrdiff_t rows, const REAL *w,    \
                                 ptrdiff_t n, REAL *out);                         \
    /* z[i] = A[i, :] . w (rows x n times n): the forward product into a       \
     * one-unit layer, likewise cheaper than BLAS's set-up for n <= 8 (wider:  \
     * correct but scalar). */                                                    \
    void fnn_row_dots_##SFX(const REAL *A, ptrdiff_t rows, ptrdiff_t n,           \
                            const REAL *w, REAL *z);                              \
    /* out[j] = scale * sum_i M[i, j], M with row stride ld */                      \
    void fnn_column_sums_##SFX(const REAL *M, ptrdiff_t rows, ptrdiff_t cols,       \
                               ptrdiff_t ld, double scale, REAL *out);              \
    /* C = alpha A^T B + beta C (C m x n, A rows x m, B rows x n, row-major with   \
     * row strides lda, ldb, ldc; beta == 0 ignores C): the weight gradient of    \
     * a small layer, where BLAS's set-up costs more than the sums. Correct for  \
     * any size; vectorised along the longer of m and n (8 at a time). */         \
    void fnn_small_gemm_tn_##SFX(ptrdiff_t m, ptrdiff_t n, ptrdiff_t rows,          \
                                 double alpha, const REAL *A, ptrdiff_t lda,        \
                                 const REAL *B, ptrdiff_t ldb, double beta,         \
                                 REAL *C, ptrdiff_t ldc);                           \
    /* sum of squares of x[0..count), accumulated in double (the L2 term). */       \
    double fnn_sum_squares_##SFX(const REAL *x, ptrdiff_t count);                   \
    /* y += alpha * x */                                                            \
    void fnn_axpy_##SFX(ptrdiff_t count, double alpha, const REAL *x, REAL *y);     \
    /* dst[i, :] = src[index[i], :] for i < rows: the mini-batch gather. */         \
    void fnn_gather_rows_##SFX(const REAL *src, const ptrdiff_t *index,             \
                               ptrdiff_t rows, ptrdiff_t cols, REAL *dst);          \
    /* One optimiser step on count parameters, moments `first` (the velocity   \
     * v of momentum, heavy_ball and nesterov; the adams' m) and `second`       \
     * (rmsprop's s, the adams' v), in one pass. */                             \
    void fnn_optimizer_step_##SFX(REAL *param, const REAL *grad, REAL *first,       \
                                  REAL *second, ptrdiff_t count,                    \
                                  const fnn_step *step);

FNN_DECLARE_KERNELS(float, f32)
FNN_DECLARE_KERNELS(double, f64)

/* Fisher-Yates shuffle of order[0..n) driven by a 64-bit generator (NumPy's
 * bitgen_t next_uint64 and state). fastnn.reference.shuffle_in_place is the
 * same algorithm, draw for draw. */
void fnn_shuffle(ptrdiff_t *order, ptrdiff_t n,
                 uint64_t (*next_uint64)(void *state), void *state);

#endif /* FASTNN_KERNELS_H */
