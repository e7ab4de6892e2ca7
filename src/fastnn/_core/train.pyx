# cython: language_level=3
"""The compiled training loop and the Python entry points of the core.

`train`, `loss_gradient` and `predict_output` run a `DenseStack` on float32
or float64 data. Every buffer is allocated here, once per call, before the
GIL is released; the epoch loop allocates nothing and takes the GIL back only
at epoch boundaries (Ctrl-C, callback).
"""
from cython cimport floating
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject
from libc.stdint cimport uint8_t
from libc.string cimport memcpy
from numpy.random cimport bitgen_t

import numpy as np

from fastnn._core.network cimport Network
from fastnn._core.stack cimport DenseStack
from fastnn._core.dense cimport forward, backward, batch_cost_sum
from fastnn._core.kernels cimport fnn_dropout, fnn_shuffle, gather_rows, dropout_apply


cdef enum:
    # Largest number of rows predict_output pushes through the network at
    # once: bounds the activation buffers for large inputs.
    PREDICT_CHUNK = 4096


cdef struct Schedule:
    Py_ssize_t n_samples
    Py_ssize_t batch_size
    Py_ssize_t max_iter
    Py_ssize_t cost_every
    bint shuffle
    double learning_rate


cdef struct Workspace:
    # Buffers of `capacity` rows, float or double as the data (void* because
    # a struct cannot be fused); allocated by `Buffers`.
    void* Z
    void* A
    void* delta
    void* delta_spare
    void* grads
    void* X_batch             # gathered and/or input-dropped rows; NULL if never needed
    void* Y_batch             # gathered targets; NULL without shuffling
    Py_ssize_t* order         # row order, reshuffled in place every epoch
    bitgen_t* shuffle_bits
    uint8_t* masks            # hidden-layer dropout masks, laid out like A; NULL: no dropout
    uint8_t* input_mask       # input-layer dropout mask; NULL: the data is never dropped
    fnn_dropout dropout_bits  # the dropout stream (next_uint64, state)
    uint8_t* mask_record      # masks of the first record_steps steps (tests replay them)
    Py_ssize_t record_steps
    Py_ssize_t record_stride  # bytes per recorded step


cdef class Buffers:
    """Owns the NumPy arrays behind a Workspace for one training call."""
    cdef Workspace ws
    cdef list arrays
    cdef object mask_record

    def __cinit__(self, DenseStack stack, Py_ssize_t capacity, Py_ssize_t n_samples, dtype,
                  bint shuffle, shuffle_bit_generator, dropout_bit_generator,
                  Py_ssize_t record_steps):
        self.arrays = []
        n_features, n_outputs = stack.n_features, stack.n_outputs
        input_dropout = stack.keep_probs[0] < 1
        self.ws.Z = self.floats(capacity * stack.total_units, dtype)
        self.ws.A = self.floats(capacity * stack.total_units, dtype)
        self.ws.delta = self.floats(capacity * stack.max_width, dtype)
        self.ws.delta_spare = self.floats(capacity * stack.max_width, dtype)
        self.ws.grads = self.floats(stack.n_params, dtype)
        self.ws.X_batch = self.floats(capacity * n_features if shuffle or input_dropout else 0, dtype)
        self.ws.Y_batch = self.floats(capacity * n_outputs if shuffle else 0, dtype)
        self.ws.order = <Py_ssize_t*> self.pointer(np.arange(n_samples, dtype=np.intp))
        self.ws.shuffle_bits = bit_generator_pointer(shuffle_bit_generator) if shuffle else NULL
        self.ws.masks = <uint8_t*> self.bytes(capacity * stack.total_units if stack.has_dropout else 0)
        self.ws.input_mask = <uint8_t*> self.bytes(capacity * n_features if input_dropout else 0)
        cdef bitgen_t* dropout_bits = NULL
        if stack.has_dropout:
            dropout_bits = bit_generator_pointer(dropout_bit_generator)
            self.ws.dropout_bits.next_uint64 = dropout_bits.next_uint64
            self.ws.dropout_bits.state = dropout_bits.state
        self.ws.record_stride = capacity * (n_features + stack.total_units) if stack.has_dropout else 0
        self.ws.record_steps = record_steps if stack.has_dropout else 0
        self.ws.mask_record = <uint8_t*> self.bytes(self.ws.record_steps * self.ws.record_stride)
        self.mask_record = self.arrays[len(self.arrays) - 1]

    cdef void* floats(self, Py_ssize_t count, dtype):
        return self.pointer(np.zeros(count, dtype=dtype))

    cdef void* bytes(self, Py_ssize_t count):
        return self.pointer(np.zeros(count, dtype=np.uint8))

    cdef void* pointer(self, array):
        """Keep `array` alive with the workspace; NULL for an empty one."""
        self.arrays.append(array)
        if array.size == 0:
            return NULL
        return <void*> <Py_ssize_t> array.ctypes.data

    def recorded_masks(self, DenseStack stack, Py_ssize_t capacity, Py_ssize_t n_samples,
                       Py_ssize_t steps_done):
        """The recorded masks as the reference takes them: per step, one entry
        per layer input (0 = the data), a (rows, units) 0/1 array or None."""
        if self.ws.record_steps == 0:
            return []
        record = self.mask_record.reshape(self.ws.record_steps, self.ws.record_stride)
        n_features = stack.n_features
        sizes = stack.layer_sizes
        batches_per_epoch = (n_samples + capacity - 1) // capacity
        last_rows = n_samples - capacity * (batches_per_epoch - 1)
        steps = []
        for step in range(min(self.ws.record_steps, steps_done)):
            rows = last_rows if step % batches_per_epoch == batches_per_epoch - 1 else capacity
            masks = [record[step, :rows * n_features].reshape(rows, n_features).copy()
                     if stack.keep_probs[0] < 1 else None]
            for l in range(1, len(sizes) - 1):
                if stack.keep_probs[l] < 1:
                    start = capacity * (n_features + stack.unit_offsets[l - 1])
                    masks.append(record[step, start:start + rows * sizes[l]].reshape(rows, sizes[l]).copy())
                else:
                    masks.append(None)
            steps.append(masks)
        return steps


cdef bitgen_t* bit_generator_pointer(bit_generator) except NULL:
    return <bitgen_t*> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


cdef bint end_of_epoch(PyObject* callback, Py_ssize_t epoch, double cost, bint record) except -1 with gil:
    """The loop's one visit to Python: let Ctrl-C through, report a recorded
    cost. True means the callback asked to stop."""
    PyErr_CheckSignals()
    if record and callback != NULL:
        return bool((<object> callback)(epoch, cost))
    return False


cdef void train_step(const Network* net, Workspace* ws, floating* params,
                     const floating* X_rows, const floating* Y_rows, Py_ssize_t rows,
                     double learning_rate, bint record, double* cost_sum,
                     Py_ssize_t step) noexcept nogil:
    """One mini-batch: forward (with dropout), cost if recorded, backward and
    the gradient-descent step."""
    cdef floating* Z = <floating*> ws.Z
    cdef floating* A = <floating*> ws.A
    cdef floating* X_batch = <floating*> ws.X_batch
    cdef Py_ssize_t n_features = net.sizes[0]
    cdef fnn_dropout input_dropout
    if record and ws.masks != NULL:
        # The recorded cost is the network's, not one thinned copy's: an extra
        # forward pass without dropout, on recording epochs only.
        forward(net, params, X_rows, rows, Z, A, <uint8_t*> NULL, <fnn_dropout*> NULL)
        cost_sum[0] += batch_cost_sum(net, params, Y_rows, rows, Z, A)
    if ws.input_mask != NULL:
        if X_rows != X_batch:
            memcpy(X_batch, X_rows, rows * n_features * sizeof(floating))
        input_dropout = ws.dropout_bits
        input_dropout.keep_prob = net.keep_probs[0]
        input_dropout.mask = ws.input_mask
        dropout_apply(X_batch, rows, n_features, &input_dropout)
        X_rows = X_batch
    forward(net, params, X_rows, rows, Z, A, ws.masks, &ws.dropout_bits)
    if record and ws.masks == NULL:
        cost_sum[0] += batch_cost_sum(net, params, Y_rows, rows, Z, A)
    if step < ws.record_steps:
        if ws.input_mask != NULL:
            memcpy(ws.mask_record + step * ws.record_stride, ws.input_mask, rows * n_features)
        memcpy(ws.mask_record + step * ws.record_stride + net.capacity * n_features, ws.masks,
               ws.record_stride - net.capacity * n_features)
    backward(net, params, <floating*> ws.grads, X_rows, Y_rows, rows, Z, A, ws.masks,
             <floating*> ws.delta, <floating*> ws.delta_spare, learning_rate)


cdef int run_epochs(const Network* net, const Schedule* schedule, Workspace* ws,
                    floating* params, const floating* X, const floating* Y,
                    double* costs, PyObject* callback, Py_ssize_t* n_iter) except -1 nogil:
    """Mini-batch gradient descent (SPEC 8) for schedule.max_iter epochs.

    The recorded cost of an epoch is the size-weighted mean of its batch costs,
    each taken (without dropout) just before that batch's step.
    """
    cdef Py_ssize_t n = schedule.n_samples
    cdef Py_ssize_t n_features = net.sizes[0]
    cdef Py_ssize_t n_outputs = net.sizes[net.n_layers]
    cdef Py_ssize_t epoch, start, rows, step = 0, n_recorded = 0
    cdef bint record
    cdef double cost_sum
    cdef const floating* X_rows
    cdef const floating* Y_rows

    for epoch in range(schedule.max_iter):
        if schedule.shuffle:
            fnn_shuffle(ws.order, n, ws.shuffle_bits.next_uint64, ws.shuffle_bits.state)
        record = epoch % schedule.cost_every == 0
        cost_sum = 0.0
        start = 0
        while start < n:
            rows = min(schedule.batch_size, n - start)
            if schedule.shuffle:
                gather_rows(X, ws.order + start, rows, n_features, <floating*> ws.X_batch)
                gather_rows(Y, ws.order + start, rows, n_outputs, <floating*> ws.Y_batch)
                X_rows = <floating*> ws.X_batch
                Y_rows = <floating*> ws.Y_batch
            else:
                # Unshuffled batches are consecutive rows: read them in place.
                X_rows = X + start * n_features
                Y_rows = Y + start * n_outputs
            train_step(net, ws, params, X_rows, Y_rows, rows, schedule.learning_rate,
                       record, &cost_sum, step)
            start += rows
            step += 1
        n_iter[0] = epoch + 1
        if record:
            costs[n_recorded] = cost_sum / n
            n_recorded += 1
        if end_of_epoch(callback, epoch, costs[n_recorded - 1] if record else 0.0, record):
            return 0
    return 0


def train(DenseStack stack, floating[::1] params, const floating[:, ::1] X,
          const floating[:, ::1] Y, double learning_rate, Py_ssize_t max_iter,
          Py_ssize_t batch_size, bint shuffle, Py_ssize_t cost_every,
          shuffle_bit_generator=None, dropout_bit_generator=None, callback=None,
          Py_ssize_t record_steps=0):
    """Train in place: `params` (flat, see DenseStack) is updated step by step.

    batch_size >= n is full-batch descent. The NumPy BitGenerators drive the
    per-epoch Fisher-Yates shuffle and the dropout masks. `callback(epoch,
    cost)` runs with the GIL at every recorded cost and stops training by
    returning True. record_steps > 0 keeps the dropout masks of the first
    steps. Returns (n_iter, costs, recorded_masks).
    """
    cdef Py_ssize_t n = X.shape[0]
    if Y.shape[0] != n or X.shape[1] != stack.n_features or Y.shape[1] != stack.n_outputs:
        raise ValueError("X and Y do not match the network's input and output widths")
    if params.shape[0] != stack.n_params:
        raise ValueError(f"params must hold {stack.n_params} values")
    if n < 1 or learning_rate <= 0 or max_iter < 0 or batch_size < 1 or cost_every < 1:
        raise ValueError("train needs n >= 1, learning_rate > 0, max_iter >= 0, "
                         "batch_size >= 1 and cost_every >= 1")
    if (shuffle and shuffle_bit_generator is None) or (stack.has_dropout and dropout_bit_generator is None):
        raise ValueError("shuffling and dropout need their bit generators")

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
    cdef Buffers buffers = Buffers(stack, capacity, n, dtype, shuffle, shuffle_bit_generator,
                                   dropout_bit_generator, record_steps)
    n_records = (max_iter + cost_every - 1) // cost_every
    costs_array = np.zeros(max(n_records, 1), dtype=np.float64)
    cdef double[::1] costs = costs_array
    cdef Py_ssize_t n_iter = 0
    cdef PyObject* callback_ptr = NULL if callback is None else <PyObject*> callback

    if max_iter > 0:
        with nogil:
            run_epochs(&net, &schedule, &buffers.ws, &params[0], &X[0, 0], &Y[0, 0],
                       &costs[0], callback_ptr, &n_iter)
    n_recorded = (n_iter + cost_every - 1) // cost_every
    masks = buffers.recorded_masks(stack, capacity, n, n_iter * ((n + capacity - 1) // capacity))
    return n_iter, costs_array[:n_recorded].copy(), masks


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
        forward(&net, &params[0], &X[0, 0], n, &Z[0], &A[0], <uint8_t*> NULL, <fnn_dropout*> NULL)
        cost_sum = batch_cost_sum(&net, &params[0], &Y[0, 0], n, &Z[0], &A[0])
        # learning_rate 0: gradients only; params are not written.
        backward(&net, <floating*> &params[0], &grads[0], &X[0, 0], &Y[0, 0], n,
                 &Z[0], &A[0], <uint8_t*> NULL, &delta[0], &delta_spare[0], 0.0)
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
            forward(&net, &params[0], &X[start, 0], rows, &Z[0], &A[0],
                    <uint8_t*> NULL, <fnn_dropout*> NULL)
            for i in range(rows):
                for j in range(n_outputs):
                    out[start + i, j] = A[output_offset + i * n_outputs + j]
            start += rows
    return out_array
