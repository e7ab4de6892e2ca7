# cython: language_level=3
"""The compiled training loop and the Python entry points of the core.

`train`, `loss_gradient`, `cost` and `predict_output` run a `DenseStack` on
float32 or float64 data: X dense (C-contiguous rows) or a SciPy sparse
matrix (CSR read in place; other formats converted to CSR, never
densified), checked here before the GIL is released (`Data`). `train`
takes the seam's typed objects (fastnn._training: TrainingPlan, Optimizer,
TrainingState) and copies them into C structs of the same field names.
Every buffer is allocated here, once per call, before the GIL is released;
the epoch loop allocates nothing (but for doubling the recorded-cost buffer
when it fills) and takes the GIL back only at epoch boundaries (Ctrl-C,
callback).
"""
from cython cimport floating
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject
from cpython.mem cimport PyMem_RawMalloc, PyMem_RawRealloc, PyMem_RawFree
from libc.stdint cimport uint8_t, uint64_t
from libc.math cimport pow, isfinite, NAN
from libc.string cimport memcpy
from numpy.random cimport bitgen_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from fastnn._core.blas cimport use_onednn_here

import numpy as np
from scipy import sparse as scipy_sparse
cimport numpy as cnp

cnp.import_array()

from fastnn._core.network cimport Network
from fastnn._core.inputs cimport Input, ColumnScratch
from fastnn._core.stack cimport DenseStack
from fastnn._core.dense cimport (
    forward, loss_sum, l2_term, backward_deltas, weight_gradients, gradient_descent_step,
    optimizer_update,
)
from fastnn._core.kernels cimport (
    all_finite, fnn_step, FNN_GD, fnn_dropout, fnn_dropout_key, fnn_shuffle, gather_rows,
    dropout_apply, fnn_barrier, fnn_barrier_init, fnn_barrier_wait, fnn_run_team,
    FNN_MAX_THREADS, fnn_pacer, fnn_pacer_init, fnn_pacer_step_starts, fnn_pacer_forget_step,
    fnn_pacer_window,
)
from fastnn._core.tiny cimport (
    FNN_TINY_MAX_UNITS, fnn_tiny_network, fnn_tiny_scratch_values, tiny_network, tiny_step,
)
from fastnn._core.vocabulary import OPTIMIZER_CODES
from fastnn._training import TrainResult


cdef enum:
    # Largest number of rows predict_output pushes through the network at
    # once: bounds the activation buffers for large inputs.
    PREDICT_CHUNK = 4096
    # Rows on which the final weights of a run are judged (their cost must be
    # finite): the first rows of the data, a bounded forward pass.
    FINAL_CHECK_ROWS = 1024
    # Recorded costs the buffer holds at first; it doubles when full, so a
    # huge max_iter stopped early costs only what it recorded.
    FIRST_COST_CAPACITY = 1024
    # Values of W_0 whose gradient a thread builds at once when it steps
    # sparse X's W_0 without a gradient buffer (16 KiB of doubles: in L1).
    SCRATCH_CHUNK_VALUES = 2048


cdef class Data:
    """X as the compiled passes read it: an `Input` of all its rows - dense
    rows in place, or a SciPy sparse matrix as CSR whose structure has been
    checked (the kernels read it unchecked) - and the arrays behind it."""
    cdef Input X
    cdef readonly Py_ssize_t n_samples
    cdef readonly Py_ssize_t n_features
    cdef readonly bint is_sparse
    cdef object arrays

    cdef set_csr(self, X, dtype):
        if X.format != "csr":
            X = X.tocsr()   # CSC, COO, LIL, ...: a sparse copy, never a dense one
        n_samples, n_features = X.shape
        values, indices, indptr = np.asarray(X.data), np.asarray(X.indices), np.asarray(X.indptr)
        if values.dtype != dtype:
            raise ValueError(f"X holds {values.dtype} values and the parameters are "
                             f"{np.dtype(dtype).name}: convert one to the other's precision")
        if (values.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1
                or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu"):
            raise ValueError("X is not a valid CSR matrix: data, indices and indptr must be "
                             "1-D, the indices and indptr integers")
        # The kernels read int32 or int64 indices and indptr of one type;
        # anything else (SciPy makes none) is copied to int64.
        index_type = (indices.dtype if indices.dtype == indptr.dtype
                      and indices.dtype in (np.int32, np.int64) else np.dtype(np.int64))
        values = np.ascontiguousarray(values)
        indices = np.ascontiguousarray(indices, dtype=index_type)
        indptr = np.ascontiguousarray(indptr, dtype=index_type)
        if len(indptr) != n_samples + 1 or len(values) != len(indices):
            raise ValueError("X is not a valid CSR matrix: indptr must hold n_samples + 1 "
                             "entries and data as many values as indices")
        if not (indptr[0] >= 0 and indptr[n_samples] <= len(indices)
                and np.all(indptr[1:] >= indptr[:n_samples])):
            raise ValueError("X is not a valid CSR matrix: indptr must be non-decreasing and "
                             "within the stored nonzeros")
        used = indices[indptr[0]:indptr[n_samples]]
        if used.size and (used.min() < 0 or used.max() >= n_features):
            raise ValueError(f"X is not a valid CSR matrix: a column index is outside "
                             f"[0, {n_features})")
        self.arrays = (X, values, indices, indptr)
        self.n_samples, self.n_features, self.is_sparse = n_samples, n_features, True
        self.X.dense = NULL
        self.X.data = cnp.PyArray_DATA(<cnp.ndarray> values)
        self.X.indices = cnp.PyArray_DATA(<cnp.ndarray> indices)
        self.X.indptr = cnp.PyArray_DATA(<cnp.ndarray> indptr)
        self.X.wide_indices = index_type == np.int64
        self.X.order = NULL
        self.X.first = 0

    def max_batch_nonzeros(self, Py_ssize_t batch_rows):
        """The most nonzeros any batch of batch_rows rows can hold: those of
        the batch_rows fullest rows (any rows can form a batch)."""
        indptr = self.arrays[3]
        row_nonzeros = indptr[1:] - indptr[:self.n_samples]
        if batch_rows >= self.n_samples:
            return int(row_nonzeros.sum())
        return int(np.partition(row_nonzeros, self.n_samples - batch_rows)
                   [self.n_samples - batch_rows:].sum())


cdef Data as_input(X, const floating* precision):
    """The `Data` of X for parameters of this precision (`precision` only
    picks the fused type): a SciPy sparse matrix as checked CSR, anything
    else as dense C-contiguous rows of that precision (a typed memoryview:
    ValueError otherwise, as before sparse input existed)."""
    cdef Data data = Data()
    cdef const floating[:, ::1] rows
    if scipy_sparse.issparse(X):
        data.set_csr(X, np.float32 if floating is float else np.float64)
        return data
    rows = X
    data.arrays = rows
    data.n_samples, data.n_features, data.is_sparse = rows.shape[0], rows.shape[1], False
    # No row: nothing is ever read (every entry point stops before).
    data.X.dense = &rows[0, 0] if rows.shape[0] > 0 else NULL
    return data


cdef inline Input consecutive_rows(const Input* X, Py_ssize_t start,
                                   Py_ssize_t row_bytes) noexcept nogil:
    """Rows start, start + 1, ... of X as a batch, read in place (dense rows
    are row_bytes apart)."""
    cdef Input rows = X[0]
    if X.dense != NULL:
        rows.dense = <const char*> X.dense + start * row_bytes
    else:
        rows.order = NULL
        rows.first = start
    return rows


cdef inline Input ordered_rows(const Input* X, const Py_ssize_t* order,
                               const void* gathered) noexcept nogil:
    """Rows order[0], order[1], ... of X as a batch: dense X's the caller
    gathered into `gathered`, sparse X's read in place through the order."""
    cdef Input rows = X[0]
    if X.dense != NULL:
        rows.dense = gathered
    else:
        rows.order = order
        rows.first = 0
    return rows


cdef class TeamPacer:
    """Thread 0's timings of an automatic team's steps, together and alone,
    for TrainingPlan.pacer: one per fit, handed to each of its calls, so the
    choice carries over (a drop-in's fit calls train once per epoch)."""
    cdef fnn_pacer pacer

    def __cinit__(self):
        fnn_pacer_init(&self.pacer)

    @property
    def steps_alone(self):
        """Steps thread 0 has taken alone so far (probes included)."""
        return self.pacer.steps_alone


cdef struct Plan:
    # fastnn._training.TrainingPlan and the data's size, as the loop reads them
    Py_ssize_t n_samples
    Py_ssize_t batch_size     # at most n_samples
    Py_ssize_t epochs
    Py_ssize_t cost_every     # 0: no cost recorded
    bint shuffle              # batches gather their rows through the row order
    bint reshuffle            # the order is reshuffled before every epoch (else: given)
    double total_weight       # n, or the sum of the sample weights (the recorded
                              # cost's denominator; n with batch_mean_cost)
    double loss_scale         # on the data part of the recorded cost
    bint batch_mean_cost      # each batch's cost enters as its own (weighted) mean
                              # times its rows: scikit-learn's loss_
    bint judge_final_weights  # check_final's forward pass at the end of the call
    Py_ssize_t first_epoch    # TrainingState: epochs and steps already taken by
    Py_ssize_t first_step     # earlier calls (partial_fit, warm_start): count on from there


cdef struct OptimizerSettings:
    # fastnn._training.Optimizer
    int kind                  # FNN_GD: the step folded into the weight GEMM
    double learning_rate      # of epoch e: learning_rate / (1 + decay_rate * e)
    double decay_rate         # 0 under the constant schedule
    fnn_step step             # the other rules' constants (learning_rate set per epoch)


cdef struct Workspace:
    # Buffers of `capacity` rows, float or double as the data (void* because
    # a struct cannot be fused); allocated by `Buffers`.
    void* Z
    void* A
    void* deltas              # n dJ/dZ of every layer, laid out like Z
    void* grads
    void* moment1             # momentum's v, adam's m; NULL when unused
    void* moment2             # rmsprop's s, adam's v; NULL when unused
    void* snapshot            # the parameters at the last check that found them finite
    void* candidate           # the parameters a recorded epoch started from
    Py_ssize_t n_params
    void* X_batch             # gathered and/or input-dropped dense rows; NULL if never needed
    void* Y_batch             # gathered targets; NULL without shuffling
    const void* weights       # sample weight of every row of the data; NULL: all 1
    void* weights_batch       # gathered sample weights; NULL unless weighted and shuffled
    Py_ssize_t* order         # row order, reshuffled in place every epoch (or given)
    bitgen_t* shuffle_bits
    uint8_t* masks            # hidden-layer dropout masks, laid out like A; NULL: no dropout
    uint8_t* input_mask       # input-layer dropout mask; NULL: the data is never dropped
    ColumnScratch* column_scratch  # one per thread (dense.pyx optimizer_update); NULL: none
    void* tiny_scratch        # the fused step's tiles (tiny.pxd); NULL: the layered passes
    uint64_t dropout_seed     # drawn once per call from the dropout stream
                              # (fastnn.reference.dropout_key/dropout_mask: the same draws)


cdef class Buffers:
    """Owns the NumPy arrays behind a Workspace for one training call."""
    cdef Workspace ws
    cdef list arrays
    cdef readonly tuple moments
    cdef readonly object order

    def __cinit__(self, DenseStack stack, Py_ssize_t capacity, Py_ssize_t n_samples, dtype,
                  bint shuffle, shuffle_stream, dropout_stream, optimizer, state, weights,
                  given_order, Data data, int n_threads):
        self.arrays = []
        n_features, n_outputs = stack.n_features, stack.n_outputs
        input_dropout = stack.keep_probs[0] < 1
        self.ws.Z = self.floats(capacity * stack.total_units, dtype)
        self.ws.A = self.floats(capacity * stack.total_units, dtype)
        self.ws.deltas = self.floats(capacity * stack.total_units, dtype)
        self.ws.grads = self.floats(stack.n_params, dtype)
        self.ws.snapshot = self.floats(stack.n_params, dtype)
        self.ws.candidate = self.floats(stack.n_params, dtype)
        self.ws.n_params = stack.n_params
        # The optimiser's moments start at zero, or where an earlier call left them.
        moments = []
        for slot, used in enumerate(optimizer.moment_slots):
            start = state.moments[slot] if state.moments is not None else None
            if used and start is not None:
                array = np.array(start, dtype=dtype, copy=True)
                if array.shape != (stack.n_params,):
                    raise ValueError("the optimiser state does not match the network")
            else:
                array = np.zeros(stack.n_params if used else 0, dtype=dtype)
            moments.append(array if used else None)
            if slot == 0:
                self.ws.moment1 = self.pointer(array)
            else:
                self.ws.moment2 = self.pointer(array)
        self.moments = tuple(moments)
        # Sparse X is never gathered: its kernels read the rows through the order.
        gathers_x = (shuffle or input_dropout) and not data.is_sparse
        self.ws.X_batch = self.floats(capacity * n_features if gathers_x else 0, dtype)
        self.ws.Y_batch = self.floats(capacity * n_outputs if shuffle else 0, dtype)
        self.ws.weights = NULL if weights is None else self.pointer(weights)
        self.ws.weights_batch = self.floats(capacity if shuffle and weights is not None else 0, dtype)
        order = state.order if given_order is None else given_order
        if given_order is not None and len(given_order) != n_samples:
            raise ValueError("the given row order needs one index per row")
        if order is not None and len(order) == n_samples:
            # The loop reads rows at these indices unchecked: anything but a
            # permutation of the rows (e.g. from a damaged file) is refused.
            self.order = np.array(order, dtype=np.intp, copy=True)
            if not is_permutation(self.order):
                raise ValueError("the stored or given row order is not a permutation of the rows")
        else:
            self.order = np.arange(n_samples, dtype=np.intp)
        self.ws.order = <Py_ssize_t*> self.pointer(self.order)
        self.ws.shuffle_bits = bit_generator_pointer(shuffle_stream) if shuffle_stream is not None else NULL
        self.ws.masks = <uint8_t*> self.bytes(capacity * stack.total_units if stack.has_dropout else 0)
        self.ws.input_mask = <uint8_t*> self.bytes(capacity * n_features if input_dropout else 0)
        self.ws.dropout_seed = int(dropout_stream.random_raw()) if stack.has_dropout else 0
        self.ws.column_scratch = NULL
        if data.is_sparse and optimizer.kind != "gd":
            self.column_scratch(stack, data.max_batch_nonzeros(capacity), dtype, n_threads)
        self.ws.tiny_scratch = NULL
        cdef Network net
        cdef fnn_tiny_network tiny
        if takes_fused_step(stack, data.is_sparse, n_threads):
            net = stack.with_capacity(capacity)
            tiny = tiny_network(&net)
            self.ws.tiny_scratch = self.floats(fnn_tiny_scratch_values(&tiny), dtype)

    cdef column_scratch(self, DenseStack stack, Py_ssize_t entries, dtype, int n_threads):
        """Each thread's ColumnScratch, for stepping sparse X's W_0 without a
        gradient buffer: where a batch's nonzeros (`entries` at most) cost no
        more memory than the gradient they spare (else the gradient path)."""
        cdef Py_ssize_t n_out = stack.layer_sizes[1]
        if entries > stack.n_features * n_out:
            return
        cdef Py_ssize_t chunk_rows = max(1, SCRATCH_CHUNK_VALUES // n_out)
        cdef ColumnScratch* scratch = <ColumnScratch*> self.bytes(n_threads * sizeof(ColumnScratch))
        cdef int t
        for t in range(n_threads):
            scratch[t].starts = <Py_ssize_t*> self.pointer(np.zeros(stack.n_features + 1, np.intp))
            scratch[t].entry_rows = <Py_ssize_t*> self.pointer(np.zeros(max(entries, 1), np.intp))
            scratch[t].entry_values = self.floats(max(entries, 1), dtype)
            scratch[t].chunk = self.floats(chunk_rows * n_out, dtype)
            scratch[t].chunk_rows = chunk_rows
        self.ws.column_scratch = scratch

    cdef void* floats(self, Py_ssize_t count, dtype):
        return self.pointer(np.zeros(count, dtype=dtype))

    cdef void* bytes(self, Py_ssize_t count):
        return self.pointer(np.zeros(count, dtype=np.uint8))

    cdef void* pointer(self, array):
        """Keep `array` alive with the workspace; NULL for an empty one."""
        self.arrays.append(array)
        if array.size == 0:
            return NULL
        return cnp.PyArray_DATA(<cnp.ndarray> array)


def takes_fused_step(DenseStack stack, bint sparse_input, int n_threads):
    """Whether `train` runs each step of this fit as the fused pass of tiny
    networks (tiny.pxd, csrc/fastnn_tiny.h) instead of the layered passes:
    every layer, the input included, at most FNN_TINY_MAX_UNITS (16) wide,
    dense X, no dropout (its masks live in the layered passes' buffers: a
    fit with dropout keeps to them), and a single thread (a team shares each
    batch's layered passes; tiny networks never get one from fastnn._threads
    anyway). TrainResult.fused_step reports what a call took."""
    return (not sparse_input and not stack.has_dropout and n_threads == 1
            and max(stack.layer_sizes) <= FNN_TINY_MAX_UNITS)


def is_permutation(const Py_ssize_t[::1] order):
    """True if the 1-D intp array `order` holds every index 0..len-1 once
    (one pass: a given order is checked every epoch)."""
    cdef Py_ssize_t n = order.shape[0], i, k
    cdef bint ok = True
    seen_array = np.zeros(n, dtype=np.uint8)
    cdef uint8_t[::1] seen = seen_array
    with nogil:
        for i in range(n):
            k = order[i]
            if k < 0 or k >= n or seen[k]:
                ok = False
                break
            seen[k] = 1
    return ok


cdef bitgen_t* bit_generator_pointer(bit_generator) except NULL:
    return <bitgen_t*> PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")


# Longest run of epochs without a look at Python (Ctrl-C) when no cost is due.
cdef double SECONDS_BETWEEN_VISITS = 0.02


cdef inline double seconds_since(const timespec* then) noexcept nogil:
    cdef timespec now
    clock_gettime(CLOCK_MONOTONIC, &now)
    return (now.tv_sec - then.tv_sec) + 1e-9 * (now.tv_nsec - then.tv_nsec)


cdef struct Shared:
    # What the threads of one fit share. Thread t works on rows
    # [rows * t / n, rows * (t+1) / n) of every batch, then on its block of
    # every layer's parameters (dense.pyx, thread_block).
    const Network* net
    const Plan* plan
    const OptimizerSettings* optimizer
    Workspace* ws
    void* params
    const Input* X            # all rows of the data
    const void* Y
    double* costs             # PyMem_Raw buffer of costs_capacity entries, grown by thread 0
    Py_ssize_t costs_capacity
    bint out_of_memory        # growing the cost buffer failed: training stopped
    PyObject* callback
    PyObject* errors          # a list: an exception raised at an epoch end goes there
    Py_ssize_t n_iter
    Py_ssize_t epochs_run     # epochs stepped through, kept also when divergence rolls n_iter back
    int n_threads
    bint is_double
    bint stop
    bint every_epoch          # the callback wants every epoch (early stopping)
    bint diverged             # a check found non-finite weights or cost
    Py_ssize_t finite_epochs  # epochs behind the last finite snapshot
    Py_ssize_t steps_run      # steps taken (a batch whose sample weights sum to 0 takes none)
    Py_ssize_t steps          # of those, the steps behind the weights kept (as n_iter)
    Py_ssize_t finite_steps   # of those, the steps behind the snapshot
    Py_ssize_t epoch_first_step  # steps taken before the current epoch
    double cost_parts[FNN_MAX_THREADS]
    fnn_barrier barrier
    # Pacing (TrainingPlan.pacer; NULL: none): thread 0 takes the steps
    # [solo_from, solo_until) alone; it sets them only where the team meets,
    # outside such a window.
    fnn_pacer* pacer
    Py_ssize_t solo_from
    Py_ssize_t solo_until


cdef inline void plan_alone(Shared* shared, fnn_pacer* pacer, Py_ssize_t next_step,
                            bint step_is_timed) noexcept nogil:
    """Thread 0, where the team meets: the pacer's next window alone, if any,
    from next_step on (the members read it after the next barrier)."""
    cdef long window = fnn_pacer_window(pacer, step_is_timed)
    if window > 0:
        shared.solo_from = next_step
        shared.solo_until = next_step + window


cdef int end_of_epoch(Shared* shared, Py_ssize_t epoch, double cost, bint record) noexcept with gil:
    """The loop's one visit to Python (thread 0 only): let Ctrl-C through,
    report the epoch (its cost if recorded, else None). Returns 1 to stop
    (asked by the callback, or an exception kept in shared.errors), 0 to go on."""
    try:
        PyErr_CheckSignals()
        if shared.callback != NULL and (record or shared.every_epoch):
            return 1 if (<object> shared.callback)(epoch, cost if record else None) else 0
    except BaseException as error:
        (<list> shared.errors).append(error)
        return 1
    return 0


cdef double train_rows(const Network* net, Workspace* ws, floating* params,
                       const Input* X_rows, const floating* Y_rows, const floating* W_rows,
                       Py_ssize_t first_row, Py_ssize_t rows, bint record,
                       Py_ssize_t step) noexcept nogil:
    """Forward (with dropout) and deltas of rows [first_row, first_row + rows)
    of the batch X_rows, whose first row Y_rows and W_rows (sample weights,
    or NULL) point at. Returns their summed (weighted) loss when the cost is
    recorded (taken without dropout), else 0."""
    cdef floating* Z = <floating*> ws.Z
    cdef floating* A = <floating*> ws.A
    cdef floating* X_batch = <floating*> ws.X_batch
    cdef Py_ssize_t n_features = net.sizes[0]
    cdef double cost = 0.0
    cdef fnn_dropout input_dropout
    cdef const Input* X_input = X_rows
    cdef Input dropped
    cdef const floating* Y_own = Y_rows + first_row * net.sizes[net.n_layers]
    cdef const floating* W_own = W_rows + first_row if W_rows != NULL else NULL
    if record and ws.masks != NULL:
        # The recorded cost is the network's, not one thinned copy's: an extra
        # forward pass without dropout, on recording epochs only.
        forward(net, params, X_input, first_row, rows, Z, A, <uint8_t*> NULL, 0, step)
        cost = loss_sum(net, Y_own, W_own, first_row, rows, Z, A)
    if ws.input_mask != NULL:
        # dense X only (train refuses input dropout on sparse X): the rows are
        # copied to X_batch unless gathered there, and dropped in place
        if X_rows.dense != X_batch:
            memcpy(X_batch + first_row * n_features,
                   <const floating*> X_rows.dense + first_row * n_features,
                   rows * n_features * sizeof(floating))
        input_dropout.keep_prob = net.keep_probs[0]
        input_dropout.key = fnn_dropout_key(ws.dropout_seed, step, 0)
        input_dropout.first_row = first_row
        input_dropout.mask = ws.input_mask + first_row * n_features
        dropout_apply(X_batch + first_row * n_features, rows, n_features, &input_dropout)
        dropped = X_rows[0]
        dropped.dense = X_batch
        X_input = &dropped
    forward(net, params, X_input, first_row, rows, Z, A, ws.masks, ws.dropout_seed, step)
    if record and ws.masks == NULL:
        cost = loss_sum(net, Y_own, W_own, first_row, rows, Z, A)
    backward_deltas(net, params, Y_own, W_own, first_row, rows, Z, A, ws.masks,
                    <floating*> ws.deltas)
    return cost


cdef void run_epochs(Shared* shared, int thread, floating* params) noexcept nogil:
    """Mini-batch gradient descent (SPEC 8), as thread `thread` of the team.

    The recorded cost of an epoch is the size-weighted mean of its batch costs,
    each taken (without dropout) just before that batch's step.
    """
    cdef const Network* net = shared.net
    cdef const Plan* plan = shared.plan
    cdef const OptimizerSettings* optimizer = shared.optimizer
    cdef Workspace* ws = shared.ws
    cdef const Input* X = shared.X
    cdef Input X_rows
    cdef const floating* X_dense = <const floating*> X.dense
    cdef const floating* Y = <const floating*> shared.Y
    cdef floating* X_batch = <floating*> ws.X_batch
    cdef floating* Y_batch = <floating*> ws.Y_batch
    cdef Py_ssize_t n = plan.n_samples
    cdef Py_ssize_t n_features = net.sizes[0]
    cdef Py_ssize_t n_outputs = net.sizes[net.n_layers]
    cdef int n_threads = shared.n_threads
    cdef Py_ssize_t epoch, global_epoch, start, rows, first_row, own_rows, n_recorded = 0
    cdef Py_ssize_t step = plan.first_step
    cdef bint record
    cdef double cost_part, cost_sum
    cdef const floating* Y_rows
    cdef const floating* W_rows
    cdef const floating* weights = <const floating*> ws.weights
    cdef floating* W_batch = <floating*> ws.weights_batch
    cdef double weight_sum, batch_scale
    cdef Py_ssize_t i
    cdef int t
    cdef timespec last_visit
    cdef double learning_rate
    cdef fnn_step step_constants = optimizer.step
    # Pacing: steps inside a window alone run on thread 0 with team = 1,
    # which the others skip; every other step is shared by the n_threads.
    cdef bint paced = shared.pacer != NULL and n_threads > 1
    cdef bint alone = False
    cdef int team = n_threads
    cdef fnn_pacer* pacer = shared.pacer
    clock_gettime(CLOCK_MONOTONIC, &last_visit)

    for epoch in range(plan.epochs):
        global_epoch = plan.first_epoch + epoch
        record = plan.cost_every > 0 and global_epoch % plan.cost_every == 0
        if thread == 0:
            shared.epoch_first_step = step
            if record:
                # The weights this epoch starts from: its recorded cost judges them.
                memcpy(ws.candidate, params, ws.n_params * sizeof(floating))
        if plan.reshuffle:
            if thread == 0:
                fnn_shuffle(ws.order, n, ws.shuffle_bits.next_uint64, ws.shuffle_bits.state)
            fnn_barrier_wait(&shared.barrier)
        learning_rate = optimizer.learning_rate / (1.0 + optimizer.decay_rate * global_epoch)
        step_constants.learning_rate = learning_rate
        cost_part = 0.0
        start = 0
        while start < n:
            rows = min(plan.batch_size, n - start)
            weight_sum = rows
            if weights != NULL:
                # every thread sums the whole batch, in row order: the same value
                weight_sum = 0.0
                for i in range(rows):
                    weight_sum += weights[ws.order[start + i] if plan.shuffle else start + i]
                if weight_sum == 0.0:
                    # Rows of weight 0 count as absent: a batch of only such
                    # rows is no batch, and takes no step (1/0 otherwise).
                    start += rows
                    continue
            alone = paced and shared.solo_from <= step < shared.solo_until
            if alone and thread != 0:
                # thread 0 takes this step alone; wait for it at the next team step
                start += rows
                step += 1
                continue
            team = 1 if alone else n_threads
            if paced and thread == 0:
                fnn_pacer_step_starts(pacer, rows, alone)
            first_row = rows * thread // team
            own_rows = rows * (thread + 1) // team - first_row
            if plan.shuffle:
                if X_dense != NULL:
                    gather_rows(X_dense, ws.order + start + first_row, own_rows, n_features,
                                X_batch + first_row * n_features)
                X_rows = ordered_rows(X, ws.order + start, X_batch)
                gather_rows(Y, ws.order + start + first_row, own_rows, n_outputs,
                            Y_batch + first_row * n_outputs)
                Y_rows = Y_batch
                W_rows = NULL
                if weights != NULL:
                    gather_rows(weights, ws.order + start + first_row, own_rows, 1,
                                W_batch + first_row)
                    W_rows = W_batch
            else:
                # Unshuffled batches are consecutive rows: read them in place.
                X_rows = consecutive_rows(X, start, n_features * sizeof(floating))
                Y_rows = Y + start * n_outputs
                W_rows = weights + start if weights != NULL else NULL
            # scikit-learn's loss_ counts each batch's mean cost once per row
            batch_scale = rows / weight_sum if plan.batch_mean_cost else 1.0
            if own_rows > 0 and ws.tiny_scratch == NULL:
                cost_part += batch_scale * plan.loss_scale * train_rows(
                    net, ws, params, &X_rows, Y_rows, W_rows, first_row, own_rows, record, step)
            if record and thread == 0:
                cost_part += batch_scale * l2_term(net, params)
            if not alone:
                fnn_barrier_wait(&shared.barrier)
            # X_batch: the input as layer 0 saw it (after input dropout)
            if ws.input_mask != NULL:
                X_rows.dense = X_batch
            if optimizer.kind != FNN_GD:
                # adam's bias corrections for step t = step + 1
                step_constants.bias_correction_1 = 1.0 - pow(step_constants.beta_1, step + 1)
                step_constants.bias_correction_2 = 1.0 - pow(step_constants.beta_2, step + 1)
            if ws.tiny_scratch != NULL:
                # one thread, dense rows: forward, deltas, gradient and update
                # of the whole batch in one pass (takes_fused_step)
                cost_part += batch_scale * plan.loss_scale * tiny_step(
                    net, params, ws.n_params, <floating*> ws.grads, <floating*> ws.tiny_scratch,
                    <const floating*> X_rows.dense, Y_rows, W_rows, rows, weight_sum, record,
                    optimizer.kind, learning_rate, &step_constants, <floating*> ws.moment1,
                    <floating*> ws.moment2)
            elif optimizer.kind == FNN_GD:
                gradient_descent_step(net, params, <floating*> ws.grads, &X_rows, rows,
                                      weight_sum, <floating*> ws.A, <floating*> ws.deltas,
                                      learning_rate, thread, team)
            else:
                optimizer_update(net, params, <floating*> ws.grads, &X_rows, rows, weight_sum,
                                 <floating*> ws.A, <floating*> ws.deltas, &step_constants,
                                 <floating*> ws.moment1, <floating*> ws.moment2, thread,
                                 team,
                                 ws.column_scratch + thread if ws.column_scratch != NULL else NULL)
            if not alone:
                if paced and thread == 0:
                    plan_alone(shared, pacer, step + 1, True)
                fnn_barrier_wait(&shared.barrier)
            start += rows
            step += 1
        shared.cost_parts[thread] = cost_part
        fnn_barrier_wait(&shared.barrier)
        if thread == 0:
            shared.n_iter = epoch + 1
            shared.epochs_run = epoch + 1
            shared.steps = shared.steps_run = step - plan.first_step
            cost_sum = 0.0
            for t in range(n_threads):
                cost_sum += shared.cost_parts[t]
            if paced:
                fnn_pacer_forget_step(pacer)
                if step >= shared.solo_until:
                    plan_alone(shared, pacer, step, False)
            if record:
                if n_recorded == shared.costs_capacity and not grow_costs(shared):
                    shared.stop = True
                else:
                    shared.costs[n_recorded] = cost_sum / plan.total_weight
                    check_divergence(shared, params, epoch, cost_sum)
            # Python is visited for a recorded cost, and otherwise often enough
            # for Ctrl-C to feel immediate: tiny epochs don't pay for the GIL.
            if not (shared.diverged or shared.stop) and (record or shared.every_epoch
                    or seconds_since(&last_visit) >= SECONDS_BETWEEN_VISITS):
                shared.stop = end_of_epoch(shared, global_epoch, cost_sum / plan.total_weight,
                                           record) != 0
                clock_gettime(CLOCK_MONOTONIC, &last_visit)
        if record:
            n_recorded += 1
        fnn_barrier_wait(&shared.barrier)
        if shared.stop or shared.diverged:
            return


cdef bint grow_costs(Shared* shared) noexcept nogil:
    """Double the recorded-cost buffer (thread 0); False if memory ran out."""
    cdef Py_ssize_t capacity = 2 * shared.costs_capacity
    cdef double* grown = <double*> PyMem_RawRealloc(shared.costs, capacity * sizeof(double))
    if grown == NULL:
        shared.out_of_memory = True
        return False
    shared.costs = grown
    shared.costs_capacity = capacity
    return True


cdef void check_divergence(Shared* shared, floating* params, Py_ssize_t epoch,
                           double cost_sum) noexcept nogil:
    """At every recorded cost (thread 0, at the barrier). That cost was taken
    batch by batch just before each step, its first batch on the weights the
    epoch started from (ws.candidate; for a full batch, on exactly those):
    the weights are judged by their own cost. If it and they are finite they
    become the snapshot that divergence falls back on. A non-finite cost, or
    weights no longer finite now: training has diverged."""
    cdef Workspace* ws = shared.ws
    cdef void* judged
    if isfinite(cost_sum) and all_finite(<floating*> ws.candidate, ws.n_params):
        judged = ws.candidate
        ws.candidate = ws.snapshot
        ws.snapshot = judged
        shared.finite_epochs = epoch
        shared.finite_steps = shared.epoch_first_step - shared.plan.first_step
        if all_finite(params, ws.n_params):
            return
    fall_back(shared, params)


cdef void fall_back(Shared* shared, floating* params) noexcept nogil:
    """Training has diverged: put the last weights judged finite back, and count
    only the epochs and steps behind them."""
    memcpy(params, shared.ws.snapshot, shared.ws.n_params * sizeof(floating))
    shared.diverged = True
    shared.n_iter = shared.finite_epochs
    shared.steps = shared.finite_steps


cdef void check_final(Shared* shared, floating* params) noexcept nogil:
    """However training stopped (epochs done, a callback, Ctrl-C, early
    stopping), the weights it leaves are judged by their own cost: finite
    weights whose loss (no dropout, unweighted) on the first FINAL_CHECK_ROWS
    rows is finite, or training has diverged."""
    cdef const Network* net = shared.net
    cdef Workspace* ws = shared.ws
    cdef Py_ssize_t n = shared.plan.n_samples
    cdef Py_ssize_t checked = min(n, FINAL_CHECK_ROWS)
    cdef Py_ssize_t start = 0, rows
    cdef double loss = 0.0
    cdef Input X_rows
    cdef const floating* Y = <const floating*> shared.Y
    if shared.diverged:
        return
    if all_finite(params, ws.n_params):
        while start < checked and isfinite(loss):
            rows = min(net.capacity, checked - start)
            X_rows = consecutive_rows(shared.X, start, net.sizes[0] * sizeof(floating))
            forward(net, params, &X_rows, 0, rows, <floating*> ws.Z,
                    <floating*> ws.A, <uint8_t*> NULL, 0, 0)
            loss += loss_sum(net, Y + start * net.sizes[net.n_layers], <floating*> NULL, 0, rows,
                             <floating*> ws.Z, <floating*> ws.A)
            start += rows
        if isfinite(loss):
            return
    fall_back(shared, params)


cdef void run_team(int n_threads, void (*member)(void* context, int thread) noexcept nogil,
                   void* context, int* team_size, fnn_barrier* barrier) noexcept nogil:
    """member(context, t) on a team of n_threads (t = 0 .. n_threads - 1),
    or on this thread alone when the system would not start more; team_size
    (the context's field, which the members read) says which, barrier is the
    team's."""
    team_size[0] = n_threads
    fnn_barrier_init(barrier, n_threads)
    if n_threads == 1 or fnn_run_team(n_threads, member, context) == 0:
        team_size[0] = 1
        fnn_barrier_init(barrier, 1)
        member(context, 0)


cdef void team_member(void* context, int thread) noexcept nogil:
    """Entry point of each thread of the team: one loop for both precisions.
    Its float32 products may go to oneDNN, on this thread alone."""
    cdef Shared* shared = <Shared*> context
    cdef int onednn_before = use_onednn_here(1)
    if shared.is_double:
        run_epochs(shared, thread, <double*> shared.params)
    else:
        run_epochs(shared, thread, <float*> shared.params)
    use_onednn_here(onednn_before)


def train(DenseStack stack, floating[::1] params, X, const floating[:, ::1] Y, plan, optimizer,
          state, sample_weight=None):
    """Train in place: `params` (flat, see DenseStack) is updated step by step,
    as `plan` (fastnn._training.TrainingPlan) says, with the update rule of
    `optimizer` (Optimizer), going on from `state` (TrainingState: epochs and
    steps already taken - the schedule, cost_every, adam's bias correction and
    the dropout keys count on from there - the optimiser's moments, the row
    order, the random streams; `state` itself is never changed).

    X: C-contiguous rows of the parameters' precision, or a SciPy sparse
    matrix or array of that precision (CSR is read in place, its nonzeros
    only; other formats are converted to CSR; no input dropout). Y: dense
    rows, as X's.

    The shuffle stream drives the per-epoch Fisher-Yates shuffle; one draw of
    the dropout stream seeds this call's dropout masks. n_threads > 1 shares
    every batch among that many threads (BLAS should then run single-threaded).
    sample_weight (one non-negative value per row, positive sum) weighs each
    example's loss and gradient: every 1/n becomes 1 / (sum of the weights).
    Returns a TrainResult, whose state goes on from the weights left. Ctrl-C
    is taken at the next epoch boundary and ends training normally
    (result.interrupted); any other exception raised at an epoch end
    propagates.
    """
    if params.shape[0] != stack.n_params:
        raise ValueError(f"params must hold {stack.n_params} values")
    cdef Data data = as_input(X, <floating*> NULL)
    cdef Py_ssize_t n = data.n_samples
    if Y.shape[0] != n or data.n_features != stack.n_features or Y.shape[1] != stack.n_outputs:
        raise ValueError("X and Y do not match the network's input and output widths")
    if data.is_sparse and stack.keep_probs[0] < 1:
        raise ValueError("input dropout (keep_probs[0] < 1) needs dense X: with sparse X, "
                         "drop hidden units only, or densify X first")
    cost_every = 0 if plan.cost_every is None else plan.cost_every
    if n < 1 or plan.epochs < 0 or plan.batch_size < 1 or cost_every < 0:
        raise ValueError("train needs n >= 1, epochs >= 0, batch_size >= 1 and cost_every >= 1 "
                         "or None")
    if not 1 <= plan.n_threads <= FNN_MAX_THREADS:
        raise ValueError(f"n_threads must be between 1 and {FNN_MAX_THREADS}")
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t capacity = min(plan.batch_size, n)
    cdef Plan c_plan
    c_plan.n_samples = n
    c_plan.batch_size = capacity
    c_plan.epochs = plan.epochs
    c_plan.cost_every = cost_every
    # Shuffling a single full batch would change nothing but summation order;
    # a given order is followed as given.
    given_order = plan.row_order
    c_plan.reshuffle = given_order is None and plan.shuffle and capacity < n
    c_plan.shuffle = c_plan.reshuffle or given_order is not None
    c_plan.loss_scale = plan.loss_scale
    shuffle_stream, dropout_stream = state.streams(shuffle=c_plan.reshuffle,
                                                   dropout=stack.has_dropout)
    c_plan.batch_mean_cost = plan.batch_mean_cost
    c_plan.judge_final_weights = plan.judge_final_weights
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        if sample_weight.shape != (n,) or not np.all(sample_weight >= 0) or sample_weight.sum() <= 0:
            raise ValueError("sample_weight needs one non-negative weight per row and a positive sum")
    c_plan.total_weight = (n if sample_weight is None or plan.batch_mean_cost
                           else float(sample_weight.sum(dtype=np.float64)))
    c_plan.first_epoch = state.epochs
    c_plan.first_step = state.steps
    cdef OptimizerSettings settings
    settings.kind = OPTIMIZER_CODES[optimizer.kind]
    settings.learning_rate = optimizer.learning_rate
    settings.decay_rate = optimizer.effective_decay_rate
    settings.step.kind = settings.kind
    settings.step.learning_rate = optimizer.learning_rate
    settings.step.l2_scale = 0.0
    settings.step.momentum = optimizer.momentum
    settings.step.beta_1 = optimizer.beta_1
    settings.step.beta_2 = optimizer.beta_2
    settings.step.epsilon = optimizer.epsilon
    settings.step.bias_correction_1 = 1.0
    settings.step.bias_correction_2 = 1.0
    cdef Network net = stack.with_capacity(capacity)
    cdef Buffers buffers = Buffers(stack, capacity, n, dtype, c_plan.shuffle,
                                   shuffle_stream if c_plan.reshuffle else None,
                                   dropout_stream, optimizer, state, sample_weight, given_order,
                                   data, plan.n_threads)
    errors = []
    cdef Shared shared
    shared.costs_capacity = max(1, min(recorded_epochs(c_plan.first_epoch, c_plan.epochs, cost_every),
                                       FIRST_COST_CAPACITY))
    shared.costs = <double*> PyMem_RawMalloc(shared.costs_capacity * sizeof(double))
    if shared.costs == NULL:
        raise MemoryError("no memory for the recorded costs")
    shared.out_of_memory = False
    shared.net = &net
    shared.plan = &c_plan
    shared.optimizer = &settings
    shared.ws = &buffers.ws
    shared.params = &params[0]
    shared.X = &data.X
    shared.Y = &Y[0, 0]
    shared.callback = NULL if plan.callback is None else <PyObject*> plan.callback
    shared.errors = <PyObject*> errors
    shared.n_iter = 0
    shared.epochs_run = 0
    shared.is_double = floating is double
    shared.stop = False
    shared.every_epoch = plan.callback_every_epoch
    shared.diverged = False
    shared.finite_epochs = 0
    shared.steps = shared.steps_run = 0
    shared.finite_steps = 0
    shared.epoch_first_step = c_plan.first_step
    shared.solo_from = shared.solo_until = 0
    cdef TeamPacer pacer = plan.pacer
    shared.pacer = &pacer.pacer if pacer is not None else NULL
    cdef int n_threads = plan.n_threads
    # the starting weights are the first snapshot
    memcpy(buffers.ws.snapshot, &params[0], stack.n_params * sizeof(floating))

    try:
        if c_plan.epochs > 0:
            with nogil:
                run_team(n_threads, team_member, &shared, &shared.n_threads, &shared.barrier)
                if c_plan.judge_final_weights:
                    check_final(&shared, &params[0])
        if shared.out_of_memory:
            raise MemoryError(f"no memory to record more than {shared.costs_capacity} costs; "
                              "record fewer (a larger cost_every, or None)")
        n_iter = shared.n_iter
        n_recorded = recorded_epochs(c_plan.first_epoch, n_iter, cost_every)
        costs_array = np.array(<double[:max(n_recorded, 1)]> shared.costs)[:n_recorded]
    finally:
        PyMem_RawFree(shared.costs)
    interrupted = bool(errors) and isinstance(errors[0], KeyboardInterrupt)
    if errors and not interrupted:
        raise errors[0]
    diverged = bool(shared.diverged)
    return TrainResult(
        n_iter=n_iter, steps=shared.steps, epochs_run=shared.epochs_run,
        steps_run=shared.steps_run, costs=costs_array, interrupted=interrupted,
        diverged=diverged, fused_step=buffers.ws.tiny_scratch != NULL,
        state=state.advanced(
            epochs=state.epochs + n_iter, steps=state.steps + shared.steps,
            # The moments that led to divergence are no start for a later call.
            moments=None if diverged else buffers.moments,
            order=buffers.order if given_order is None else state.order,
            shuffle_stream=shuffle_stream, dropout_stream=dropout_stream))


def recorded_epochs(Py_ssize_t first_epoch, Py_ssize_t epochs, Py_ssize_t cost_every):
    """How many of epochs first_epoch .. first_epoch + epochs - 1 record a cost."""
    if cost_every <= 0 or epochs <= 0:
        return 0
    return ((first_epoch + epochs - 1) // cost_every) - ((first_epoch - 1) // cost_every if first_epoch > 0 else -1)


cdef struct FullBatch:
    # One loss_gradient call, shared by its team: thread t runs the passes on
    # rows [n t / T, n (t+1) / T), then, after the barrier, its block of the
    # gradient (dense.pyx, thread_block) from every row's A and deltas.
    const Network* net
    const void* params
    const Input* X
    const void* Y
    const void* weights       # NULL: every row weighs 1
    double weight_sum
    double loss_scale
    void* Z
    void* A
    void* deltas
    void* grads
    int n_threads
    bint is_double
    double cost_parts[FNN_MAX_THREADS]
    fnn_barrier barrier


cdef void full_batch_rows(FullBatch* job, int thread, const floating* params) noexcept nogil:
    cdef const Network* net = job.net
    cdef Py_ssize_t n = net.capacity
    cdef Py_ssize_t first_row = n * thread // job.n_threads
    cdef Py_ssize_t rows = n * (thread + 1) // job.n_threads - first_row
    cdef const floating* Y_own = <const floating*> job.Y + first_row * net.sizes[net.n_layers]
    cdef const floating* W_own = (<const floating*> job.weights + first_row
                                  if job.weights != NULL else NULL)
    cdef double cost = 0.0
    if rows > 0:
        forward(net, params, job.X, first_row, rows, <floating*> job.Z, <floating*> job.A,
                <uint8_t*> NULL, 0, 0)
        cost = job.loss_scale * loss_sum(net, Y_own, W_own, first_row, rows,
                                         <floating*> job.Z, <floating*> job.A)
        backward_deltas(net, params, Y_own, W_own, first_row, rows, <floating*> job.Z,
                        <floating*> job.A, <uint8_t*> NULL, <floating*> job.deltas)
    job.cost_parts[thread] = cost
    fnn_barrier_wait(&job.barrier)
    weight_gradients(net, params, <floating*> job.grads, job.X, n, job.weight_sum,
                     <floating*> job.A, <floating*> job.deltas, thread, job.n_threads)


cdef void full_batch_member(void* context, int thread) noexcept nogil:
    cdef FullBatch* job = <FullBatch*> context
    cdef int onednn_before = use_onednn_here(1)
    if job.is_double:
        full_batch_rows(job, thread, <const double*> job.params)
    else:
        full_batch_rows(job, thread, <const float*> job.params)
    use_onednn_here(onednn_before)


def loss_gradient(DenseStack stack, const floating[::1] params, X, const floating[:, ::1] Y,
                  sample_weight=None, double loss_scale=1.0, floating[::1] workspace=None,
                  int n_threads=1):
    """(cost, flat gradient) of the full data set at `params` (no dropout).
    X dense or SciPy sparse, as for `train`.

    With sample_weight (one non-negative weight per row, positive sum) each
    row's loss and output error count with its weight and 1/n becomes
    1 / (sum of the weights). loss_scale multiplies the data part of the
    cost only (scikit-learn's squared error averages over the outputs, its
    gradient does not). workspace: optionally, room for the passes
    (3 * n * total_units values of params' dtype), for callers that evaluate
    many times (L-BFGS): fresh megabytes each call cost their page faults.
    n_threads share the rows and then the gradient's blocks, as in `train`
    (BLAS should then run single-threaded); the result does not depend on it
    beyond the order of the cost's sum."""
    if params.shape[0] != stack.n_params:
        raise ValueError(f"params must hold {stack.n_params} values")
    if not 1 <= n_threads <= FNN_MAX_THREADS:
        raise ValueError(f"n_threads must be between 1 and {FNN_MAX_THREADS}")
    cdef Data data = as_input(X, <floating*> NULL)
    cdef Py_ssize_t n = data.n_samples
    if (n < 1 or Y.shape[0] != n or data.n_features != stack.n_features
            or Y.shape[1] != stack.n_outputs):
        raise ValueError("X and Y do not match the network's input and output widths")
    dtype = np.float32 if floating is float else np.float64
    cdef const floating* weights = NULL
    cdef double weight_sum = n
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        if sample_weight.shape != (n,) or not np.all(sample_weight >= 0) or sample_weight.sum() <= 0:
            raise ValueError("sample_weight needs one non-negative weight per row and a positive sum")
        weight_sum = float(sample_weight.sum(dtype=np.float64))
        weights = <const floating*> cnp.PyArray_DATA(<cnp.ndarray> sample_weight)
    cdef Network net = stack.with_capacity(n)
    grads_array = np.empty(stack.n_params, dtype=dtype)
    cdef floating[::1] grads = grads_array
    cdef Py_ssize_t size = n * stack.total_units
    if workspace is None:
        workspace = np.empty(3 * size, dtype=dtype)
    elif workspace.shape[0] != 3 * size:
        raise ValueError(f"workspace must hold 3 * n * total_units = {3 * size} values")
    cdef FullBatch job
    job.net = &net
    job.params = &params[0]
    job.X = &data.X
    job.Y = &Y[0, 0]
    job.weights = weights
    job.weight_sum = weight_sum
    job.loss_scale = loss_scale
    job.Z = &workspace[0]
    job.A = &workspace[size]
    job.deltas = &workspace[2 * size]
    job.grads = &grads[0]
    job.is_double = floating is double
    cdef double cost_sum = 0.0
    cdef int t
    with nogil:
        run_team(n_threads, full_batch_member, &job, &job.n_threads, &job.barrier)
        for t in range(job.n_threads):
            cost_sum += job.cost_parts[t]
        cost_sum += l2_term(&net, &params[0])
    return cost_sum / weight_sum, grads_array


def cost(DenseStack stack, const floating[::1] params, X, const floating[:, ::1] Y, bint with_l2=True):
    """J of (X, Y) at `params`, no dropout (SPEC 2), pushed through in chunks;
    with_l2=False gives the mean loss alone. X dense or SciPy sparse, as for
    `train`."""
    cdef Data data = as_input(X, <floating*> NULL)
    cdef Py_ssize_t n = data.n_samples
    if (n < 1 or Y.shape[0] != n or data.n_features != stack.n_features
            or Y.shape[1] != stack.n_outputs):
        raise ValueError("X and Y do not match the network's input and output widths")
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t capacity = min(n, PREDICT_CHUNK)
    cdef Network net = stack.with_capacity(capacity)
    cdef floating[::1] Z = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef floating[::1] A = np.empty(capacity * stack.total_units, dtype=dtype)
    cdef Py_ssize_t start = 0, rows
    cdef double total = 0.0
    cdef Input X_rows
    with nogil:
        while start < n:
            rows = min(capacity, n - start)
            X_rows = consecutive_rows(&data.X, start, stack.n_features * sizeof(floating))
            forward(&net, &params[0], &X_rows, 0, rows, &Z[0], &A[0], <uint8_t*> NULL, 0, 0)
            total += loss_sum(&net, &Y[start, 0], <floating*> NULL, 0, rows, &Z[0], &A[0])
            start += rows
        if with_l2:
            total += l2_term(&net, &params[0])
    return total / n


cdef bint row_has_nan(const Network* net, const floating* Z, Py_ssize_t row) noexcept nogil:
    """Whether any layer's Z of batch row `row` is NaN."""
    cdef Py_ssize_t l, j, units
    cdef const floating* Z_row
    for l in range(net.n_layers):
        units = net.sizes[l + 1]
        Z_row = Z + net.capacity * net.unit_offsets[l] + row * units
        for j in range(units):
            if Z_row[j] != Z_row[j]:
                return True
    return False


def predict_output(DenseStack stack, const floating[::1] params, X):
    """A_L for every row of X (no dropout), pushed through in chunks; NaN in
    the rows where any layer's Z came out NaN (overflow). X dense or SciPy
    sparse, as for `train`."""
    cdef Data data = as_input(X, <floating*> NULL)
    cdef Py_ssize_t n = data.n_samples
    if data.n_features != stack.n_features:
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
    cdef Py_ssize_t start, rows, i, j, l
    cdef Py_ssize_t output_offset = capacity * (stack.total_units - n_outputs)
    cdef bint invalid
    cdef Input X_rows
    with nogil:
        start = 0
        while start < n:
            rows = min(capacity, n - start)
            X_rows = consecutive_rows(&data.X, start, stack.n_features * sizeof(floating))
            forward(&net, &params[0], &X_rows, 0, rows, &Z[0], &A[0], <uint8_t*> NULL, 0, 0)
            # A row whose arithmetic overflowed into NaN anywhere has no
            # answer, even where an activation hid it (relu maps NaN to 0):
            # its output is NaN, for the caller to refuse. One vectorised
            # pass per layer finds whether any Z is not finite at all.
            invalid = False
            for l in range(net.n_layers):
                if not all_finite(&Z[capacity * net.unit_offsets[l]], rows * net.sizes[l + 1]):
                    invalid = True
            for i in range(rows):
                for j in range(n_outputs):
                    out[start + i, j] = A[output_offset + i * n_outputs + j]
                if invalid and row_has_nan(&net, &Z[0], i):
                    for j in range(n_outputs):
                        out[start + i, j] = NAN
            start += rows
    return out_array
