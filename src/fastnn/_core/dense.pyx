# cython: language_level=3
"""Forward and backward passes of a dense stack: GEMM through BLAS, then one
fused element-wise pass from csrc/. Each pass sits next to its inverse so the
two can be read together. The NumPy equivalent of each BLAS call is in the
comment above it.

Buffers Z, A, masks and deltas hold `capacity` rows per layer (layer l at
capacity * unit_offsets[l]); a thread working on rows [first_row,
first_row + rows) touches only those rows, until `update_layers`, which
reads the whole batch and writes only its own columns of W and b.
"""
from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

from fastnn._core.blas cimport gemm
from fastnn._core.network cimport Network
from fastnn._core.kernels cimport (
    fnn_step, optimizer_step, fnn_dropout, fnn_dropout_key, bias_activation, activation_backward, output_delta,
    loss_sum as kernel_loss_sum, scale_rows, column_sums, sum_squares, axpy,
    outer_product, row_dots,
)


cdef inline Py_ssize_t layer_offset(const Network* net, Py_ssize_t l,
                                    Py_ssize_t first_row) noexcept nogil:
    """Where row `first_row` of layer l's Z, A, mask or delta starts."""
    return net.capacity * net.unit_offsets[l] + first_row * net.sizes[l + 1]


cdef inline bint dropped(const Network* net, Py_ssize_t l) noexcept nogil:
    """Does layer l's output (the input of layer l + 1) go through dropout?"""
    return l + 1 < net.n_layers and net.keep_probs[l + 1] < 1.0


cdef void forward(const Network* net, const floating* params, const floating* X_rows,
                  Py_ssize_t first_row, Py_ssize_t rows, floating* Z, floating* A,
                  uint8_t* masks, uint64_t dropout_seed, Py_ssize_t step) noexcept nogil:
    """Z_l and A_l of every layer for batch rows [first_row, first_row + rows);
    X_rows points at the first of them (already input-dropped if need be).

    masks == NULL: no dropout (prediction, cost reporting). Otherwise hidden
    layers with keep probability < 1 drop units in their bias+activation
    pass, drawn for (dropout_seed, step, layer), and keep the draw in masks.
    """
    cdef Py_ssize_t l, n_in, n_out, offset
    cdef fnn_dropout dropout
    cdef const fnn_dropout* layer_dropout
    cdef const floating* A_prev = X_rows
    for l in range(net.n_layers):
        n_in = net.sizes[l]
        n_out = net.sizes[l + 1]
        offset = layer_offset(net, l, first_row)
        # Z_l = A_{l-1} @ W_l
        if n_out == 1 and n_in <= 8:
            # Into a single unit from a narrow layer: one short dot product
            # per row, cheaper than BLAS's set-up (see backward_deltas). Wider
            # rows stay with BLAS, whose sums are vectorised (a dot product
            # in C order is not, without reassociation).
            row_dots(A_prev, rows, n_in, params + net.coef_offsets[l], Z + offset)
        else:
            gemm(False, False, <int> rows, <int> n_out, <int> n_in,
                 <floating> 1.0, A_prev, <int> n_in, params + net.coef_offsets[l], <int> n_out,
                 <floating> 0.0, Z + offset, <int> n_out)
        # Z_l += b_l; A_l = g_l(Z_l); A_l *= D_l / p (training only)
        layer_dropout = NULL
        if masks != NULL and dropped(net, l):
            dropout.keep_prob = net.keep_probs[l + 1]
            dropout.key = fnn_dropout_key(dropout_seed, step, <int> (l + 1))
            dropout.first_row = first_row
            dropout.mask = masks + offset
            layer_dropout = &dropout
        bias_activation(Z + offset, A + offset, params + net.intercept_offsets[l], rows, n_out,
                        net.activations[l], net.leaky_slope, layer_dropout)
        A_prev = A + offset


cdef double loss_sum(const Network* net, const floating* Y_rows, const floating* weights,
                     Py_ssize_t first_row, Py_ssize_t rows, const floating* Z,
                     const floating* A) noexcept nogil:
    """Summed loss of rows [first_row, first_row + rows) after `forward`, each
    row's times its sample weight (weights NULL: 1; both start at that row)."""
    cdef Py_ssize_t last = net.n_layers - 1
    cdef Py_ssize_t offset = layer_offset(net, last, first_row)
    return kernel_loss_sum(Z + offset, A + offset, Y_rows, weights, rows, net.sizes[last + 1],
                           net.loss)


cdef double l2_term(const Network* net, const floating* params) noexcept nogil:
    """l2/2 * sum_l ||W_l||^2: n times the L2 part of a batch's cost (SPEC 2)."""
    cdef double squares = 0.0
    cdef Py_ssize_t l
    if net.l2 == 0.0:
        return 0.0
    for l in range(net.n_layers):
        squares += sum_squares(params + net.coef_offsets[l], net.sizes[l] * net.sizes[l + 1])
    return 0.5 * net.l2 * squares


cdef void backward_deltas(const Network* net, const floating* params, const floating* Y_rows,
                          const floating* weights, Py_ssize_t first_row, Py_ssize_t rows,
                          const floating* Z, const floating* A, const uint8_t* masks,
                          floating* deltas) noexcept nogil:
    """delta_l = n dJ/dZ_l (SPEC 3) of every layer for the given rows, with
    the dropout masks of the forward pass (NULL: none). With sample weights
    (not NULL, starting at first_row) each row's output error is scaled by
    its weight, so every delta is. The input layer's delta is never needed
    and never computed."""
    cdef Py_ssize_t l, last = net.n_layers - 1
    cdef Py_ssize_t offset = layer_offset(net, last, first_row)
    cdef Py_ssize_t below
    # delta_L = A_L - Y, or (A_L - Y) * g'(Z_L) for the L2 loss
    output_delta(deltas + offset, Z + offset, A + offset, Y_rows, rows, net.sizes[last + 1],
                 net.loss, net.activations[last], net.leaky_slope)
    if weights != NULL:
        scale_rows(deltas + offset, rows, net.sizes[last + 1], weights)
    for l in range(last, 0, -1):
        offset = layer_offset(net, l, first_row)
        below = layer_offset(net, l - 1, first_row)
        # delta_{l-1} = (delta_l @ W_l.T) * D_{l-1}/p * g'(Z_{l-1})
        if net.sizes[l + 1] == 1:
            # Through a single unit (a binary or single-output head) the
            # product is an outer product; BLAS's set-up for an inner
            # dimension of 1 costs more than the product itself (0.6 of the
            # 6.5 us full-batch step of a 2-4-1 network on 400 rows). From 2
            # units on, measured, BLAS is as fast or faster than a plain loop.
            outer_product(deltas + offset, rows, params + net.coef_offsets[l], net.sizes[l],
                          deltas + below)
        else:
            gemm(False, True, <int> rows, <int> net.sizes[l], <int> net.sizes[l + 1],
                 <floating> 1.0, deltas + offset, <int> net.sizes[l + 1],
                 params + net.coef_offsets[l], <int> net.sizes[l + 1],
                 <floating> 0.0, deltas + below, <int> net.sizes[l])
        activation_backward(deltas + below, Z + below, A + below, rows, net.sizes[l],
                            net.activations[l - 1], net.leaky_slope,
                            masks + below if masks != NULL and dropped(net, l - 1) else NULL,
                            net.keep_probs[l])


cdef void update_layers(const Network* net, floating* params, floating* grads,
                        const floating* X_batch, Py_ssize_t rows, double weight_sum,
                        const floating* A,
                        const floating* deltas, double learning_rate,
                        const fnn_step* step, floating* moment1, floating* moment2,
                        int thread, int n_threads) noexcept nogil:
    """The gradient step of every layer, on this thread's share of W_l and b_l,
    from the whole batch's A and deltas. W_l is shared by its longer side
    (its rows, the layer's inputs, or its columns, its units), so each thread
    packs only its part of the longer operand for BLAS; b_l by its units.

    learning_rate > 0: the step is folded into the weight-gradient GEMM,
        W <- (1 - lr*l2/n) W - (lr/n) A^T delta, so no weight gradient is
        stored; `grads` holds only the bias gradients on the way.
    learning_rate == 0: write dJ/dW_l and dJ/db_l into `grads` (same layout
        as params) instead, with the L2 term riding on GEMM's beta.
    step != NULL (momentum, rmsprop, adam): the data part of the gradient
        goes to `grads`, then one fused pass per block adds the L2 term and
        applies the optimiser with its moments `moment1` and `moment2` (laid out
        like params); learning_rate is then unused.
    X_batch is the batch's input as layer 0 saw it (after input dropout).
    weight_sum is n, the batch's row count, or the sum of its sample weights.
    """
    cdef Py_ssize_t l, n_in, n_out, first, end, first_in, end_in, first_out, end_out, k, offset
    cdef double inv_rows = 1.0 / weight_sum
    cdef fnn_step block_step
    cdef const floating* A_prev
    cdef const floating* delta_l
    cdef floating* target
    for l in range(net.n_layers):
        n_in = net.sizes[l]
        n_out = net.sizes[l + 1]
        A_prev = X_batch if l == 0 else A + net.capacity * net.unit_offsets[l - 1]
        delta_l = deltas + net.capacity * net.unit_offsets[l]

        # b_l[first:end] -= lr * delta_l[:, first:end].sum(axis=0) / n
        first = n_out * thread // n_threads
        end = n_out * (thread + 1) // n_threads
        if end > first:
            offset = net.intercept_offsets[l] + first
            column_sums(delta_l + first, rows, end - first, n_out, inv_rows, grads + offset)
            if step != NULL:
                # biases are never regularised
                block_step = step[0]
                block_step.l2_scale = 0.0
                optimizer_step(params + offset, grads + offset, moment1 + offset if moment1 != NULL else NULL,
                               moment2 + offset if moment2 != NULL else NULL, end - first, &block_step)
            elif learning_rate > 0.0:
                axpy(end - first, -learning_rate, grads + offset, params + offset)

        # This thread's block of W_l: rows [first_in, end_in), columns [first_out, end_out).
        first_in, end_in, first_out, end_out = 0, n_in, 0, n_out
        if n_in >= n_out:
            first_in = n_in * thread // n_threads
            end_in = n_in * (thread + 1) // n_threads
        else:
            first_out, end_out = first, end
        if end_in == first_in or end_out == first_out:
            continue
        offset = net.coef_offsets[l] + first_in * n_out + first_out
        if step != NULL:
            # grads[block] = (A_{l-1}.T @ delta_l)[block] / n, then one pass:
            # g = grads + (l2/n) W; moments; W -= lr * (the optimiser's direction)
            gemm(True, False, <int> (end_in - first_in), <int> (end_out - first_out), <int> rows,
                 <floating> inv_rows, A_prev + first_in, <int> n_in, delta_l + first_out, <int> n_out,
                 <floating> 0.0, grads + offset, <int> n_out)
            block_step = step[0]
            block_step.l2_scale = net.l2 * inv_rows
            for k in range(first_in, end_in):
                offset = net.coef_offsets[l] + k * n_out + first_out
                optimizer_step(params + offset, grads + offset,
                               moment1 + offset if moment1 != NULL else NULL,
                               moment2 + offset if moment2 != NULL else NULL,
                               end_out - first_out, &block_step)
            continue
        target = params if learning_rate > 0.0 else grads
        target += offset
        if learning_rate > 0.0:
            # W_l[block] = (1 - lr*l2/n) * W_l[block] - (lr/n) * (A_{l-1}.T @ delta_l)[block]
            gemm(True, False, <int> (end_in - first_in), <int> (end_out - first_out), <int> rows,
                 <floating> (-learning_rate * inv_rows), A_prev + first_in, <int> n_in,
                 delta_l + first_out, <int> n_out,
                 <floating> (1.0 - learning_rate * net.l2 * inv_rows), target, <int> n_out)
        else:
            # dW_l[block] = (A_{l-1}.T @ delta_l)[block] / n + (l2/n) W_l[block]
            for k in range(first_in, end_in):
                memcpy(grads + net.coef_offsets[l] + k * n_out + first_out,
                       params + net.coef_offsets[l] + k * n_out + first_out,
                       (end_out - first_out) * sizeof(floating))
            gemm(True, False, <int> (end_in - first_in), <int> (end_out - first_out), <int> rows,
                 <floating> inv_rows, A_prev + first_in, <int> n_in, delta_l + first_out, <int> n_out,
                 <floating> (net.l2 * inv_rows), target, <int> n_out)
