/* The fused training pass of tiny networks: plain C99, no Python headers.
 *
 * When every layer of a network (the input included) has at most
 * FNN_TINY_MAX_UNITS units, a batch's forward pass, output error,
 * back-propagation and parameter gradient cost less than the set-up of the
 * BLAS calls and the memory passes of the layered path (fastnn/_core/dense.pyx):
 * the 2-4-1 network of the notes spends most of its step there. This pass
 * goes over the batch once, FNN_TINY_ROWS rows at a time (a "tile", one row
 * per SIMD lane: every operation is vectorised across rows, whatever the
 * widths), keeps the tile's activations in a small scratch buffer that stays
 * in L1, and accumulates the gradient lane by lane; the lanes are summed once
 * at the end. The arithmetic of each activation, derivative and loss is
 * fastnn_kernels_impl.h's own (its inline functions), so only the order of
 * the sums differs from the layered path.
 *
 * Both precisions come from the one body in fastnn_tiny_impl.h, instantiated
 * by fastnn_instantiate.h next to the element-wise kernels. */
#ifndef FASTNN_TINY_H
#define FASTNN_TINY_H

#include <stddef.h>

/* Widest layer (inputs included) the fused pass takes. */
#define FNN_TINY_MAX_UNITS 16
/* Rows per tile: 4 AVX2 vectors of doubles, 2 of floats, so each operation
 * has independent vectors in flight while a polynomial (tanh, sigmoid)
 * waits on its previous term. */
#define FNN_TINY_ROWS 16

/* The network as the fused pass reads it: the fields of fastnn/_core/network.pxd
 * it needs (the parameter vector's layout: W_l at coef_offsets[l],
 * b_l at intercept_offsets[l]). */
typedef struct {
    ptrdiff_t n_layers;
    const ptrdiff_t *sizes;              /* n_layers + 1 widths, sizes[0] = features */
    const ptrdiff_t *coef_offsets;
    const ptrdiff_t *intercept_offsets;
    const int *activations;              /* one code per layer (last = output) */
    int loss;
    double leaky_slope;
    double l2;
} fnn_tiny_network;

/* Values of REAL the pass's scratch buffer must hold for `net`: per row lane,
 * the input, every layer's Z, A and delta, the targets, the lane's weight
 * and the gradient's partial sums. */
static inline ptrdiff_t fnn_tiny_scratch_values(const fnn_tiny_network *net)
{
    const ptrdiff_t last = net->n_layers;
    ptrdiff_t units = 0;
    for (ptrdiff_t l = 1; l <= last; l++) {
        units += net->sizes[l];
    }
    const ptrdiff_t n_params = net->intercept_offsets[last - 1] + net->sizes[last];
    return FNN_TINY_ROWS * (net->sizes[0] + 3 * units + net->sizes[last] + 1 + n_params);
}

#define FNN_DECLARE_TINY(REAL, SFX)                                                       \
    /* grads = dJ/dtheta of the batch's `rows` rows (X, Y row-major; weights: one   \
     * sample weight per row, NULL: all 1), laid out like params, the L2 term on   \
     * the weights included:                                                       \
     *     dW_l = (A_{l-1}.T @ delta_l) / n + (l2 / n) W_l,  db_l = delta_l.sum(0) / n \
     * with n = weight_sum (SPEC 2, 3). Returns the summed (weighted) loss of the  \
     * rows if with_loss, else 0. scratch: fnn_tiny_scratch_values(net) values.   \
     * Every width must be <= FNN_TINY_MAX_UNITS and rows >= 1. */                 \
    double fnn_tiny_gradient_##SFX(const fnn_tiny_network *net, const REAL *params,     \
                                   const REAL *X, const REAL *Y, const REAL *weights,   \
                                   ptrdiff_t rows, double weight_sum, int with_loss,    \
                                   REAL *scratch, REAL *grads);

FNN_DECLARE_TINY(float, f32)
FNN_DECLARE_TINY(double, f64)

#endif /* FASTNN_TINY_H */
