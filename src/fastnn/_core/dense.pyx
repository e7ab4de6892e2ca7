# cython: language_level=3
"""Forward and backward passes of a dense stack: GEMM through BLAS, then one
fused element-wise pass from csrc/. Each pass sits next to its inverse so the
two can be read together. The NumPy equivalent of each BLAS call is in the
comment above it.
"""
from cython cimport floating
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

from fastnn._core.blas cimport gemm
from fastnn._core.network cimport Network
from fastnn._core.kernels cimport (
    fnn_dropout, bias_activation, activation_backward, output_delta, loss_sum, column_sums,
    sum_squares, axpy,
)


cdef inline const floating* layer_input(const Network* net, const floating* X,
                                        const floating* A, Py_ssize_t l) noexcept nogil:
    """A_{l-1}: the input of layer l (X for the first layer)."""
    if l == 0:
        return X
    return A + net.capacity * net.unit_offsets[l - 1]


cdef inline const uint8_t* hidden_mask(const Network* net, const uint8_t* masks,
                                       Py_ssize_t l) noexcept nogil:
    """Dropout mask of layer l's output, or NULL where that output is not dropped."""
    if masks == NULL or l + 1 >= net.n_layers or net.keep_probs[l + 1] >= 1.0:
        return NULL
    return masks + net.capacity * net.unit_offsets[l]


cdef void forward(const Network* net, const floating* params, const floating* X,
                  Py_ssize_t rows, floating* Z, floating* A,
                  uint8_t* masks, const fnn_dropout* random_bits) noexcept nogil:
    """Z_l and A_l for every layer, for `rows` examples of X (row-major).

    masks == NULL: no dropout (prediction, cost reporting). Otherwise each
    hidden layer whose output has keep probability < 1 is dropped in its
    bias+activation pass, drawing from random_bits, and the draw is kept in
    `masks` (same layout as A). X is taken as given: input dropout, if any,
    has already been applied by the caller, who owns the batch buffer.
    """
    cdef Py_ssize_t l, n_in, n_out
    cdef floating* Z_l
    cdef fnn_dropout dropout
    cdef const fnn_dropout* layer_dropout
    if masks != NULL:
        dropout = random_bits[0]
    for l in range(net.n_layers):
        n_in = net.sizes[l]
        n_out = net.sizes[l + 1]
        Z_l = Z + net.capacity * net.unit_offsets[l]
        # Z_l = A_{l-1} @ W_l
        gemm(False, False, <int> rows, <int> n_out, <int> n_in,
             <floating> 1.0, layer_input(net, X, A, l), <int> n_in,
             params + net.coef_offsets[l], <int> n_out,
             <floating> 0.0, Z_l, <int> n_out)
        # Z_l += b_l; A_l = g_l(Z_l); A_l *= D_l / p (training only)
        layer_dropout = NULL
        if hidden_mask(net, masks, l) != NULL:
            dropout.keep_prob = net.keep_probs[l + 1]
            dropout.mask = <uint8_t*> hidden_mask(net, masks, l)
            layer_dropout = &dropout
        bias_activation(Z_l, A + net.capacity * net.unit_offsets[l],
                        params + net.intercept_offsets[l], rows, n_out,
                        net.activations[l], net.leaky_slope, layer_dropout)


cdef double batch_cost_sum(const Network* net, const floating* params, const floating* Y,
                           Py_ssize_t rows, const floating* Z, const floating* A) noexcept nogil:
    """rows * J for the batch whose forward pass is in Z, A (SPEC 2):
    the summed loss plus l2/2 * sum_l ||W_l||^2."""
    cdef Py_ssize_t last = net.n_layers - 1
    cdef Py_ssize_t offset = net.capacity * net.unit_offsets[last]
    cdef double total = loss_sum(Z + offset, A + offset, Y, rows, net.sizes[last + 1], net.loss)
    cdef double squares = 0.0
    cdef Py_ssize_t l
    if net.l2 != 0.0:
        for l in range(net.n_layers):
            squares += sum_squares(params + net.coef_offsets[l], net.sizes[l] * net.sizes[l + 1])
        total += 0.5 * net.l2 * squares
    return total


cdef void backward(const Network* net, floating* params, floating* grads,
                   const floating* X, const floating* Y, Py_ssize_t rows,
                   const floating* Z, const floating* A, const uint8_t* masks,
                   floating* delta, floating* delta_spare,
                   double learning_rate) noexcept nogil:
    """Back-propagation (SPEC 3) after `forward` on the same rows, with the
    same dropout masks (NULL: none).

    learning_rate == 0: write dJ/dW_l and dJ/db_l into `grads` (same layout as params).
    learning_rate > 0: take the gradient-descent step instead. The step is folded
    into the weight-gradient GEMM, W <- (1 - lr*l2/n) W - (lr/n) A^T delta, so
    no weight gradient is ever stored; `grads` only holds the bias gradients.
    delta and delta_spare each hold capacity * max width values.
    """
    cdef Py_ssize_t l, last = net.n_layers - 1
    cdef Py_ssize_t n_in, n_out
    cdef double inv_rows = 1.0 / rows
    cdef floating* W_l
    cdef floating* swap
    cdef Py_ssize_t offset = net.capacity * net.unit_offsets[last]

    # delta_L = n dJ/dZ_L
    output_delta(delta, Z + offset, A + offset, Y, rows, net.sizes[last + 1],
                 net.loss, net.activations[last], net.leaky_slope)
    for l in range(last, -1, -1):
        n_in = net.sizes[l]
        n_out = net.sizes[l + 1]
        W_l = params + net.coef_offsets[l]
        # dJ/db_l = delta_l.sum(axis=0) / n
        column_sums(delta, rows, n_out, inv_rows, grads + net.intercept_offsets[l])
        if l > 0:
            # delta_{l-1} = (delta_l @ W_l.T) * D_{l-1}/p * g'(Z_{l-1}); before W_l is stepped.
            # The input layer's gradient (l == 0) is never needed.
            gemm(False, True, <int> rows, <int> n_in, <int> n_out,
                 <floating> 1.0, delta, <int> n_out, W_l, <int> n_out,
                 <floating> 0.0, delta_spare, <int> n_in)
            offset = net.capacity * net.unit_offsets[l - 1]
            activation_backward(delta_spare, Z + offset, A + offset, rows, n_in,
                                net.activations[l - 1], net.leaky_slope,
                                hidden_mask(net, masks, l - 1), net.keep_probs[l])
        if learning_rate > 0.0:
            # W_l = (1 - lr*l2/n) * W_l - (lr/n) * A_{l-1}.T @ delta_l
            gemm(True, False, <int> n_in, <int> n_out, <int> rows,
                 <floating> (-learning_rate * inv_rows), layer_input(net, X, A, l), <int> n_in,
                 delta, <int> n_out,
                 <floating> (1.0 - learning_rate * net.l2 * inv_rows), W_l, <int> n_out)
            # b_l -= lr * dJ/db_l
            axpy(n_out, -learning_rate, grads + net.intercept_offsets[l],
                 params + net.intercept_offsets[l])
        else:
            # dW_l = A_{l-1}.T @ delta_l / n + (l2/n) W_l: the L2 term rides on beta.
            memcpy(grads + net.coef_offsets[l], W_l, n_in * n_out * sizeof(floating))
            gemm(True, False, <int> n_in, <int> n_out, <int> rows,
                 <floating> inv_rows, layer_input(net, X, A, l), <int> n_in,
                 delta, <int> n_out,
                 <floating> (net.l2 * inv_rows), grads + net.coef_offsets[l], <int> n_out)
        swap = delta
        delta = delta_spare
        delta_spare = swap
