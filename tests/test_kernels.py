"""The element-wise kernels of csrc/ (fast exp, tanh, sigmoid, softmax, the
losses) against NumPy (tanh and sigmoid in long double), through a one-layer
network whose weights are the identity: Z = X I + 0 = X exactly, so the
output is the kernel applied to X."""
import numpy as np
import pytest

from fastnn import DeepRegressor
from fastnn import reference as ref

# exp's clamp, FNN_EXP_MIN of csrc/fastnn_kernels.c
EXP_MIN = {np.float32: -87.0, np.float64: -708.0}
# Edge values: exact zeros, tiny and huge magnitudes, saturation, and exp's
# clamp at FNN_EXP_MIN (-87 in float32, -708 in float64), reached by tanh at
# |z| = 43.5 and 354 and by sigmoid at z = -87 and -708 (below it sigmoid's
# error is absolute, see test_sigmoid_below_the_exp_clamp).
EDGES = np.array([0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 0.0999999, 0.1, 0.1000001,
                  -0.1, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0, 40.0, -40.0, 43.5, -43.5,
                  87.0, -87.0, 300.0, -300.0, 354.0, -354.0, 700.0, -700.0, 708.0, -708.0,
                  745.0, -745.0, 1e4, -1e4, 1e300, -1e300])
# Where the largest errors were measured, over every float32 input and 4e6
# float64 inputs (csrc/fastnn_math_impl.h): tanh on the x86-64-v3 clone (FMA)
# and the baseline build, then sigmoid on the same two.
WORST = {np.float32: np.array([0.233640939, 0.21996963, -2.74171066, -2.7091918]),
         np.float64: np.array([-0.18200368383717525, 0.21019261195134589, -3.4484039998027072,
                               -3.4654112123988803])}
# The worst error measured there, in ulp of the exact result rounded to the
# dtype (tanh 2.60 / 2.77, sigmoid 2.82 / 2.70 in float32 / float64), rounded
# up: the bound the kernels are held to.
ULP_BOUND = {"tanh": 3, "sigmoid": 3}
# A long double with a longer significand than double (x86: 64 bits) makes
# the float64 reference's own rounding negligible; where long double is
# double, NumPy's float64 reference adds up to about 1 ulp of its own.
WIDE = np.longdouble if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant else np.float64


def kernel_values(output, values, dtype):
    """The network output for a single column of `values` under `output`."""
    X = np.asarray(values, dtype=dtype).reshape(-1, 1)
    if output == "softmax":
        X = np.asarray(values, dtype=dtype).reshape(-1, 4)
    d = X.shape[1]
    model = DeepRegressor((), output=output, max_iter=0,
                          init=([np.eye(d)], [np.zeros(d)])).fit(X, np.zeros((X.shape[0], d)))
    return model.predict(X).reshape(-1), X


def ulp_error(actual, expected, dtype):
    """|actual - expected| in units of the last place of `expected` rounded to
    dtype (below the smallest normal, in units of its spacing: an absolute
    error). `expected` may be float64 or long double; the difference is
    taken in its precision."""
    expected = np.asarray(expected)
    wide = np.longdouble if expected.dtype == np.longdouble else np.float64
    expected = expected.astype(wide)
    spacing = np.spacing(np.abs(expected).astype(dtype)).astype(wide)
    spacing = np.maximum(spacing, wide(np.finfo(dtype).smallest_normal))
    return (np.abs(actual.astype(wide) - expected) / spacing).astype(np.float64)


def exact(output, values):
    """tanh or sigmoid of `values`, computed in WIDE."""
    z = np.asarray(values, dtype=WIDE)
    if output == "tanh":
        return np.tanh(z)
    e = np.exp(-np.abs(z))   # <= 1: no overflow
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sample(output, dtype, n=200000, seed=0):
    """|z| up to 80 (float32) or 700 (float64), magnitudes from 1e-6 to 3,
    the edges the dtype holds (for sigmoid: none below exp's clamp) and the
    measured worst cases."""
    rng = np.random.default_rng(seed)
    limit = 80.0 if dtype == np.float32 else 700.0
    wide = rng.uniform(-limit, limit, n // 2)
    narrow = rng.standard_normal(n // 2) * rng.choice([1e-6, 1e-2, 0.3, 3.0], n // 2)
    edges = EDGES[np.abs(EDGES) <= np.finfo(dtype).max]
    if output == "sigmoid":
        edges = edges[edges >= EXP_MIN[dtype]]
    return np.concatenate([wide, narrow, edges, WORST[dtype]])


@pytest.mark.parametrize("output", ["tanh", "sigmoid"])
def test_tanh_and_sigmoid_within_their_measured_ulp(output, dtype):
    values = sample(output, dtype).astype(dtype)
    actual, X = kernel_values(output, values, dtype)
    assert np.all(np.isfinite(actual))
    error = ulp_error(actual, exact(output, X.reshape(-1)), dtype)
    bound = ULP_BOUND[output] + (1 if dtype == np.float64 and WIDE is np.float64 else 0)
    assert error.max() <= bound


def test_sigmoid_below_the_exp_clamp(dtype):
    """Below FNN_EXP_MIN (-87 in float32, -708 in float64) exp returns
    e^FNN_EXP_MIN: sigmoid(z) is then within that much of its true value (a
    tiny absolute error, not a relative one) and never above it."""
    clamp = EXP_MIN[dtype]
    values = np.concatenate([np.linspace(clamp - 30, clamp, 10001), -np.logspace(3, 30, 50),
                             [-np.finfo(dtype).max]]).astype(dtype)
    actual, X = kernel_values("sigmoid", values, dtype)
    true = exact("sigmoid", X.reshape(-1))
    bound = np.exp(WIDE(clamp)) * (1 + 4 * np.finfo(dtype).eps)
    assert np.all(actual >= 0) and np.all(actual <= bound)
    assert np.all(np.abs(actual - true) <= bound)


def test_softmax_rows_within_a_few_ulp(dtype):
    rng = np.random.default_rng(1)
    values = (rng.standard_normal(4000) * rng.choice([0.1, 5.0, 50.0], 4000)).astype(dtype)
    actual, X = kernel_values("softmax", values, dtype)
    # z - max z is rounded to dtype before exp in any dtype implementation
    # (in float32 that alone is worth ~60 ulp at z - max ~ -60): start there.
    shifted = (X - X.max(axis=1, keepdims=True)).astype(dtype).astype(np.float64)
    expected = ref.activation("softmax", shifted).reshape(-1)
    assert np.all(np.isfinite(actual))
    assert ulp_error(actual, expected, dtype)[expected > 1e-30].max() <= 8


def test_extreme_logits_give_finite_costs():
    """Sigmoid/log-loss and softmax/cross-entropy at logits of +-1e4: the
    core's cost is finite and equals the reference's."""
    from fastnn import DeepNetwork
    X = np.array([[1e4], [-1e4], [1e4], [-1e4]])
    y = np.array([0, 1, 1, 0])
    model = DeepNetwork((1,), activation="identity", max_iter=0,
                        init=([np.ones((1, 1)), np.ones((1, 1))], [np.zeros(1), np.zeros(1)])).fit(X, y)
    cost = model.loss_gradient(X, y)[0]
    expected = ref.cost("log_loss", X, ref.activation("sigmoid", X), y.reshape(-1, 1).astype(float),
                        [np.ones((1, 1)), np.ones((1, 1))])
    assert np.isfinite(cost) and cost == pytest.approx(expected, rel=1e-12)
    y3 = np.array([0, 1, 2, 1])
    X3 = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, 0.0, 1e4], [1e4, 0.0, -1e4]])
    softmax = DeepNetwork((3,), activation="identity", max_iter=0,
                          init=([np.eye(3), np.eye(3)], [np.zeros(3), np.zeros(3)])).fit(X3, y3)
    Y = np.eye(3)[y3]
    expected = ref.cost("cross_entropy", X3, ref.activation("softmax", X3), Y, [np.eye(3), np.eye(3)])
    assert softmax.loss_gradient(X3, y3)[0] == pytest.approx(expected, rel=1e-12)
