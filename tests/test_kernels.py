"""The element-wise kernels of csrc/ (fast exp, tanh, sigmoid, softmax, the
losses) against NumPy, through a one-layer network whose weights are the
identity: Z = X I + 0 = X exactly, so the output is the kernel applied to X."""
import numpy as np
import pytest

from fastnn import DeepRegressor
from fastnn import reference as ref

# Values that reach every branch: the tanh series (|z| < 0.1) and its
# switch-over, exp's clamp, tiny and huge magnitudes, exact zeros.
EDGES = np.array([0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 0.0999999, 0.1, 0.1000001,
                  -0.1, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0, 40.0, -40.0, 300.0, -300.0,
                  700.0, -700.0, 745.0, -745.0, 1e4, -1e4, 1e300, -1e300])


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
    """|actual - expected| in units of the last place of `expected` (in dtype)."""
    expected = np.asarray(expected, dtype=np.float64)
    spacing = np.spacing(np.abs(expected).astype(dtype)).astype(np.float64)
    spacing = np.maximum(spacing, np.finfo(dtype).smallest_normal)
    return np.abs(actual.astype(np.float64) - expected) / spacing


def sample(dtype, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    limit = 80.0 if dtype == np.float32 else 700.0
    wide = rng.uniform(-limit, limit, n // 2)
    narrow = rng.standard_normal(n // 2) * rng.choice([1e-6, 1e-2, 0.3, 3.0], n // 2)
    return np.concatenate([wide, narrow, EDGES[np.abs(EDGES) < (1e30 if dtype == np.float64 else 1e30)]])


@pytest.mark.parametrize("output, exact", [("tanh", np.tanh),
                                           ("sigmoid", lambda z: ref.activation("sigmoid", z))])
def test_tanh_and_sigmoid_within_a_few_ulp(output, exact, dtype):
    values = sample(dtype)
    with np.errstate(over="ignore"):
        values = values.astype(dtype)
    actual, X = kernel_values(output, values, dtype)
    expected = exact(X.astype(np.float64).reshape(-1))
    assert np.all(np.isfinite(actual))
    assert ulp_error(actual, expected, dtype).max() <= 4


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
