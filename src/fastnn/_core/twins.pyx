# cython: language_level=3
"""Python twins of csrc's element-wise kernels, for the tests.

One `def` per kernel of csrc/fastnn_kernels.h, named as the kernel's
dispatcher in kernels.pxd (`shuffle` and `dropout_key` for fnn_shuffle and
fnn_dropout_key). Each takes NumPy arrays (float32 or float64, one function
for both; all floating arrays of one call in the same precision), names
instead of codes (fastnn._core.vocabulary), checks every shape, index and
constant the kernel would trust (ValueError otherwise: no bad shape reaches
C), and then calls the kernel once, without the GIL. The twins compute
nothing themselves: where the kernel writes in place, the twin copies the
input first and returns the copy, so no argument is ever changed (except the
bit generator that `shuffle` draws from).

Arrays must be C-contiguous unless a twin says otherwise (`column_sums` and
`small_gemm_tn` take row-strided views, whose row stride becomes the
kernel's leading dimension). tests/test_kernel_twins.py checks each twin
against fastnn.reference or a NumPy expression, so a failing trajectory of
a whole fit can be traced to the kernel that is wrong.
"""
cimport cython
from cython cimport floating
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint8_t, uint64_t
from numpy.random cimport bitgen_t

import numpy as np

from fastnn._core cimport kernels as K
from fastnn._core.kernels cimport fnn_dropout, fnn_step, fnn_shuffle, fnn_dropout_key
from fastnn._core.vocabulary import (
    ACTIVATION_CODES, HIDDEN_ACTIVATIONS, LOSS_CODES, LOSS_OUTPUT_ACTIVATION,
    OPTIMIZER_CODES, OUTPUT_ACTIVATIONS,
)

cdef object UINT64_END = 2 ** 64
cdef object INT_END = 2 ** 31
#: Optimisers that run through fnn_optimizer_step (plain "gd" rides on the
#: weight-gradient GEMM instead).
STEP_OPTIMIZERS = ("momentum", "rmsprop", "adam", "heavy_ball", "nesterov", "adam_step_corrected")
#: The moments each keeps: (first, second), as fastnn._training.Optimizer.moment_slots.
MOMENT_SLOTS = {"momentum": (True, False), "rmsprop": (False, True), "adam": (True, True),
                "heavy_ball": (True, False), "nesterov": (True, False),
                "adam_step_corrected": (True, True)}


# The twins take the address of element [0] (or [0, 0]) of every view, also
# of an empty one: the buffer's own address then, where the kernel reads and
# writes nothing. Bounds checks are off in the twins for that (so debug builds,
# FASTNN_DEBUG=1, behave the same); every index the kernel uses is checked
# before the call.

cdef object dtype_of(floating kind):
    return np.float32 if floating is float else np.float64


def _code(what, name, accepted):
    if name not in accepted:
        raise ValueError(f"unknown {what} {name!r}; expected one of "
                         f"{', '.join(map(repr, accepted))}")
    return name


def _same_shape(names, *views):
    """ValueError unless the views (named in `names`) have one shape."""
    names = names.split()
    first = tuple(views[0].shape)
    for name, view in zip(names[1:], views[1:]):
        if tuple(view.shape) != first:
            raise ValueError(f"{name} has shape {tuple(view.shape)}, {names[0]} has {first}: "
                             f"they must match")


def _leading_dimension(name, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t row_stride,
                       Py_ssize_t column_stride, Py_ssize_t item):
    """The row stride of a 2-D view in elements (its leading dimension)."""
    if cols > 1 and rows > 0 and column_stride != item:
        raise ValueError(f"{name} must have unit stride along its rows")
    if rows <= 1:
        return cols
    if row_stride % item != 0 or row_stride // item < cols:
        raise ValueError(f"{name} needs a row stride of at least its width "
                         f"(rows laid out one after another)")
    return row_stride // item


def _check_dropout(keep_prob, key, first_row):
    """keep_prob in [2^-32, 1]: below, the kernel would drop every unit (its
    draws are 32-bit); no dropout at all is keep_prob=None, which passes no
    fnn_dropout."""
    if not 2.0 ** -32 <= keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in [2**-32, 1] for a dropout pass, got "
                         f"{keep_prob!r}")
    if not 0 <= key < UINT64_END:
        raise ValueError(f"key must be a 64-bit unsigned integer, got {key!r}")
    if first_row < 0:
        raise ValueError(f"first_row must be >= 0, got {first_row!r}")


@cython.boundscheck(False)
@cython.wraparound(False)
def bias_activation(const floating[:, ::1] Z, const floating[::1] b, str activation,
                    double leaky_slope=0.01, keep_prob=None, key=0, Py_ssize_t first_row=0):
    """fnn_bias_activation: Z += b (row broadcast), A = g(Z) (softmax row-wise),
    then, with keep_prob, inverted dropout of A drawn for (key, batch row
    first_row + i, unit j). Returns (Z + b, A, mask), mask None without dropout."""
    cdef Py_ssize_t rows = Z.shape[0], cols = Z.shape[1]
    cdef int code = ACTIVATION_CODES[_code("activation", activation, tuple(ACTIVATION_CODES))]
    if b.shape[0] != cols:
        raise ValueError(f"b has {b.shape[0]} entries for {cols} units")
    if cols < 1:
        raise ValueError("a layer needs at least one unit")
    Z_out = np.array(Z, dtype=dtype_of(<floating> 0), order="C", copy=True)
    A_out = np.empty((rows, cols), dtype=dtype_of(<floating> 0))
    cdef floating[:, ::1] Zv = Z_out, Av = A_out
    cdef uint8_t[:, ::1] maskv
    cdef fnn_dropout dropout
    cdef const fnn_dropout* dropout_ptr = NULL
    mask = None
    if keep_prob is not None:
        _check_dropout(keep_prob, key, first_row)
        mask = np.empty((rows, cols), dtype=np.uint8)
        maskv = mask
        dropout.keep_prob = keep_prob
        dropout.key = key
        dropout.first_row = first_row
        dropout.mask = &maskv[0, 0]
        dropout_ptr = &dropout
    with nogil:
        K.bias_activation(&Zv[0, 0], &Av[0, 0], &b[0], rows, cols, code, leaky_slope, dropout_ptr)
    return Z_out, A_out, mask


@cython.boundscheck(False)
@cython.wraparound(False)
def dropout_apply(const floating[:, ::1] A, double keep_prob, key, Py_ssize_t first_row=0):
    """fnn_dropout_apply: inverted dropout alone (the input layer): unit j of
    batch row first_row + i kept (and divided by keep_prob) when its hash
    under `key` is below keep_prob * 2^32. Returns (dropped-out A, mask)."""
    cdef Py_ssize_t rows = A.shape[0], cols = A.shape[1]
    _check_dropout(keep_prob, key, first_row)
    A_out = np.array(A, dtype=dtype_of(<floating> 0), order="C", copy=True)
    mask = np.empty((rows, cols), dtype=np.uint8)
    cdef floating[:, ::1] Av = A_out
    cdef uint8_t[:, ::1] maskv = mask
    cdef fnn_dropout dropout
    dropout.keep_prob = keep_prob
    dropout.key = key
    dropout.first_row = first_row
    dropout.mask = &maskv[0, 0]
    with nogil:
        K.dropout_apply(&Av[0, 0], rows, cols, &dropout)
    return A_out, mask


@cython.boundscheck(False)
@cython.wraparound(False)
def activation_backward(const floating[:, ::1] delta, const floating[:, ::1] Z,
                        const floating[:, ::1] A, str activation, double leaky_slope=0.01,
                        const uint8_t[:, ::1] mask=None, double keep_prob=1.0):
    """fnn_activation_backward: delta * g'(Z) for an element-wise activation;
    with a dropout mask (nonzero: kept) also * mask / keep_prob, A being the
    forward pass's output after dropout. Returns the new delta."""
    cdef Py_ssize_t rows = delta.shape[0], cols = delta.shape[1]
    cdef int code = ACTIVATION_CODES[_code("hidden activation", activation, HIDDEN_ACTIVATIONS)]
    _same_shape("delta Z A", delta, Z, A)
    cdef const uint8_t* mask_ptr = NULL
    if mask is not None:
        _same_shape("delta mask", delta, mask)
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob!r}")
        mask_ptr = &mask[0, 0]
    out = np.array(delta, dtype=dtype_of(<floating> 0), order="C", copy=True)
    cdef floating[:, ::1] outv = out
    with nogil:
        K.activation_backward(&outv[0, 0], &Z[0, 0], &A[0, 0], rows, cols, code, leaky_slope,
                              mask_ptr, keep_prob)
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def output_delta(const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                 str loss, str activation, double leaky_slope=0.01):
    """fnn_output_delta: n dJ/dZ_L of the output layer (SPEC 2): A - Y after
    sigmoid/log-loss and softmax/cross-entropy, (A - Y) * g'(Z) (softmax: its
    Jacobian-vector product) for the squared loss."""
    cdef Py_ssize_t rows = Z.shape[0], cols = Z.shape[1]
    cdef int loss_code = LOSS_CODES[_code("loss", loss, tuple(LOSS_CODES))]
    cdef int code = ACTIVATION_CODES[_code("output activation", activation, OUTPUT_ACTIVATIONS)]
    needed = LOSS_OUTPUT_ACTIVATION[loss]
    if needed is not None and activation != needed:
        raise ValueError(f"loss {loss!r} needs output activation {needed!r}, got {activation!r}")
    _same_shape("Z A Y", Z, A, Y)
    out = np.empty((rows, cols), dtype=dtype_of(<floating> 0))
    cdef floating[:, ::1] outv = out
    with nogil:
        K.output_delta(&outv[0, 0], &Z[0, 0], &A[0, 0], &Y[0, 0], rows, cols, loss_code, code,
                       leaky_slope)
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def loss_sum(const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
             str loss, const floating[::1] weights=None):
    """fnn_loss_sum: sum over the rows of the per-example loss (from the logits
    Z for log-loss and cross-entropy, from A for squared), each times
    weights[i] (None: 1), accumulated in double."""
    cdef Py_ssize_t rows = Z.shape[0], cols = Z.shape[1]
    cdef int loss_code = LOSS_CODES[_code("loss", loss, tuple(LOSS_CODES))]
    _same_shape("Z A Y", Z, A, Y)
    if cols < 1:
        raise ValueError("an output layer needs at least one unit")
    cdef const floating* weights_ptr = NULL
    if weights is not None:
        if weights.shape[0] != rows:
            raise ValueError(f"weights has {weights.shape[0]} entries for {rows} rows")
        weights_ptr = &weights[0]
    cdef double total
    with nogil:
        total = K.loss_sum(&Z[0, 0], &A[0, 0], &Y[0, 0], weights_ptr, rows, cols, loss_code)
    return total


@cython.boundscheck(False)
@cython.wraparound(False)
def all_finite(const floating[::1] x):
    """fnn_all_finite: True if every entry of the vector x is finite (no inf,
    no NaN; the divergence check). Flatten arrays first."""
    cdef bint finite
    with nogil:
        finite = K.all_finite(&x[0], x.shape[0])
    return bool(finite)


@cython.boundscheck(False)
@cython.wraparound(False)
def scale_rows(const floating[:, ::1] M, const floating[::1] weights):
    """fnn_scale_rows: M[i, :] * weights[i] (sample weights on the output
    error). Returns the scaled copy of M."""
    cdef Py_ssize_t rows = M.shape[0], cols = M.shape[1]
    if weights.shape[0] != rows:
        raise ValueError(f"weights has {weights.shape[0]} entries for {rows} rows")
    out = np.array(M, dtype=dtype_of(<floating> 0), order="C", copy=True)
    cdef floating[:, ::1] outv = out
    with nogil:
        K.scale_rows(&outv[0, 0], rows, cols, &weights[0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def row_dots(const floating[:, ::1] A, const floating[::1] w):
    """fnn_row_dots: z[i] = A[i, :] . w, the forward product into a one-unit
    layer (widths 1..8 unrolled, wider scalar). Returns z."""
    cdef Py_ssize_t rows = A.shape[0], n = A.shape[1]
    if w.shape[0] != n:
        raise ValueError(f"w has {w.shape[0]} entries for rows of {n}")
    z = np.empty(rows, dtype=dtype_of(<floating> 0))
    cdef floating[::1] zv = z
    with nogil:
        K.row_dots(&A[0, 0], rows, n, &w[0], &zv[0])
    return z


@cython.boundscheck(False)
@cython.wraparound(False)
def outer_product(const floating[::1] d, const floating[::1] w):
    """fnn_outer_product: out[i, c] = d[i] * w[c], the backward product
    through a one-unit layer (widths 1..8 unrolled). Returns out."""
    cdef Py_ssize_t rows = d.shape[0], n = w.shape[0]
    out = np.empty((rows, n), dtype=dtype_of(<floating> 0))
    cdef floating[:, ::1] outv = out
    with nogil:
        K.outer_product(&d[0], rows, &w[0], n, &outv[0, 0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def column_sums(const floating[:, :] M, double scale=1.0):
    """fnn_column_sums: out[j] = scale * sum_i M[i, j]. M may be a view with
    rows further apart than its width (the row stride is the kernel's ld)."""
    cdef Py_ssize_t rows = M.shape[0], cols = M.shape[1]
    cdef Py_ssize_t ld = _leading_dimension("M", rows, cols, M.strides[0], M.strides[1],
                                            sizeof(floating))
    out = np.empty(cols, dtype=dtype_of(<floating> 0))
    cdef floating[::1] outv = out
    with nogil:
        K.column_sums(&M[0, 0], rows, cols, ld, scale, &outv[0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def small_gemm_tn(double alpha, const floating[:, :] A, const floating[:, :] B,
                  double beta=0.0, const floating[:, ::1] C=None):
    """fnn_small_gemm_tn: alpha A^T B + beta C (A rows x m, B rows x n, C m x n;
    beta == 0 ignores C, which may then be None or hold anything). A and B may
    be row-strided views (their strides are lda, ldb). Returns the result."""
    cdef Py_ssize_t rows = A.shape[0], m = A.shape[1], n = B.shape[1]
    if B.shape[0] != rows:
        raise ValueError(f"A has {rows} rows, B has {B.shape[0]}: they must match")
    cdef Py_ssize_t item = sizeof(floating)
    cdef Py_ssize_t lda = _leading_dimension("A", rows, m, A.strides[0], A.strides[1], item)
    cdef Py_ssize_t ldb = _leading_dimension("B", rows, n, B.strides[0], B.strides[1], item)
    if C is None:
        if beta != 0.0:
            raise ValueError("beta != 0 needs C")
        out = np.empty((m, n), dtype=dtype_of(<floating> 0))
    else:
        if (C.shape[0], C.shape[1]) != (m, n):
            raise ValueError(f"C has shape {(C.shape[0], C.shape[1])}, A^T B has {(m, n)}")
        out = np.array(C, dtype=dtype_of(<floating> 0), order="C", copy=True)
    cdef floating[:, ::1] outv = out
    with nogil:
        K.small_gemm_tn(m, n, rows, alpha, &A[0, 0], lda, &B[0, 0], ldb, beta, &outv[0, 0], n)
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def sum_squares(const floating[::1] x):
    """fnn_sum_squares: sum of x[k]^2 accumulated in double (the L2 term)."""
    cdef double total
    with nogil:
        total = K.sum_squares(&x[0], x.shape[0])
    return total


@cython.boundscheck(False)
@cython.wraparound(False)
def axpy(double alpha, const floating[::1] x, const floating[::1] y):
    """fnn_axpy: y + alpha x (alpha rounded to the arrays' precision first).
    Returns the new y."""
    cdef Py_ssize_t count = x.shape[0]
    if y.shape[0] != count:
        raise ValueError(f"x has {count} entries, y has {y.shape[0]}: they must match")
    out = np.array(y, dtype=dtype_of(<floating> 0), copy=True)
    cdef floating[::1] outv = out
    with nogil:
        K.axpy(count, alpha, &x[0], &outv[0])
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
def gather_rows(const floating[:, ::1] src, const Py_ssize_t[::1] index):
    """fnn_gather_rows: dst[i, :] = src[index[i], :] (the mini-batch gather);
    index is np.intp, every entry a row of src."""
    cdef Py_ssize_t rows = index.shape[0], cols = src.shape[1]
    if rows > 0:
        index_array = np.asarray(index)
        if index_array.min() < 0 or index_array.max() >= src.shape[0]:
            raise ValueError(f"index must hold rows of src, in [0, {src.shape[0]})")
    dst = np.empty((rows, cols), dtype=dtype_of(<floating> 0))
    cdef floating[:, ::1] dstv = dst
    cdef const Py_ssize_t* index_ptr = &index[0]
    with nogil:
        K.gather_rows(&src[0, 0], index_ptr, rows, cols, &dstv[0, 0])
    return dst


@cython.boundscheck(False)
@cython.wraparound(False)
def optimizer_step(const floating[::1] param, const floating[::1] grad,
                   const floating[::1] first, const floating[::1] second, str kind,
                   double learning_rate, double l2_scale=0.0, double momentum=0.9,
                   double beta_1=0.9, double beta_2=0.999, double epsilon=1e-8,
                   double bias_correction_1=1.0, double bias_correction_2=1.0):
    """fnn_optimizer_step: one step of `kind` (any of STEP_OPTIMIZERS, SPEC
    10 and scikit-learn's heavy_ball, nesterov and adam_step_corrected) on
    g = grad + l2_scale * param, with the moments `first` (the velocity of
    momentum, heavy_ball and nesterov, the adams' m; None for rmsprop) and
    `second` (rmsprop's s, the adams' v; None for the velocity rules) as
    MOMENT_SLOTS says; the fields are fnn_step's. Returns (param, first,
    second), the updated copies (None where unused)."""
    if kind == "gd":
        raise ValueError("plain gradient descent does not run through fnn_optimizer_step "
                         "(its step rides on the weight-gradient GEMM)")
    cdef int code = OPTIMIZER_CODES[_code("optimizer", kind, STEP_OPTIMIZERS)]
    cdef Py_ssize_t count = param.shape[0]
    if grad.shape[0] != count:
        raise ValueError(f"grad has {grad.shape[0]} entries for {count} parameters")
    uses = MOMENT_SLOTS[kind]
    moments = []
    for name, moment, used in (("first", first, uses[0]), ("second", second, uses[1])):
        if not used:
            moments.append(None)
            continue
        if moment is None:
            raise ValueError(f"{kind} needs the moment {name!r}")
        if moment.shape[0] != count:
            raise ValueError(f"{name} has {moment.shape[0]} entries for {count} parameters")
        moments.append(np.array(moment, dtype=dtype_of(<floating> 0), copy=True))
    param_out = np.array(param, dtype=dtype_of(<floating> 0), copy=True)
    cdef floating[::1] paramv = param_out
    cdef floating[::1] firstv, secondv
    cdef floating* first_ptr = NULL
    cdef floating* second_ptr = NULL
    if moments[0] is not None:
        firstv = moments[0]
        first_ptr = &firstv[0]
    if moments[1] is not None:
        secondv = moments[1]
        second_ptr = &secondv[0]
    cdef fnn_step step
    step.kind = code
    step.learning_rate = learning_rate
    step.l2_scale = l2_scale
    step.momentum = momentum
    step.beta_1 = beta_1
    step.beta_2 = beta_2
    step.epsilon = epsilon
    step.bias_correction_1 = bias_correction_1
    step.bias_correction_2 = bias_correction_2
    with nogil:
        K.optimizer_step(&paramv[0], &grad[0], first_ptr, second_ptr, count, &step)
    return param_out, moments[0], moments[1]


@cython.boundscheck(False)
@cython.wraparound(False)
def shuffle(const Py_ssize_t[::1] order, bit_generator):
    """fnn_shuffle: Fisher-Yates shuffle (masked-rejection draws from
    bit_generator's next_uint64, as reference.shuffle_in_place). Returns the
    shuffled copy of order (np.intp); bit_generator advances."""
    cdef Py_ssize_t n = order.shape[0]
    out = np.array(order, dtype=np.intp, copy=True)
    cdef Py_ssize_t[::1] outv = out
    cdef Py_ssize_t* out_ptr = &outv[0]
    capsule = bit_generator.capsule
    cdef bitgen_t* bits = <bitgen_t*> PyCapsule_GetPointer(capsule, "BitGenerator")
    with bit_generator.lock:
        with nogil:
            fnn_shuffle(out_ptr, n, bits.next_uint64, bits.state)
    return out


def dropout_key(seed, step, layer):
    """fnn_dropout_key: the 64-bit dropout key of (step, layer) under the fit's
    seed (splitmix64's finaliser of seed + (step << 8) + layer + golden ratio,
    mod 2^64)."""
    if not 0 <= seed < UINT64_END:
        raise ValueError(f"seed must be a 64-bit unsigned integer, got {seed!r}")
    if not 0 <= step < UINT64_END:
        raise ValueError(f"step must be a 64-bit unsigned integer, got {step!r}")
    if not 0 <= layer < INT_END:
        raise ValueError(f"layer must be in [0, 2^31), got {layer!r}")
    cdef uint64_t c_seed = seed, c_step = step
    cdef int c_layer = layer
    return fnn_dropout_key(c_seed, c_step, c_layer)
