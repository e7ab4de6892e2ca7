"""Each element-wise C kernel of csrc/, through its Python twin
(fastnn._core.twins), against fastnn.reference or, where the reference has no
function for it, the NumPy expression written here: a wrong kernel fails its
own test instead of a whole fit's trajectory.

Tolerances, with eps the machine epsilon of the dtype: exact where the
kernel and the oracle round the same operations (bias add, relu-like units,
dropout, gathers, scaling, outer products, A - Y, integer-valued sums);
the textbook bound of the summation otherwise (a sum of k terms is within
k eps of sum |terms|: column sums, dot products, small A^T B); a few eps for
the fast exp/tanh/sigmoid, the same bound tests/test_kernels.py holds them
to on its wide sample of edge values (which this file does not repeat).
"""
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fastnn import reference as ref
from fastnn._core import twins
from fastnn._core.vocabulary import ACTIVATION_CODES, HIDDEN_ACTIVATIONS

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
# Few examples per test: every call is microseconds, the file stays quick.
SETTINGS = settings(max_examples=40, deadline=None, database=None)
SLOPE = 0.05
MASK32 = 0xFFFFFFFF
MASK64 = 2**64 - 1


def eps(dtype):
    return float(np.finfo(dtype).eps)


def f64(x):
    return np.asarray(x, dtype=np.float64)


def random_matrix(rng, rows, cols, dtype, scale=None):
    """Normal values times a per-matrix scale (tiny to large), with some exact zeros."""
    scale = rng.choice([1e-3, 0.3, 3.0, 30.0]) if scale is None else scale
    M = rng.standard_normal((rows, cols)) * scale
    M[rng.random((rows, cols)) < 0.05] = 0.0
    return M.astype(dtype)


def ulp_error(actual, expected, dtype):
    """|actual - expected| in units of the last place of expected (in dtype),
    as tests/test_kernels.py measures it."""
    expected = f64(expected)
    spacing = np.spacing(np.abs(expected).astype(dtype)).astype(np.float64)
    spacing = np.maximum(spacing, np.finfo(dtype).smallest_normal)
    return np.abs(f64(actual) - expected) / spacing


# Layer widths: narrow (< 32 units: the tiled-bias path), ordinary, and wide
# (>= 2048: one row per block); row counts that span several blocks of about
# 2048 values.
@st.composite
def layer_shapes(draw):
    kind = draw(st.sampled_from(["narrow", "medium", "wide"]))
    if kind == "narrow":
        cols = draw(st.integers(1, 31))
        rows = draw(st.integers(0, 5000 // cols + 2))
    elif kind == "medium":
        cols = draw(st.integers(32, 300))
        rows = draw(st.integers(0, 40))
    else:
        cols = draw(st.integers(2048, 2100))
        rows = draw(st.integers(0, 3))
    return rows, cols


# ---------------------------------------------------------------------------
# Dropout draws: the lowbias32 hash of (key, batch row * cols + unit), written
# out here (csrc/fastnn_kernels.c and fastnn_kernels_impl.h's dropout_row).
# ---------------------------------------------------------------------------

def lowbias32(x):
    x = np.asarray(x, dtype=np.uint64) & MASK32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(MASK32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(MASK32)
    x ^= x >> np.uint64(16)
    return x


def dropout_mask(rows, cols, keep_prob, key, first_row):
    """1 where unit j of batch row first_row + i is kept: hash(key, counter)
    below keep_prob * 2^32, the counter (row * cols + j) taken mod 2^32."""
    row = (first_row + np.arange(rows, dtype=np.uint64))[:, None]
    unit = np.arange(cols, dtype=np.uint64)[None, :]
    counter = (row * np.uint64(cols) + unit) & np.uint64(MASK32)
    key_low, key_high = np.uint64(key & MASK32), np.uint64(key >> 32)
    u = lowbias32((lowbias32(counter ^ key_low) + key_high) & np.uint64(MASK32))
    return (u < np.uint64(int(keep_prob * 4294967296.0))).astype(np.uint8)


def dropped_out(A, mask, keep_prob):
    """A times 1/keep_prob (rounded to A's precision) where kept, times 0
    elsewhere (as in the kernel, an overflowed exp unit, inf, gives NaN where
    dropped, and a huge one inf where kept; exp is an output unit, which no
    fit drops out)."""
    inverse = A.dtype.type(1.0 / keep_prob)
    with np.errstate(invalid="ignore", over="ignore"):
        return A * np.where(mask.astype(bool), inverse, A.dtype.type(0))


def splitmix64_key(seed, step, layer):
    """fnn_dropout_key in Python integers: splitmix64's finaliser."""
    z = (seed + (step << 8) + layer + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


# ---------------------------------------------------------------------------
# bias_activation
# ---------------------------------------------------------------------------

def check_activation(name, Z_plus_b, A, dtype):
    """A = g(Z + b) to the accuracy the kernel promises for g."""
    z = f64(Z_plus_b)
    if name in ("relu", "leaky_relu", "identity"):
        # z > 0 ? z : 0 and z >= 0 ? z : slope * z, slope rounded to dtype: exact
        expected = ref.activation(name, z, leaky_slope=float(dtype(SLOPE))).astype(dtype)
        np.testing.assert_array_equal(A, expected)
    elif name in ("sigmoid", "tanh"):
        assert ulp_error(A, ref.activation(name, z), dtype).max(initial=0) <= 4
    elif name == "arctan":
        # atan(z)/pi + 1/2 in (0, 1): a few eps absolute (the + 1/2 cancels)
        assert np.abs(f64(A) - ref.activation(name, z)).max(initial=0) <= 4 * eps(dtype)
    elif name == "exp":
        # libm's exp of the whole range: within an ulp of e^z rounded to dtype
        # (subnormal results: of the smallest normal's spacing), inf exactly
        # where that overflows
        expected = ref.activation("exp", z)
        with np.errstate(over="ignore"):
            overflows = np.isinf(expected.astype(dtype))
        np.testing.assert_array_equal(np.isinf(A), overflows)
        assert ulp_error(A[~overflows], expected[~overflows], dtype).max(initial=0) <= 2
    else:  # softmax, from z - max z rounded to dtype as any dtype kernel does;
        # the row total adds cols terms in dtype: (cols + 8) eps relative
        shifted = (Z_plus_b - Z_plus_b.max(axis=1, keepdims=True)).astype(np.float64)
        expected = ref.activation("softmax", shifted)
        bound = ((Z_plus_b.shape[1] + 8) * eps(dtype) * expected
                 + 2 * np.finfo(dtype).smallest_normal)
        assert np.all(np.abs(f64(A) - expected) <= bound)
        if A.size:
            np.testing.assert_allclose(f64(A).sum(axis=1), 1.0, rtol=0,
                                       atol=(A.shape[1] + 8) * eps(dtype))


# The blocking's edges: 682 rows of 3 fill one block of 2048 values, the
# tiled bias stops at 32 units, one row per block from 2048 units.
EDGE_SHAPES = [(683, 3), (1400, 1), (70, 31), (66, 32), (2, 2047), (3, 2048), (1, 2049), (0, 5)]


def with_edge_shapes(test):
    for i, shape in enumerate(EDGE_SHAPES):
        test = example(shape=shape, name=sorted(ACTIVATION_CODES)[i % len(ACTIVATION_CODES)],
                       seed=i)(test)
    return test


@DTYPES
@SETTINGS
@given(shape=layer_shapes(), name=st.sampled_from(sorted(ACTIVATION_CODES)),
       seed=st.integers(0, 2**32 - 1))
@with_edge_shapes
def test_bias_activation(dtype, shape, name, seed):
    rng = np.random.default_rng(seed)
    rows, cols = shape
    Z = random_matrix(rng, rows, cols, dtype)
    b = random_matrix(rng, 1, cols, dtype).ravel()
    Z_before = Z.copy()
    Z_out, A, mask = twins.bias_activation(Z, b, name, SLOPE)
    assert mask is None and Z_out.dtype == A.dtype == dtype
    np.testing.assert_array_equal(Z, Z_before)  # the twin leaves its input alone
    np.testing.assert_array_equal(Z_out, Z + b)  # one rounding, as NumPy's
    check_activation(name, Z_out, A, dtype)


@DTYPES
@SETTINGS
@given(shape=layer_shapes(), name=st.sampled_from(sorted(ACTIVATION_CODES)),
       keep_prob=st.floats(0.05, 0.95), key=st.integers(0, MASK64),
       first_row=st.integers(0, 2**40), seed=st.integers(0, 2**32 - 1))
def test_bias_activation_with_dropout(dtype, shape, name, keep_prob, key, first_row, seed):
    """Dropout in the same pass: Z and the activation as without dropout, A
    dropped out by the hash's draws for batch rows first_row + i (the counter
    wrapping mod 2^32 for large first_row)."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    Z = random_matrix(rng, rows, cols, dtype)
    b = random_matrix(rng, 1, cols, dtype).ravel()
    Z_plain, A_plain, _ = twins.bias_activation(Z, b, name, SLOPE)
    Z_out, A, mask = twins.bias_activation(Z, b, name, SLOPE, keep_prob=keep_prob, key=key,
                                           first_row=first_row)
    np.testing.assert_array_equal(Z_out, Z_plain)
    np.testing.assert_array_equal(mask, dropout_mask(rows, cols, keep_prob, key, first_row))
    np.testing.assert_array_equal(A, dropped_out(A_plain, mask, keep_prob))


# ---------------------------------------------------------------------------
# dropout_apply
# ---------------------------------------------------------------------------

@DTYPES
@SETTINGS
@given(rows=st.integers(0, 60), cols=st.integers(0, 70), keep_prob=st.floats(1e-3, 0.999),
       key=st.integers(0, MASK64), first_row=st.integers(0, 2**40),
       split=st.integers(0, 60), seed=st.integers(0, 2**32 - 1))
def test_dropout_apply(dtype, rows, cols, keep_prob, key, first_row, split, seed):
    """Exactly the hash's draws and A / keep_prob; a batch split at any row
    draws the same masks (counter-based: any thread can draw any row)."""
    rng = np.random.default_rng(seed)
    A = random_matrix(rng, rows, cols, dtype)
    A_before = A.copy()
    out, mask = twins.dropout_apply(A, keep_prob, key, first_row)
    np.testing.assert_array_equal(A, A_before)
    np.testing.assert_array_equal(mask, dropout_mask(rows, cols, keep_prob, key, first_row))
    np.testing.assert_array_equal(out, dropped_out(A, mask, keep_prob))
    split = min(split, rows)
    tail, tail_mask = twins.dropout_apply(A[split:], keep_prob, key, first_row + split)
    np.testing.assert_array_equal(tail_mask, mask[split:])
    np.testing.assert_array_equal(tail, out[split:])


@pytest.mark.parametrize("keep_prob", [0.1, 0.5, 0.9])
def test_dropout_keeps_the_expected_fraction(keep_prob):
    """The draws are not degenerate (so the exact checks above are not vacuous):
    200 x 500 draws keep keep_prob of the units within 5 standard deviations,
    under a key from fnn_dropout_key and under key 0."""
    n = 200 * 500
    for key in (twins.dropout_key(12345, 7, 1), 0):
        _, mask = twins.dropout_apply(np.ones((200, 500)), keep_prob, key)
        assert abs(mask.mean() - keep_prob) <= 5 * math.sqrt(keep_prob * (1 - keep_prob) / n)


# ---------------------------------------------------------------------------
# activation_backward
# ---------------------------------------------------------------------------

def backward_case(rng, rows, cols, name, dtype):
    """delta, Z (with exact zeros: the slope-1-at-0 convention) and A = g(Z)
    rounded to dtype, as the forward pass leaves it."""
    Z = random_matrix(rng, rows, cols, dtype)
    A = ref.activation(name, f64(Z), leaky_slope=float(dtype(SLOPE))).astype(dtype)
    delta = random_matrix(rng, rows, cols, dtype, scale=1.0)
    return delta, Z, A


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 50), cols=st.integers(1, 70),
       name=st.sampled_from(HIDDEN_ACTIVATIONS), seed=st.integers(0, 2**32 - 1))
def test_activation_backward(dtype, rows, cols, name, seed):
    """delta * g'(Z): exact for relu, leaky relu, identity; sigmoid and tanh
    take g' from A (g(1 - g), 1 - g^2), arctan from Z: within 8 eps |delta|
    (|g'| <= 1, the rounding of A included)."""
    rng = np.random.default_rng(seed)
    delta, Z, A = backward_case(rng, rows, cols, name, dtype)
    delta_before = delta.copy()
    out = twins.activation_backward(delta, Z, A, name, SLOPE)
    np.testing.assert_array_equal(delta, delta_before)
    expected = f64(delta) * ref.activation_derivative(name, f64(Z), leaky_slope=float(dtype(SLOPE)))
    if name in ("relu", "leaky_relu", "identity"):
        np.testing.assert_array_equal(out, expected.astype(dtype))
    else:
        assert np.all(np.abs(f64(out) - expected) <= 8 * eps(dtype) * np.abs(f64(delta)))


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 50), cols=st.integers(1, 70),
       name=st.sampled_from(HIDDEN_ACTIVATIONS), keep_prob=st.floats(0.05, 1.0),
       seed=st.integers(0, 2**32 - 1))
def test_activation_backward_through_dropout(dtype, rows, cols, name, keep_prob, seed):
    """With the forward pass's mask: delta * (mask / p) * g'(Z) (SPEC 6), A
    being g(Z) after dropout (the kernel recovers g(Z) as A * p); dropped
    units pass exactly nothing."""
    rng = np.random.default_rng(seed)
    delta, Z, A = backward_case(rng, rows, cols, name, dtype)
    mask = (rng.random((rows, cols)) < keep_prob).astype(np.uint8)
    A_dropped = dropped_out(A, mask, keep_prob)
    out = twins.activation_backward(delta, Z, A_dropped, name, SLOPE, mask, keep_prob)
    expected = (f64(delta) * (mask / keep_prob)
                * ref.activation_derivative(name, f64(Z), leaky_slope=float(dtype(SLOPE))))
    assert np.all(out[mask == 0] == 0)
    assert np.all(np.abs(f64(out) - expected) <= 16 * eps(dtype) * np.abs(f64(delta)) / keep_prob)


def test_activation_backward_refuses_softmax():
    M = np.zeros((2, 3))
    with pytest.raises(ValueError, match="hidden activation"):
        twins.activation_backward(M, M, M, "softmax")
    with pytest.raises(ValueError, match="hidden activation"):
        twins.activation_backward(M, M, M, "exp")


@DTYPES
def test_exp_overflows_to_inf_and_underflows_to_zero_as_numpy(dtype):
    """The exp output unit is not clamped: inf above the largest finite
    e^z, subnormals and then 0 below the smallest normal one, like NumPy's."""
    z = np.array([[0.0, 1.0, -1.0, 88.0, 89.0, 709.0, 710.0, 1e30, -87.0, -100.0, -104.0,
                   -700.0, -740.0, -746.0, -1e30]]).astype(dtype)
    _, A, _ = twins.bias_activation(z, np.zeros(z.shape[1], dtype), "exp")
    with np.errstate(over="ignore", under="ignore"):
        exact = np.exp(f64(z))
        expected = exact.astype(dtype)
    np.testing.assert_array_equal(np.isinf(A), np.isinf(expected))
    np.testing.assert_array_equal(A == 0, expected == 0)
    finite = np.isfinite(expected)
    assert ulp_error(A[finite], exact[finite], dtype).max() <= 2
    assert A[0, 0] == 1


# ---------------------------------------------------------------------------
# output_delta and loss_sum
# ---------------------------------------------------------------------------

HEADS = [("log_loss", "sigmoid"), ("cross_entropy", "softmax"), ("squared", "identity"),
         ("squared", "sigmoid"), ("squared", "tanh"), ("squared", "arctan"),
         ("squared", "softmax"), ("squared", "exp"), ("poisson", "exp")]


def head_case(rng, rows, cols, loss, output, dtype, saturate=False):
    """Logits Z (some at +-800 when saturate; +-80 under exp, whose A would
    overflow), A = g(Z) rounded to dtype, and targets Y: 0/1 for log-loss,
    one-hot for cross-entropy, counts (with zeros) for poisson, any for
    squared. Under exp, |z| up to about 40 (no overflow in float32)."""
    scales = [0.3, 3.0, 10.0] if output == "exp" else [0.3, 3.0, 30.0]
    Z = random_matrix(rng, rows, cols, dtype, scale=rng.choice(scales))
    if saturate:
        extreme = 80.0 if output == "exp" else 800.0
        Z[rng.random((rows, cols)) < 0.3] = dtype(extreme)
        Z[rng.random((rows, cols)) < 0.3] = dtype(-extreme)
    with np.errstate(over="ignore"):
        A = ref.activation(output, f64(Z)).astype(dtype)
    if loss == "log_loss":
        Y = rng.integers(0, 2, (rows, cols)).astype(dtype)
    elif loss == "cross_entropy":
        Y = np.eye(cols, dtype=dtype)[rng.integers(0, cols, rows)]
    elif loss == "poisson":
        Y = rng.poisson(rng.choice([0.3, 3.0, 50.0]), (rows, cols)).astype(dtype)
    else:
        Y = rng.uniform(-1.0, 1.0, (rows, cols)).astype(dtype)
    return Z, A, Y


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 40), cols=st.integers(1, 12), head=st.sampled_from(HEADS),
       seed=st.integers(0, 2**32 - 1))
def test_output_delta(dtype, rows, cols, head, seed):
    """A - Y exactly for the matched heads (SPEC 2, poisson after exp too);
    for the squared loss (A - Y) g'(Z) within 8 eps |A - Y| (as
    activation_backward; through exp, whose g' = A is not below 1, within
    8 eps |(A - Y) A|), through softmax its Jacobian-vector product
    s (r - <r, s>) within (cols + 4) eps s (|r| + sum |r s|) (the dot
    product is summed in dtype)."""
    loss, output = head
    if loss == "log_loss":
        cols = 1
    rng = np.random.default_rng(seed)
    Z, A, Y = head_case(rng, rows, cols, loss, output, dtype)
    out = twins.output_delta(Z, A, Y, loss, output, SLOPE)
    assert out.dtype == dtype
    expected = ref.output_delta(loss, output, f64(Z), f64(A), f64(Y), SLOPE)
    residual = f64(A) - f64(Y)
    if loss != "squared":
        np.testing.assert_array_equal(out, A - Y)
    elif output == "softmax":
        s = f64(A)
        # (and half a subnormal spacing where the result is subnormal)
        bound = (cols + 4) * eps(dtype) * s * (np.abs(residual)
                                                + np.abs(residual * s).sum(axis=1, keepdims=True))
        bound += np.finfo(dtype).smallest_subnormal
        assert np.all(np.abs(f64(out) - expected) <= bound)
    elif output == "exp":
        # g' is A itself (rounded to dtype, as the kernel takes it)
        assert np.all(np.abs(f64(out) - expected) <= 8 * eps(dtype) * np.abs(residual * f64(A)))
    else:
        assert np.all(np.abs(f64(out) - expected) <= 8 * eps(dtype) * np.abs(residual))


def test_output_delta_refuses_a_mismatched_head():
    M = np.zeros((2, 1))
    with pytest.raises(ValueError, match="needs output activation 'sigmoid'"):
        twins.output_delta(M, M, M, "log_loss", "tanh")
    with pytest.raises(ValueError, match="output activation"):
        twins.output_delta(M, M, M, "squared", "relu")
    with pytest.raises(ValueError, match="needs output activation 'exp'"):
        twins.output_delta(M, M, M, "poisson", "identity")


def loss_bound(loss, Z, Y, weights, total, dtype):
    """The error the kernel may make on the weighted loss sum, every term
    being computed in dtype. log-loss and squared: sums of non-negative terms,
    8 eps of their total, plus twice the smallest normal per entry times its
    row's weight (exp's clamp at FNN_EXP_MIN gives e^-708, e^-87 in float32,
    for e^-800).
    Cross-entropy: z_k - logsumexp(z) is formed in dtype, so its error is a few
    eps of |z_k| + |max z| + cols + 1 whatever the size of the result (the
    reference has the same conditioning). Poisson: y (log y - z) - y + a
    cancels where a is near y (the deviance is small there), so its error is
    a few eps of the size of its terms, y (|log y| + |z|) + y + a."""
    if loss == "poisson":
        Z, Y, A = f64(Z), f64(Y), np.exp(f64(Z))
        log_y = np.log(np.where(Y > 0, Y, 1.0))
        per_row = np.sum(Y * (np.abs(log_y) + np.abs(Z)) + Y + A, axis=1)
        return 8 * eps(dtype) * float(np.sum(weights * per_row))
    if loss != "cross_entropy":
        clamp = 2 * float(np.sum(weights)) * Z.shape[1] * float(np.finfo(dtype).smallest_normal)
        return 8 * eps(dtype) * total + clamp
    Z, Y = f64(Z), f64(Y)
    per_row = np.sum(Y * (np.abs(Z) + np.abs(Z).max(axis=1, keepdims=True) + Z.shape[1] + 1.0),
                     axis=1)
    return 8 * eps(dtype) * float(np.sum(weights * per_row))


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 40), cols=st.integers(1, 12), head=st.sampled_from(HEADS),
       weighted=st.booleans(), saturate=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_loss_sum(dtype, rows, cols, head, weighted, saturate, seed):
    """sum_i w_i loss_i against reference.loss_per_example, from the logits for
    log-loss and cross-entropy (finite at logits of +-800), from A for squared,
    from both for poisson (y (log y - z) - y + a)."""
    loss, output = head
    if loss == "log_loss":
        cols = 1
    rng = np.random.default_rng(seed)
    Z, A, Y = head_case(rng, rows, cols, loss, output, dtype, saturate)
    weights = rng.uniform(0.0, 3.0, rows).astype(dtype) if weighted else None
    w = f64(weights) if weighted else np.ones(rows)
    total = twins.loss_sum(Z, A, Y, loss, weights)
    assert isinstance(total, float) and math.isfinite(total)
    terms = w * ref.loss_per_example(loss, f64(Z), f64(A), f64(Y))
    expected = math.fsum(terms)
    assert abs(total - expected) <= loss_bound(loss, Z, Y, w, expected, dtype)
    if weighted:
        # weight 1 is the same as no weights, exactly
        assert twins.loss_sum(Z, A, Y, loss, np.ones(rows, dtype)) == twins.loss_sum(Z, A, Y, loss)


# ---------------------------------------------------------------------------
# all_finite
# ---------------------------------------------------------------------------

@DTYPES
@SETTINGS
@given(count=st.integers(0, 300), seed=st.integers(0, 2**32 - 1),
       bad=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                              st.sampled_from([np.inf, -np.inf, np.nan])), max_size=3))
def test_all_finite(dtype, count, seed, bad):
    """False as soon as one entry anywhere (also in the vector tail) is inf or
    NaN; True for finite values up to the largest (x - x is 0 there)."""
    rng = np.random.default_rng(seed)
    x = random_matrix(rng, 1, count, dtype).ravel()
    if count:
        x[rng.integers(0, count)] = np.finfo(dtype).max * rng.choice([-1, 1])
    for where, value in bad:
        if count:
            x[int(where * count)] = value
    assert twins.all_finite(x) == bool(np.all(np.isfinite(x)))


@DTYPES
def test_all_finite_sees_every_position(dtype):
    """Each position of vectors up to 40 long (every SIMD tail), each of inf,
    -inf and NaN, next to the largest finite values."""
    for count in range(1, 41):
        x = np.full(count, np.finfo(dtype).max, dtype=dtype)
        x[::2] *= -1
        assert twins.all_finite(x)
        for k in range(count):
            for value in (np.inf, -np.inf, np.nan):
                y = x.copy()
                y[k] = value
                assert not twins.all_finite(y)


# ---------------------------------------------------------------------------
# scale_rows, outer_product, row_dots, axpy, sum_squares, gather_rows
# ---------------------------------------------------------------------------

@DTYPES
@SETTINGS
@given(rows=st.integers(0, 60), cols=st.integers(0, 40), seed=st.integers(0, 2**32 - 1))
def test_scale_rows(dtype, rows, cols, seed):
    rng = np.random.default_rng(seed)
    M = random_matrix(rng, rows, cols, dtype)
    weights = rng.uniform(0.0, 3.0, rows).astype(dtype)
    np.testing.assert_array_equal(twins.scale_rows(M, weights), M * weights[:, None])


# widths 0..8 take the unrolled code, wider ones the generic loop
WIDTHS = st.one_of(st.integers(0, 8), st.integers(9, 40))


@DTYPES
def test_every_width_of_the_unrolled_kernels(dtype):
    """row_dots, outer_product and column_sums at every width 0..17 (1..8
    compiled one by one) and row counts around multiples of 4, on
    integer-valued entries: every sum is exact, so the results are too."""
    rng = np.random.default_rng(5)
    for n in range(18):
        for rows in (0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 33):
            M = rng.integers(-50, 50, (rows, n)).astype(dtype)
            w = rng.integers(-50, 50, n).astype(dtype)
            d = rng.integers(-50, 50, rows).astype(dtype)
            np.testing.assert_array_equal(twins.row_dots(M, w), f64(M) @ f64(w))
            np.testing.assert_array_equal(twins.outer_product(d, w), np.outer(f64(d), f64(w)))
            np.testing.assert_array_equal(twins.column_sums(M), f64(M).sum(axis=0))


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 60), n=WIDTHS, seed=st.integers(0, 2**32 - 1))
def test_outer_product(dtype, rows, n, seed):
    rng = np.random.default_rng(seed)
    d = random_matrix(rng, 1, rows, dtype).ravel()
    w = random_matrix(rng, 1, n, dtype).ravel()
    np.testing.assert_array_equal(twins.outer_product(d, w), d[:, None] * w[None, :])


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 60), n=WIDTHS, seed=st.integers(0, 2**32 - 1))
def test_row_dots(dtype, rows, n, seed):
    """A w within n eps (|A| |w|) (a sum of n products), and exact on
    integer-valued entries (every partial sum exact, whatever the order)."""
    rng = np.random.default_rng(seed)
    A = random_matrix(rng, rows, n, dtype)
    w = random_matrix(rng, 1, n, dtype).ravel()
    z = twins.row_dots(A, w)
    assert z.shape == (rows,) and z.dtype == dtype
    bound = max(n, 1) * eps(dtype) * (np.abs(f64(A)) @ np.abs(f64(w)))
    assert np.all(np.abs(f64(z) - f64(A) @ f64(w)) <= bound)
    A_int = rng.integers(-50, 50, (rows, n)).astype(dtype)
    w_int = rng.integers(-50, 50, n).astype(dtype)
    np.testing.assert_array_equal(twins.row_dots(A_int, w_int), f64(A_int) @ f64(w_int))


@DTYPES
@SETTINGS
@given(count=st.integers(0, 200), alpha=st.sampled_from([0.0, 1.0, -1.0, 0.1, -2.5e3]),
       seed=st.integers(0, 2**32 - 1))
def test_axpy(dtype, count, alpha, seed):
    """y + alpha x with alpha rounded to dtype: one rounding (two unfused),
    and the float64 oracle's own two: within 2 eps (|y| + |alpha x|)."""
    rng = np.random.default_rng(seed)
    x = random_matrix(rng, 1, count, dtype).ravel()
    y = random_matrix(rng, 1, count, dtype).ravel()
    y_before = y.copy()
    out = twins.axpy(alpha, x, y)
    np.testing.assert_array_equal(y, y_before)
    a = float(dtype(alpha))
    expected = f64(y) + a * f64(x)
    size = np.abs(f64(y)) + np.abs(a * f64(x))
    assert np.all(np.abs(f64(out) - expected) <= 2 * eps(dtype) * size)


@DTYPES
@SETTINGS
@given(count=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_sum_squares(dtype, count, seed):
    """Accumulated in double whatever the dtype: within count float64 eps of
    the exact sum (math.fsum)."""
    rng = np.random.default_rng(seed)
    x = random_matrix(rng, 1, count, dtype).ravel()
    expected = math.fsum(f64(x) ** 2)
    assert abs(twins.sum_squares(x) - expected) <= (count + 1) * eps(np.float64) * expected


@DTYPES
@SETTINGS
@given(src_rows=st.integers(1, 30), cols=st.integers(0, 20), rows=st.integers(0, 60),
       seed=st.integers(0, 2**32 - 1))
def test_gather_rows(dtype, src_rows, cols, rows, seed):
    rng = np.random.default_rng(seed)
    src = random_matrix(rng, src_rows, cols, dtype)
    index = rng.integers(0, src_rows, rows).astype(np.intp)  # repeats included
    np.testing.assert_array_equal(twins.gather_rows(src, index), src[index])


def test_gather_rows_refuses_rows_outside_src():
    src = np.zeros((3, 2))
    for index in ([0, 3], [-1], [2, 1, 5]):
        with pytest.raises(ValueError, match="index"):
            twins.gather_rows(src, np.array(index, dtype=np.intp))


# ---------------------------------------------------------------------------
# column_sums and small_gemm_tn (widths <= 8 have their own vectorised code)
# ---------------------------------------------------------------------------

def padded_view(rng, M, pad):
    """M as a view into a wider array (row stride > width) whose extra
    columns are NaN: the kernel must neither use nor need them."""
    rows, cols = M.shape
    big = np.full((rows, cols + pad + 1), np.nan, dtype=M.dtype)
    offset = int(rng.integers(0, pad + 1))
    big[:, offset:offset + cols] = M
    return big[:, offset:offset + cols]


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 70), cols=WIDTHS, pad=st.integers(0, 9),
       scale=st.sampled_from([1.0, 0.125, 1.0 / 3.0]), seed=st.integers(0, 2**32 - 1))
def test_column_sums(dtype, rows, cols, pad, scale, seed):
    """scale * column sums within (rows + 1) eps scale sum |M| (float64: ~1e-14
    relative on these sizes); a row-strided view (NaN past each row) gives
    the same bits as its contiguous copy; integer-valued entries sum exactly."""
    rng = np.random.default_rng(seed)
    M = random_matrix(rng, rows, cols, dtype)
    out = twins.column_sums(M, scale)
    assert out.shape == (cols,) and out.dtype == dtype
    bound = (rows + 1) * eps(dtype) * scale * np.abs(f64(M)).sum(axis=0)
    assert np.all(np.abs(f64(out) - scale * f64(M).sum(axis=0)) <= bound)
    view = padded_view(rng, M, pad)
    np.testing.assert_array_equal(twins.column_sums(view, scale), out)
    M_int = rng.integers(-1000, 1000, (rows, cols)).astype(dtype)
    np.testing.assert_array_equal(twins.column_sums(padded_view(rng, M_int, pad), 0.5),
                                  0.5 * f64(M_int).sum(axis=0))


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 70), cols=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_column_sums_of_a_block_equal_the_whole(dtype, rows, cols, seed):
    """Up to 8 columns, the order of the sums depends on the rows only: a
    block of columns sums to the same bits as in the whole matrix (what
    small_gemm_tn's 8-column blocks rely on)."""
    rng = np.random.default_rng(seed)
    M = random_matrix(rng, rows, cols, dtype)
    whole = twins.column_sums(M)
    first = int(rng.integers(0, cols))
    last = int(rng.integers(first + 1, cols + 1))
    np.testing.assert_array_equal(twins.column_sums(M[:, first:last]), whole[first:last])


@DTYPES
@SETTINGS
@given(rows=st.integers(0, 60), m=st.integers(1, 20), n=st.integers(1, 20),
       pads=st.tuples(st.integers(0, 9), st.integers(0, 9)),
       alpha=st.sampled_from([1.0, -0.5, 1.0 / 3.0]), beta=st.sampled_from([0.0, 1.0, -0.25]),
       seed=st.integers(0, 2**32 - 1))
def test_small_gemm_tn(dtype, rows, m, n, pads, alpha, beta, seed):
    """alpha A^T B + beta C against np.dot in float64, within (rows + 2) eps of
    |alpha| |A|^T |B| + |beta| |C| (float64: better than 1e-12 relative), for
    any size (also past what gemm routes here), A and B row-strided views
    with NaN past their rows; beta = 0 ignores a C full of NaN; and either
    way round each entry sums the same products in the same order:
    small_gemm_tn(B, A) is small_gemm_tn(A, B).T bit for bit."""
    rng = np.random.default_rng(seed)
    A = padded_view(rng, random_matrix(rng, rows, m, dtype), pads[0])
    B = padded_view(rng, random_matrix(rng, rows, n, dtype), pads[1])
    C = random_matrix(rng, m, n, dtype) if beta != 0 else np.full((m, n), np.nan, dtype)
    out = twins.small_gemm_tn(alpha, A, B, beta, C)
    a, b = float(dtype(alpha)), float(dtype(beta))
    expected = a * np.dot(f64(A).T, f64(B)) + (b * f64(C) if beta != 0 else 0.0)
    scale = abs(a) * np.dot(np.abs(f64(A)).T, np.abs(f64(B)))
    if beta != 0:
        scale += abs(b) * np.abs(f64(C))
    assert np.all(np.abs(f64(out) - expected) <= (rows + 2) * eps(dtype) * scale)
    C_T = None if beta == 0 else np.ascontiguousarray(C.T)
    swapped = twins.small_gemm_tn(alpha, B, A, beta, C_T)
    np.testing.assert_array_equal(swapped, out.T)


# ---------------------------------------------------------------------------
# optimizer_step
# ---------------------------------------------------------------------------

@DTYPES
@SETTINGS
@given(count=st.integers(0, 60), kind=st.sampled_from(list(twins.STEP_OPTIMIZERS)),
       t=st.integers(1, 2000), l2_scale=st.sampled_from([0.0, 0.3]),
       learning_rate=st.sampled_from([1e-3, 0.1, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_optimizer_step(dtype, count, kind, t, l2_scale, learning_rate, seed):
    """One step of reference.optimizer_step (SPEC 10) from a random state at
    step t, on g = grad + l2_scale * param. The kernel works with fnn_step's
    constants rounded to dtype (in float32, 1 - beta_2 is then 1.3e-5 off
    1 - 0.999), so the reference gets them rounded the same way. Moments
    within 16 eps of the size of their terms, parameters within 16 eps of
    |param| + the size of the step (sizes from |grad| + l2_scale |param|, so
    a g that cancels does not shrink the bound below g's own rounding)."""
    rng = np.random.default_rng(seed)
    uses_first, uses_second = twins.MOMENT_SLOTS[kind]
    param, grad = (random_matrix(rng, 1, count, dtype).ravel() for _ in range(2))
    first = random_matrix(rng, 1, count, dtype).ravel() if uses_first else None
    second = (random_matrix(rng, 1, count, dtype).ravel() ** 2) if uses_second else None
    r = lambda value: float(dtype(value))  # noqa: E731 (a constant as the kernel sees it)
    beta, beta1, beta2, epsilon = r(0.9), r(0.9), r(0.999), r(1e-8)
    lr, l2 = r(learning_rate), r(l2_scale)
    correction_1, correction_2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
    inputs = [x.copy() if x is not None else None for x in (param, grad, first, second)]
    new_param, new_first, new_second = twins.optimizer_step(
        param, grad, first, second, kind, lr, l2_scale=l2, momentum=beta, beta_1=beta1,
        beta_2=beta2, epsilon=epsilon, bias_correction_1=correction_1,
        bias_correction_2=correction_2)
    for before, x in zip(inputs, (param, grad, first, second)):
        if x is not None:
            np.testing.assert_array_equal(x, before)
    assert (new_first is None) == (not uses_first)
    assert (new_second is None) == (not uses_second)

    p = f64(param)
    g = f64(grad) + l2 * p
    g_size = np.abs(f64(grad)) + l2 * np.abs(p)
    state = {"t": t - 1}
    if kind in ("momentum", "heavy_ball", "nesterov"):
        state["v"] = [f64(first)]
    elif kind == "rmsprop":
        state["s"] = [f64(second)]
    else:
        state["m"], state["v"] = [f64(first)], [f64(second)]
    [expected], new_state = ref.optimizer_step(kind, [p], [g], state, lr, beta, beta1, beta2,
                                               epsilon)
    tol = 16 * eps(dtype)
    if kind == "momentum":
        v_size = beta * np.abs(f64(first)) + (1 - beta) * g_size
        checks = [(new_first, new_state["v"][0], v_size)]
        step_size = lr * v_size
    elif kind in ("heavy_ball", "nesterov"):
        v_size = beta * np.abs(f64(first)) + lr * g_size
        checks = [(new_first, new_state["v"][0], v_size)]
        step_size = v_size if kind == "heavy_ball" else beta * v_size + lr * g_size
    elif kind == "rmsprop":
        s_size = beta2 * f64(second) + (1 - beta2) * g_size ** 2
        checks = [(new_second, new_state["s"][0], s_size)]
        step_size = lr * g_size / (np.sqrt(new_state["s"][0]) + epsilon)
    elif kind == "adam_step_corrected":
        m_size = beta1 * np.abs(f64(first)) + (1 - beta1) * g_size
        v_size = beta2 * f64(second) + (1 - beta2) * g_size ** 2
        checks = [(new_first, new_state["m"][0], m_size), (new_second, new_state["v"][0], v_size)]
        corrected_lr = lr * np.sqrt(correction_2) / correction_1
        step_size = corrected_lr * m_size / (np.sqrt(new_state["v"][0]) + epsilon)
    else:
        m_size = beta1 * np.abs(f64(first)) + (1 - beta1) * g_size
        v_size = beta2 * f64(second) + (1 - beta2) * g_size ** 2
        checks = [(new_first, new_state["m"][0], m_size), (new_second, new_state["v"][0], v_size)]
        v_hat = new_state["v"][0] / correction_2
        step_size = lr * (m_size / correction_1) / (np.sqrt(v_hat) + epsilon)
    for actual, wanted, size in checks:
        assert np.all(np.abs(f64(actual) - wanted) <= tol * size)
    assert np.all(np.abs(f64(new_param) - expected) <= tol * (np.abs(p) + step_size))


def test_optimizer_step_refuses_gd_and_missing_moments():
    x = np.zeros(3)
    with pytest.raises(ValueError, match="plain gradient descent"):
        twins.optimizer_step(x, x, x, x, "gd", 0.1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        twins.optimizer_step(x, x, x, x, "sgd", 0.1)
    with pytest.raises(ValueError, match="'second'"):
        twins.optimizer_step(x, x, x, None, "adam", 0.1)
    with pytest.raises(ValueError, match="'second'"):
        twins.optimizer_step(x, x, x, None, "adam_step_corrected", 0.1)
    with pytest.raises(ValueError, match="'first'"):
        twins.optimizer_step(x, x, None, x, "momentum", 0.1)
    for kind in ("heavy_ball", "nesterov"):
        with pytest.raises(ValueError, match="'first'"):
            twins.optimizer_step(x, x, None, None, kind, 0.1)


# ---------------------------------------------------------------------------
# shuffle and dropout_key
# ---------------------------------------------------------------------------

@SETTINGS
@given(n=st.integers(0, 300), seed=st.integers(0, 2**63), epochs=st.integers(1, 3),
       permuted=st.booleans())
def test_shuffle_is_the_reference_draw_for_draw(n, seed, epochs, permuted):
    """fnn_shuffle and reference.shuffle_in_place make the same permutation
    from the same PCG64, epoch after epoch, and leave it in the same state."""
    start = np.random.default_rng(seed).permutation(n) if permuted else np.arange(n)
    bits, ref_bits = np.random.PCG64(seed), np.random.PCG64(seed)
    order, ref_order = start.astype(np.intp), start.astype(np.intp)
    for _ in range(epochs):
        previous, snapshot = order, order.copy()
        order = twins.shuffle(previous, bits)
        np.testing.assert_array_equal(previous, snapshot)  # a new array, the input kept
        ref.shuffle_in_place(ref_order, ref_bits)
        np.testing.assert_array_equal(order, ref_order)
    assert bits.state == ref_bits.state
    np.testing.assert_array_equal(np.sort(order), np.sort(start))


@SETTINGS
@given(seed=st.integers(0, MASK64), step=st.integers(0, MASK64), layer=st.integers(0, 2**31 - 1))
def test_dropout_key_is_splitmix64(seed, step, layer):
    """Equal to splitmix64's finaliser written in Python, also where
    step << 8 and the sum wrap mod 2^64."""
    assert twins.dropout_key(seed, step, layer) == splitmix64_key(seed, step, layer)


def test_dropout_key_examples():
    assert twins.dropout_key(0, 0, 0) == splitmix64_key(0, 0, 0)
    assert twins.dropout_key(MASK64, MASK64, 2**31 - 1) == splitmix64_key(MASK64, MASK64, 2**31 - 1)
    # distinct (step, layer) under one seed: distinct keys
    keys = {twins.dropout_key(42, step, layer) for step in range(100) for layer in range(8)}
    assert len(keys) == 800


# ---------------------------------------------------------------------------
# Every twin refuses what the kernel would trust (no bad shape reaches C)
# ---------------------------------------------------------------------------

M23, M32, V2, V3 = np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(2), np.zeros(3)
MASK23 = np.ones((2, 3), np.uint8)
# (what is wrong, the error's words, the call)
def test_keep_prob_one_keeps_every_unit_and_the_smallest_keeps_the_draws_of_zero():
    # keep_prob * 2^32 = 2^32 fits no 32-bit threshold: the kernel must still
    # keep every unit (it once converted out of range and dropped them all).
    A = np.arange(1.0, 4097.0).reshape(64, 64)
    for dtype in (np.float32, np.float64):
        out, mask = twins.dropout_apply(A.astype(dtype), 1.0, 12345)
        assert mask.all()
        np.testing.assert_array_equal(out, A.astype(dtype))
    # keep_prob = 2^-32 keeps exactly the units whose hash is 0 (here: none)
    _, mask = twins.dropout_apply(A, 2.0 ** -32, 12345)
    assert not mask.any()


BAD_CALLS = [
    ("bias width", "b has 2 entries", lambda: twins.bias_activation(M23, V2, "tanh")),
    ("no units", "at least one unit",
     lambda: twins.bias_activation(np.zeros((2, 0)), np.zeros(0), "softmax")),
    ("keep_prob below 2**-32", "keep_prob must be in \\[2\\*\\*-32, 1\\]",
     lambda: twins.bias_activation(M23, V3, "tanh", keep_prob=2.0**-33)),
    ("negative key", "key must be",
     lambda: twins.bias_activation(M23, V3, "tanh", keep_prob=0.5, key=-1)),
    ("activation name", "unknown activation", lambda: twins.bias_activation(M23, V3, "gelu")),
    ("keep_prob 0", "keep_prob must be", lambda: twins.dropout_apply(M23, 0.0, 1)),
    ("negative first_row", "first_row", lambda: twins.dropout_apply(M23, 0.5, 1, -1)),
    ("backward Z", "Z has shape", lambda: twins.activation_backward(M23, M32, M23, "tanh")),
    ("backward mask", "mask has shape", lambda: twins.activation_backward(
        M23, M23, M23, "tanh", 0.01, np.ones((3, 2), np.uint8), 0.5)),
    ("backward keep_prob", "keep_prob must be",
     lambda: twins.activation_backward(M23, M23, M23, "tanh", 0.01, MASK23, 0.0)),
    ("output_delta Y", "Y has shape",
     lambda: twins.output_delta(M23, M23, M32, "squared", "identity")),
    ("loss_sum A", "A has shape", lambda: twins.loss_sum(M23, M32, M23, "squared")),
    ("loss_sum weights", "weights has 3", lambda: twins.loss_sum(M23, M23, M23, "squared", V3)),
    ("loss_sum no units", "at least one unit",
     lambda: twins.loss_sum(*[np.zeros((2, 0))] * 3, "cross_entropy")),
    ("loss name", "unknown loss", lambda: twins.loss_sum(M23, M23, M23, "hinge")),
    ("scale_rows weights", "weights has 3", lambda: twins.scale_rows(M23, V3)),
    ("row_dots w", "w has 2", lambda: twins.row_dots(M23, V2)),
    ("reversed rows", "row stride", lambda: twins.column_sums(M32[::-1])),
    ("columns apart", "unit stride", lambda: twins.column_sums(np.zeros((3, 4))[:, ::2])),
    ("gemm rows", "A has 2 rows", lambda: twins.small_gemm_tn(1.0, M23, M32)),
    ("gemm C", "C has shape", lambda: twins.small_gemm_tn(1.0, M23, M23, 1.0, M23)),
    ("gemm beta without C", "needs C", lambda: twins.small_gemm_tn(1.0, M23, M23, 1.0)),
    ("axpy", "x has 2", lambda: twins.axpy(1.0, V2, V3)),
    ("step grad", "grad has 2", lambda: twins.optimizer_step(V3, V2, V3, V3, "adam", 0.1)),
    ("step moment", "first has 2", lambda: twins.optimizer_step(V3, V3, V2, V3, "adam", 0.1)),
    ("key seed", "seed must be", lambda: twins.dropout_key(2**64, 0, 0)),
    ("key step", "step must be", lambda: twins.dropout_key(0, -1, 0)),
    ("key layer", "layer must be", lambda: twins.dropout_key(0, 0, -1)),
]


@pytest.mark.parametrize("words, call", [case[1:] for case in BAD_CALLS],
                         ids=[case[0] for case in BAD_CALLS])
def test_twins_refuse_bad_arguments(words, call):
    with pytest.raises(ValueError, match=words):
        call()


def test_twins_refuse_mixed_precisions():
    """One precision per call: a float32 bias for float64 Z is refused by the
    memoryviews, never converted."""
    with pytest.raises((TypeError, ValueError)):
        twins.bias_activation(np.zeros((2, 3)), np.zeros(3, np.float32), "tanh")
