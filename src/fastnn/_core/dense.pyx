# cython: language_level=3
"""Forward and backward passes of a dense stack: a layer's matrix product
(products.pxd picks BLAS or a small C loop by shape), then one fused
element-wise pass from csrc/. Each pass sits next to its inverse so the two
can be read together. The NumPy equivalent of each product is in the comment
above it. The update of the parameters comes in three single-mode functions:
the gradients alone (weight_gradients, for train.loss_gradient), a plain
gradient-descent step folded into the weight GEMM (gradient_descent_step),
and a step of the other optimisers (optimizer_update).

Buffers Z, A, masks and deltas hold `capacity` rows per layer (layer l at
capacity * unit_offsets[l]); a thread working on rows [first_row,
first_row + rows) touches only those rows, until the update, which reads
the whole batch and writes only its own block of W and b (thread_block).

The batch's input X arrives as an `Input` (inputs.pxd): dense rows or a CSR
matrix read in place. Only layer 0's two products (input_forward_product,
input_weight_product) look at which; everything else is one path.
"""
from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

from fastnn._core.network cimport Network
from fastnn._core.inputs cimport (
    Input, ColumnScratch, input_forward_product, input_weight_product, input_optimizer_rows,
)
from fastnn._core.products cimport forward_product, backward_product, weight_product
from fastnn._core.kernels cimport (
    fnn_step, optimizer_step, fnn_dropout, fnn_dropout_key, bias_activation, activation_backward,
    output_delta, loss_sum as kernel_loss_sum, scale_rows, column_sums, sum_squares, axpy,
)


cdef inline Py_ssize_t layer_offset(const Network* net, Py_ssize_t l,
                                    Py_ssize_t first_row) noexcept nogil:
    """Where row `first_row` of layer l's Z, A, mask or delta starts."""
    return net.capacity * net.unit_offsets[l] + first_row * net.sizes[l + 1]


cdef inline bint dropped(const Network* net, Py_ssize_t l) noexcept nogil:
    """Does layer l's output (the input of layer l + 1) go through dropout?"""
    return l + 1 < net.n_layers and net.keep_probs[l + 1] < 1.0


cdef void forward(const Network* net, const floating* params, const Input* X,
                  Py_ssize_t first_row, Py_ssize_t rows, floating* Z, floating* A,
                  uint8_t* masks, uint64_t dropout_seed, Py_ssize_t step) noexcept nogil:
    """Z_l and A_l of every layer for batch rows [first_row, first_row + rows)
    of the batch X (already input-dropped if need be).

    masks == NULL: no dropout (prediction, cost reporting). Otherwise hidden
    layers with keep probability < 1 drop units in their bias+activation
    pass, drawn for (dropout_seed, step, layer), and keep the draw in masks.
    """
    cdef Py_ssize_t l, n_in, n_out, offset
    cdef fnn_dropout dropout
    cdef const fnn_dropout* layer_dropout
    cdef const floating* A_prev = NULL
    for l in range(net.n_layers):
        n_in = net.sizes[l]
        n_out = net.sizes[l + 1]
        offset = layer_offset(net, l, first_row)
        # Z_l = A_{l-1} @ W_l (Z_0 = X @ W_0, from X's nonzeros when it is sparse)
        if l == 0:
            input_forward_product(X, first_row, rows, n_in, params + net.coef_offsets[l], n_out,
                                  Z + offset)
        else:
            forward_product(A_prev, rows, n_in, params + net.coef_offsets[l], n_out, Z + offset)
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
    # delta_L = A_L - Y, or for the L2 loss (A_L - Y) * g'(Z_L) (through softmax:
    # its Jacobian-vector product)
    output_delta(deltas + offset, Z + offset, A + offset, Y_rows, rows, net.sizes[last + 1],
                 net.loss, net.activations[last], net.leaky_slope)
    if weights != NULL:
        scale_rows(deltas + offset, rows, net.sizes[last + 1], weights)
    for l in range(last, 0, -1):
        offset = layer_offset(net, l, first_row)
        below = layer_offset(net, l - 1, first_row)
        # delta_{l-1} = (delta_l @ W_l.T) * D_{l-1}/p * g'(Z_{l-1})
        backward_product(deltas + offset, rows, net.sizes[l + 1], params + net.coef_offsets[l],
                         net.sizes[l], deltas + below)
        activation_backward(deltas + below, Z + below, A + below, rows, net.sizes[l],
                            net.activations[l - 1], net.leaky_slope,
                            masks + below if masks != NULL and dropped(net, l - 1) else NULL,
                            net.keep_probs[l])


cdef struct Block:
    # A thread's share of layer l's parameters: units [first_unit, end_unit)
    # of b_l; rows [first_in, end_in) and columns [first_out, end_out) of W_l.
    Py_ssize_t first_unit, end_unit
    Py_ssize_t first_in, end_in, first_out, end_out


cdef inline Block thread_block(const Network* net, Py_ssize_t l, int thread,
                               int n_threads) noexcept nogil:
    """W_l is shared by its longer side (its rows, the layer's inputs, or its
    columns, its units), so each thread packs only its part of the longer
    operand for BLAS; b_l by its units."""
    cdef Py_ssize_t n_in = net.sizes[l], n_out = net.sizes[l + 1]
    cdef Block block
    block.first_unit = n_out * thread // n_threads
    block.end_unit = n_out * (thread + 1) // n_threads
    block.first_in, block.end_in, block.first_out, block.end_out = 0, n_in, 0, n_out
    if n_in >= n_out:
        block.first_in = n_in * thread // n_threads
        block.end_in = n_in * (thread + 1) // n_threads
    else:
        block.first_out, block.end_out = block.first_unit, block.end_unit
    return block


cdef inline void block_weight_product(const Network* net, Py_ssize_t l, const Block* block,
                                      Py_ssize_t rows, floating alpha, const Input* X,
                                      const floating* A, const floating* delta_l, floating beta,
                                      floating* W_block) noexcept nogil:
    """W_block = alpha (A_{l-1}.T @ delta_l)[block] + beta W_block, W_block
    pointing at the block's first entry in a matrix laid out like W_l;
    A_{-1} is the batch X (for sparse X, its nonzeros scattered into the
    block's rows), A_{l-1} of a hidden layer is in A."""
    if l == 0:
        input_weight_product(X, rows, net.sizes[0], block.first_in, block.end_in,
                             block.first_out, block.end_out, alpha, delta_l, net.sizes[1], beta,
                             W_block)
        return
    weight_product(<int> (block.end_in - block.first_in), <int> (block.end_out - block.first_out),
                   <int> rows, alpha, A + net.capacity * net.unit_offsets[l - 1] + block.first_in,
                   <int> net.sizes[l], delta_l + block.first_out, <int> net.sizes[l + 1], beta,
                   W_block, <int> net.sizes[l + 1])


cdef inline Py_ssize_t weight_block_offset(const Network* net, Py_ssize_t l,
                                           const Block* block) noexcept nogil:
    """Where the block's first entry of W_l sits in the parameter vector."""
    return net.coef_offsets[l] + block.first_in * net.sizes[l + 1] + block.first_out


cdef inline bint has_weights(const Block* block) noexcept nogil:
    return block.end_in > block.first_in and block.end_out > block.first_out


cdef inline Py_ssize_t bias_gradient(const Network* net, Py_ssize_t l, const Block* block,
                                     Py_ssize_t rows, double inv_rows, const floating* delta_l,
                                     floating* grads) noexcept nogil:
    """grads[block of b_l] = delta_l[:, block].sum(axis=0) / n; returns where
    the block starts in the parameter vector (-1: this thread has no units)."""
    if block.end_unit == block.first_unit:
        return -1
    cdef Py_ssize_t offset = net.intercept_offsets[l] + block.first_unit
    column_sums(delta_l + block.first_unit, rows, block.end_unit - block.first_unit,
                net.sizes[l + 1], inv_rows, grads + offset)
    return offset


cdef void weight_gradients(const Network* net, const floating* params, floating* grads,
                           const Input* X, Py_ssize_t rows, double weight_sum,
                           const floating* A, const floating* deltas, int thread,
                           int n_threads) noexcept nogil:
    """dJ/dW_l and dJ/db_l of every layer into `grads` (laid out like params),
    this thread's share, from the whole batch's A and deltas:
        dW_l = (A_{l-1}.T @ delta_l) / n + (l2 / n) W_l,  db_l = delta_l.sum(axis=0) / n,
    the L2 term riding on GEMM's beta. X is the batch's input; n is
    weight_sum (the batch's rows, or the sum of its sample weights)."""
    cdef Py_ssize_t l, k, row_start
    cdef double inv_rows = 1.0 / weight_sum
    cdef Block block
    cdef const floating* delta_l
    for l in range(net.n_layers):
        block = thread_block(net, l, thread, n_threads)
        delta_l = deltas + net.capacity * net.unit_offsets[l]
        bias_gradient(net, l, &block, rows, inv_rows, delta_l, grads)
        if not has_weights(&block):
            continue
        for k in range(block.first_in, block.end_in):
            row_start = net.coef_offsets[l] + k * net.sizes[l + 1] + block.first_out
            memcpy(grads + row_start, params + row_start,
                   (block.end_out - block.first_out) * sizeof(floating))
        block_weight_product(net, l, &block, rows, <floating> inv_rows,
                             X, A, delta_l,
                             <floating> (net.l2 * inv_rows),
                             grads + weight_block_offset(net, l, &block))


cdef void gradient_descent_step(const Network* net, floating* params, floating* grads,
                                const Input* X, Py_ssize_t rows, double weight_sum,
                                const floating* A, const floating* deltas,
                                double learning_rate, int thread,
                                int n_threads) noexcept nogil:
    """One plain gradient-descent step (SPEC 8) on this thread's share, the
    step folded into the weight-gradient GEMM so no weight gradient is stored:
        W_l <- (1 - lr l2 / n) W_l - (lr / n) A_{l-1}.T @ delta_l,
        b_l <- b_l - lr delta_l.sum(axis=0) / n   (via the bias gradient in `grads`)."""
    cdef Py_ssize_t l, offset
    cdef double inv_rows = 1.0 / weight_sum
    cdef Block block
    cdef const floating* delta_l
    for l in range(net.n_layers):
        block = thread_block(net, l, thread, n_threads)
        delta_l = deltas + net.capacity * net.unit_offsets[l]
        offset = bias_gradient(net, l, &block, rows, inv_rows, delta_l, grads)
        if offset >= 0:
            axpy(block.end_unit - block.first_unit, -learning_rate, grads + offset, params + offset)
        if not has_weights(&block):
            continue
        block_weight_product(net, l, &block, rows, <floating> (-learning_rate * inv_rows),
                             X, A, delta_l,
                             <floating> (1.0 - learning_rate * net.l2 * inv_rows),
                             params + weight_block_offset(net, l, &block))


cdef void optimizer_update(const Network* net, floating* params, floating* grads,
                           const Input* X, Py_ssize_t rows, double weight_sum,
                           const floating* A, const floating* deltas, const fnn_step* step,
                           floating* moment1, floating* moment2, int thread,
                           int n_threads, ColumnScratch* scratch) noexcept nogil:
    """One step of momentum, rmsprop or adam (`step`) on this thread's share:
    the data part of the gradient goes to `grads`, then one fused pass per
    block adds the L2 term (weights only; biases are never regularised) and
    applies the rule with its moments `moment1` and `moment2` (laid out like
    params, NULL where the rule keeps none).

    For sparse X with this thread's workspace `scratch` (NULL: none), a
    block of whole rows of W_0 skips `grads`: its gradient is built a few
    rows at a time from the batch's nonzeros and stepped at once (the same
    numbers, without writing and reading a gradient of W_0's size, which
    for a wide sparse input is most of the step's memory traffic)."""
    cdef Py_ssize_t l, k, offset, rows_in_block, row_length
    cdef double inv_rows = 1.0 / weight_sum
    cdef Block block
    cdef fnn_step block_step = step[0]
    cdef const floating* delta_l
    for l in range(net.n_layers):
        block = thread_block(net, l, thread, n_threads)
        delta_l = deltas + net.capacity * net.unit_offsets[l]
        offset = bias_gradient(net, l, &block, rows, inv_rows, delta_l, grads)
        if offset >= 0:
            block_step.l2_scale = 0.0
            optimizer_step(params + offset, grads + offset,
                           moment1 + offset if moment1 != NULL else NULL,
                           moment2 + offset if moment2 != NULL else NULL,
                           block.end_unit - block.first_unit, &block_step)
        if not has_weights(&block):
            continue
        block_step.l2_scale = net.l2 * inv_rows
        offset = weight_block_offset(net, l, &block)
        if (l == 0 and X.dense == NULL and scratch != NULL
                and block.end_out - block.first_out == net.sizes[1]):
            input_optimizer_rows(X, rows, block.first_in, block.end_in, inv_rows, delta_l,
                                 net.sizes[1], params + offset,
                                 moment1 + offset if moment1 != NULL else NULL,
                                 moment2 + offset if moment2 != NULL else NULL,
                                 &block_step, scratch)
            continue
        # grads[block] = (A_{l-1}.T @ delta_l)[block] / n, then per row of the
        # block: g = grads + (l2/n) W; moments; W -= lr * (the rule's direction)
        block_weight_product(net, l, &block, rows, <floating> inv_rows,
                             X, A, delta_l, <floating> 0.0, grads + offset)
        if block.end_out - block.first_out == net.sizes[l + 1]:
            # whole rows: the block is one contiguous run (W_0 of a wide input
            # split by its rows), stepped in one pass
            rows_in_block, row_length = 1, (block.end_in - block.first_in) * net.sizes[l + 1]
        else:
            rows_in_block, row_length = block.end_in - block.first_in, block.end_out - block.first_out
        for k in range(rows_in_block):
            offset = weight_block_offset(net, l, &block) + k * net.sizes[l + 1]
            optimizer_step(params + offset, grads + offset,
                           moment1 + offset if moment1 != NULL else NULL,
                           moment2 + offset if moment2 != NULL else NULL,
                           row_length, &block_step)
