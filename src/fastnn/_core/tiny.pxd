# The fused training step of tiny networks (csrc/fastnn_tiny.h): every
# layer, the input included, at most FNN_TINY_MAX_UNITS wide, dense X, no
# dropout, one thread. train.pyx's run_epochs calls `tiny_step` in place of
# its layered passes (train_rows, then gradient_descent_step or
# optimizer_update) when the fit's Workspace has a tiny scratch buffer;
# everything else in the loop (batches, shuffling, weights, costs,
# divergence) is the same code for both.
from cython cimport floating

from fastnn._core.network cimport Network
from fastnn._core.kernels cimport fnn_step, FNN_GD, axpy, optimizer_step

cdef extern from "fastnn_tiny.h" nogil:
    enum:
        FNN_TINY_MAX_UNITS
    ctypedef struct fnn_tiny_network:
        Py_ssize_t n_layers
        const Py_ssize_t* sizes
        const Py_ssize_t* coef_offsets
        const Py_ssize_t* intercept_offsets
        const int* activations
        int loss
        double leaky_slope
        double l2
    Py_ssize_t fnn_tiny_scratch_values(const fnn_tiny_network* net)
    double fnn_tiny_gradient_f32(const fnn_tiny_network* net, const float* params, const float* X, const float* Y, const float* weights, Py_ssize_t rows, double weight_sum, bint with_loss, float* scratch, float* grads)
    double fnn_tiny_gradient_f64(const fnn_tiny_network* net, const double* params, const double* X, const double* Y, const double* weights, Py_ssize_t rows, double weight_sum, bint with_loss, double* scratch, double* grads)


cdef inline fnn_tiny_network tiny_network(const Network* net) noexcept nogil:
    """The fields of `net` the fused pass reads."""
    cdef fnn_tiny_network tiny
    tiny.n_layers = net.n_layers
    tiny.sizes = net.sizes
    tiny.coef_offsets = net.coef_offsets
    tiny.intercept_offsets = net.intercept_offsets
    tiny.activations = net.activations
    tiny.loss = net.loss
    tiny.leaky_slope = net.leaky_slope
    tiny.l2 = net.l2
    return tiny


cdef inline double tiny_step(const Network* net, floating* params, Py_ssize_t n_params,
                             floating* grads, floating* scratch, const floating* X_rows,
                             const floating* Y_rows, const floating* W_rows, Py_ssize_t rows,
                             double weight_sum, bint with_loss, int kind,
                             double learning_rate, const fnn_step* step, floating* moment1,
                             floating* moment2) noexcept nogil:
    """One step on the batch's `rows` dense rows (X_rows, Y_rows, W_rows:
    sample weights or NULL): the whole gradient dJ/dtheta (its L2 term
    included) into `grads` in one fused pass, then the update of every
    parameter at once - plain gradient descent, theta -= lr * grads, or the
    rule of `step` with its moments (the gradient already holds the L2 term:
    l2_scale 0). Returns the batch's summed (weighted) loss at the weights
    before the step if with_loss, else 0."""
    cdef fnn_tiny_network tiny = tiny_network(net)
    cdef double loss
    cdef fnn_step rule
    if floating is float:
        loss = fnn_tiny_gradient_f32(&tiny, params, X_rows, Y_rows, W_rows, rows, weight_sum,
                                     with_loss, scratch, grads)
    else:
        loss = fnn_tiny_gradient_f64(&tiny, params, X_rows, Y_rows, W_rows, rows, weight_sum,
                                     with_loss, scratch, grads)
    if kind == FNN_GD:
        axpy(n_params, -learning_rate, grads, params)
    else:
        rule = step[0]
        rule.l2_scale = 0.0
        optimizer_step(params, grads, moment1, moment2, n_params, &rule)
    return loss
