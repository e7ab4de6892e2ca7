# cython: language_level=3
"""The compiled training loop and the Python entry points of the core.

`DenseStack` describes a network; `train`, `loss_gradient` and
`predict_output` run it on float32 or float64 data. Every buffer is allocated
here, once per call, before the GIL is released; the epoch loop allocates
nothing and takes the GIL back only at epoch boundaries (Ctrl-C, callback).
"""
from cython cimport floating
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t

import numpy as np

from fastnn._core.network cimport Network
from fastnn._core.dense cimport forward, backward, batch_cost_sum
from fastnn._core.kernels cimport gather_rows, fnn_shuffle


cdef enum:
    # Largest number of rows predict_output pushes through the network at
    # once: bounds the activation buffers for large inputs.
    PREDICT_CHUNK = 4096

ACTIVATION_CODES = {
    "sigmoid": 0, "tanh": 1, "relu": 2, "leaky_relu": 3,
    "arctan": 4, "identity": 5, "softmax": 6,
}
LOSS_CODES = {"log_loss": 0, "cross_entropy": 1, "squared": 2}


cdef class DenseStack:
    """Layer sizes, activations, loss and L2 strength of a dense network, held
    as the C arrays the compiled passes read (see network.pxd).

    The parameter vector is flat: W_0 (row-major), b_0, W_1, b_1, ...
    """
    cdef Network net
    cdef readonly object layer_sizes
    cdef readonly Py_ssize_t n_features
    cdef readonly Py_ssize_t n_outputs
    cdef readonly Py_ssize_t n_params
    cdef readonly Py_ssize_t max_width
    cdef readonly Py_ssize_t total_units
    cdef object coef_offsets, intercept_offsets, unit_offsets, activation_codes

    def __cinit__(self, layer_sizes, activations, str loss, double leaky_slope=0.01,
                  double l2=0.0):
        sizes = np.ascontiguousarray(layer_sizes, dtype=np.intp)
        cdef Py_ssize_t n_layers = sizes.shape[0] - 1
        if n_layers < 1 or sizes.min() < 1:
            raise ValueError("a network needs at least one layer and every width >= 1")
        if len(activations) != n_layers:
            raise ValueError("one activation per layer is required")
        codes = np.array([ACTIVATION_CODES[name] for name in activations], dtype=np.intc)
        weights = sizes[:n_layers] * sizes[1:]
        ends = np.cumsum(weights + sizes[1:])
        self.intercept_offsets = np.ascontiguousarray(ends - sizes[1:], dtype=np.intp)
        self.coef_offsets = np.ascontiguousarray(self.intercept_offsets - weights, dtype=np.intp)
        self.unit_offsets = np.ascontiguousarray(np.cumsum(sizes[1:]) - sizes[1:], dtype=np.intp)
        self.activation_codes = codes
        self.layer_sizes = sizes
        self.n_features = sizes[0]
        self.n_outputs = sizes[n_layers]
        self.n_params = int(ends[n_layers - 1])
        self.max_width = int(sizes[1:].max())
        self.total_units = int(sizes[1:].sum())

        cdef Py_ssize_t[::1] sizes_view = sizes
        cdef Py_ssize_t[::1] coef_view = self.coef_offsets
        cdef Py_ssize_t[::1] intercept_view = self.intercept_offsets
        cdef Py_ssize_t[::1] unit_view = self.unit_offsets
        cdef int[::1] code_view = codes
        self.net.n_layers = n_layers
        self.net.sizes = &sizes_view[0]
        self.net.coef_offsets = &coef_view[0]
        self.net.intercept_offsets = &intercept_view[0]
        self.net.unit_offsets = &unit_view[0]
        self.net.activations = &code_view[0]
        self.net.loss = LOSS_CODES[loss]
        self.net.leaky_slope = leaky_slope
        self.net.l2 = l2
        self.net.capacity = 0

    def unpack(self, params):
        """Views (coefs, intercepts) into the flat parameter vector."""
        coefs, intercepts = [], []
        sizes = self.layer_sizes
        for l in range(self.net.n_layers):
            start = self.coef_offsets[l]
            coefs.append(params[start:start + sizes[l] * sizes[l + 1]].reshape(sizes[l], sizes[l + 1]))
            start = self.intercept_offsets[l]
            intercepts.append(params[start:start + sizes[l + 1]])
        return coefs, intercepts

    def pack(self, coefs, intercepts, dtype):
        """The flat parameter vector of (coefs, intercepts), a new array."""
        params = np.empty(self.n_params, dtype=dtype)
        coef_views, intercept_views = self.unpack(params)
        for view, value in zip(coef_views + intercept_views, list(coefs) + list(intercepts)):
            view[...] = value
        return params

    cdef Network with_capacity(self, Py_ssize_t capacity):
        """A copy of the network description for buffers of `capacity` rows
        (a copy, so concurrent calls on one stack never share state)."""
        cdef Network net = self.net
        net.capacity = capacity
        return net


cdef inline floating* data_or_null(floating[::1] buffer) noexcept:
    return &buffer[0] if buffer.shape[0] > 0 else NULL


cdef struct Schedule:
    Py_ssize_t n_samples
    Py_ssize_t batch_size
    Py_ssize_t max_iter
    Py_ssize_t cost_every
    bint shuffle
    double learning_rate


cdef bint end_of_epoch(PyObject* callback, Py_ssize_t epoch, double cost, bint record) except -1 with gil:
    """The loop's one visit to Python: let Ctrl-C through, report a recorded
    cost. True means the callback asked to stop."""
    PyErr_CheckSignals()
    if record and callback != NULL:
        return bool((<object> callback)(epoch, cost))
    return False


cdef int run_epochs(const Network* net, const Schedule* schedule,
                    floating* params, floating* grads,
                    const floating* X, const floating* Y,
                    floating* X_batch, floating* Y_batch, Py_ssize_t* order, bitgen_t* bitgen,
                    floating* Z, floating* A, floating* delta, floating* delta_spare,
                    double* costs, PyObject* callback, Py_ssize_t* n_iter) except -1 nogil:
    """Mini-batch gradient descent (SPEC 8) for schedule.max_iter epochs.

    The recorded cost of an epoch is the size-weighted mean of its batch costs,
    each taken on the forward pass that precedes that batch's step.
    """
    cdef Py_ssize_t n = schedule.n_samples
    cdef Py_ssize_t n_features = net.sizes[0]
    cdef Py_ssize_t n_outputs = net.sizes[net.n_layers]
    cdef Py_ssize_t epoch, start, rows, n_recorded = 0
    cdef bint record
    cdef double cost_sum
    cdef const floating* X_rows
    cdef const floating* Y_rows

    for epoch in range(schedule.max_iter):
        if schedule.shuffle:
            fnn_shuffle(order, n, bitgen.next_uint64, bitgen.state)
        record = epoch % schedule.cost_every == 0
        cost_sum = 0.0
        start = 0
        while start < n:
            rows = min(schedule.batch_size, n - start)
            if schedule.shuffle:
                gather_rows(X, order + start, rows, n_features, X_batch)
                gather_rows(Y, order + start, rows, n_outputs, Y_batch)
                X_rows = X_batch
                Y_rows = Y_batch
            else:
                # Unshuffled batches are consecutive rows: read them in place.
                X_rows = X + start * n_features
                Y_rows = Y + start * n_outputs
            forward(net, params, X_rows, rows, Z, A)
            if record:
                cost_sum += batch_cost_sum(net, params, Y_rows, rows, Z, A)
            backward(net, params, grads, X_rows, Y_rows, rows, Z, A,
                     delta, delta_spare, schedule.learning_rate)
            start += rows
        n_iter[0] = epoch + 1
        if record:
            costs[n_recorded] = cost_sum / n
            n_recorded += 1
        if end_of_epoch(callback, epoch, costs[n_recorded - 1] if record else 0.0, record):
            return 0
    return 0


def train(DenseStack stack, floating[::1] params, const floating[:, ::1] X,
          const floating[:, ::1] Y, double learning_rate, Py_ssize_t max_iter,
          Py_ssize_t batch_size, bint shuffle, bit_generator, Py_ssize_t cost_every,
          callback=None):
    """Train in place: `params` (flat, see DenseStack) is updated step by step.

    batch_size >= n is full-batch descent. `bit_generator` (a NumPy
    BitGenerator, used only when shuffling) drives the per-epoch Fisher-Yates
    shuffle. `callback(epoch, cost)` runs with the GIL at every recorded cost
    and stops training by returning True. Returns (n_iter, costs).
    """
    cdef Py_ssize_t n = X.shape[0]
    if Y.shape[0] != n or X.shape[1] != stack.n_features or Y.shape[1] != stack.n_outputs:
        raise ValueError("X and Y do not match the network's input and output widths")
    if params.shape[0] != stack.n_params:
        raise ValueError(f"params must hold {stack.n_params} values")
    if n < 1 or learning_rate <= 0 or max_iter < 0 or batch_size < 1 or cost_every < 1:
        raise ValueError("train needs n >= 1, learning_rate > 0, max_iter >= 0, "
                         "batch_size >= 1 and cost_every >= 1")
    cdef bitgen_t* bitgen = NULL
    if shuffle:
        bitgen = <bitgen_t*> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")

    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t capacity = min(batch_size, n)
    cdef Schedule schedule
    schedule.n_samples = n
    schedule.batch_size = capacity
    schedule.max_iter = max_iter
    schedule.cost_every = cost_every
    schedule.shuffle = shuffle
    schedule.learning_rate = learning_rate
    cdef Network net = stack.with_capacity(capacity)

    cdef floating[::1] grads = np.zeros(stack.n_params, dtype=dtype)
    cdef floating[::1] Z = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef floating[::1] A = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef floating[::1] delta = np.empty(capacity * stack.max_width, dtype=dtype)
    cdef floating[::1] delta_spare = np.empty(capacity * stack.max_width, dtype=dtype)
    cdef Py_ssize_t batch_rows = capacity if shuffle else 0
    cdef floating[::1] X_batch = np.empty(batch_rows * X.shape[1], dtype=dtype)
    cdef floating[::1] Y_batch = np.empty(batch_rows * Y.shape[1], dtype=dtype)
    cdef Py_ssize_t[::1] order = np.arange(n, dtype=np.intp)
    n_records = (max_iter + cost_every - 1) // cost_every
    costs_array = np.zeros(max(n_records, 1), dtype=np.float64)
    cdef double[::1] costs = costs_array
    cdef Py_ssize_t n_iter = 0
    cdef PyObject* callback_ptr = NULL if callback is None else <PyObject*> callback
    cdef floating* X_batch_ptr = data_or_null(X_batch)
    cdef floating* Y_batch_ptr = data_or_null(Y_batch)

    if max_iter > 0:
        with nogil:
            run_epochs(&net, &schedule, &params[0], &grads[0], &X[0, 0], &Y[0, 0],
                       X_batch_ptr, Y_batch_ptr, &order[0], bitgen,
                       &Z[0], &A[0], &delta[0], &delta_spare[0],
                       &costs[0], callback_ptr, &n_iter)
    n_recorded = (n_iter + cost_every - 1) // cost_every
    return n_iter, costs_array[:n_recorded].copy()


def loss_gradient(DenseStack stack, const floating[::1] params, const floating[:, ::1] X,
                  const floating[:, ::1] Y):
    """(cost, flat gradient) of the full data set at `params` (no dropout)."""
    cdef Py_ssize_t n = X.shape[0]
    if n < 1 or Y.shape[0] != n or X.shape[1] != stack.n_features or Y.shape[1] != stack.n_outputs:
        raise ValueError("X and Y do not match the network's input and output widths")
    if params.shape[0] != stack.n_params:
        raise ValueError(f"params must hold {stack.n_params} values")
    dtype = np.float32 if floating is float else np.float64
    cdef Network net = stack.with_capacity(n)
    grads_array = np.empty(stack.n_params, dtype=dtype)
    cdef floating[::1] grads = grads_array
    cdef floating[::1] Z = np.empty(n * stack.total_units, dtype=dtype)
    cdef floating[::1] A = np.empty(n * stack.total_units, dtype=dtype)
    cdef floating[::1] delta = np.empty(n * stack.max_width, dtype=dtype)
    cdef floating[::1] delta_spare = np.empty(n * stack.max_width, dtype=dtype)
    cdef double cost_sum
    with nogil:
        forward(&net, &params[0], &X[0, 0], n, &Z[0], &A[0])
        cost_sum = batch_cost_sum(&net, &params[0], &Y[0, 0], n, &Z[0], &A[0])
        # learning_rate 0: gradients only; params are not written.
        backward(&net, <floating*> &params[0], &grads[0], &X[0, 0], &Y[0, 0], n,
                 &Z[0], &A[0], &delta[0], &delta_spare[0], 0.0)
    return cost_sum / n, grads_array


def predict_output(DenseStack stack, const floating[::1] params, const floating[:, ::1] X):
    """A_L for every row of X (no dropout), pushed through in chunks."""
    cdef Py_ssize_t n = X.shape[0]
    if X.shape[1] != stack.n_features:
        raise ValueError("X does not match the network's input width")
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t n_outputs = stack.n_outputs
    out_array = np.empty((n, n_outputs), dtype=dtype)
    if n == 0:
        return out_array
    cdef floating[:, ::1] out = out_array
    cdef Py_ssize_t capacity = min(n, PREDICT_CHUNK)
    cdef Network net = stack.with_capacity(capacity)
    cdef floating[::1] Z = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef floating[::1] A = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef Py_ssize_t start, rows, i, j
    cdef Py_ssize_t output_offset = capacity * (stack.total_units - n_outputs)
    with nogil:
        start = 0
        while start < n:
            rows = min(capacity, n - start)
            forward(&net, &params[0], &X[start, 0], rows, &Z[0], &A[0])
            for i in range(rows):
                for j in range(n_outputs):
                    out[start + i, j] = A[output_offset + i * n_outputs + j]
            start += rows
    return out_array
