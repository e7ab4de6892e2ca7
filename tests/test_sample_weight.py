"""sample_weight: the weighted mean of the loss and its gradient, in the core."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression

from conftest import relative_error


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    weights = rng.integers(0, 4, size=40)
    weights[0] = 3
    return X, y, weights


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("make", [
    lambda **kw: LogisticRegression(**kw),
    lambda **kw: DeepNetwork((6, 4), activation="tanh", random_state=0, **kw),
    lambda **kw: DeepRegressor((6,), output="sigmoid", random_state=0, **kw),
], ids=["logistic", "network", "regressor"])
def test_integer_weights_equal_repeated_rows(make, optimizer, dtype):
    X, y, weights = data()
    settings = dict(learning_rate=0.05, max_iter=30, l2=0.1, optimizer=optimizer, cost_every=5)
    weighted = make(**settings).fit(X.astype(dtype), y, sample_weight=weights)
    repeated = make(**settings).fit(np.repeat(X, weights, axis=0).astype(dtype),
                                    np.repeat(y, weights))
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_):
        assert relative_error(a, b) < tolerance
    np.testing.assert_allclose(weighted.costs_, repeated.costs_, rtol=tolerance)


def test_unit_weights_change_nothing_in_mini_batches():
    X, y, _ = data()
    settings = dict(learning_rate=0.05, max_iter=5, batch_size=7, shuffle=True, random_state=1)
    plain = DeepNetwork((5,), **settings).fit(X, y)
    ones = DeepNetwork((5,), **settings).fit(X, y, sample_weight=np.ones(40))
    for a, b in zip(plain.coefs_, ones.coefs_):
        assert relative_error(b, a) < 1e-12


def test_zero_weight_rows_are_ignored():
    X, y, _ = data()
    weights = np.ones(40)
    weights[::3] = 0
    kept = weights > 0
    with_zeros = LogisticRegression(max_iter=50).fit(X, y, sample_weight=weights)
    without = LogisticRegression(max_iter=50).fit(X[kept], y[kept])
    assert relative_error(with_zeros.coefs_[0], without.coefs_[0]) < 1e-10


@pytest.mark.parametrize("weights, fragment", [
    (-np.ones(40), "Negative values"), (np.zeros(40), "non-zero"), (np.ones(39), "sample_weight")])
def test_bad_weights_are_refused(weights, fragment):
    X, y, _ = data()
    with pytest.raises(ValueError, match=fragment):
        LogisticRegression().fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("keep_prob", [1.0, 0.7], ids=["no dropout", "dropout"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_batch_of_zero_weights_is_no_batch(n_threads, keep_prob):
    # Rows of weight 0 count as absent: a mini-batch made only of them takes
    # no step (it divided by 0 and the whole fit "diverged"). Nor does it use
    # up a step's dropout masks (reference.dropout_key counts steps taken).
    X, y, _ = data()
    weights = np.ones(40)
    weights[10:20] = 0
    settings = dict(max_iter=5, batch_size=10, shuffle=False, optimizer="adam",
                    learning_rate=0.05, cost_every=1, n_threads=n_threads, random_state=0,
                    keep_prob=keep_prob)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        weighted = DeepNetwork((5,), **settings).fit(X, y, sample_weight=weights)
    kept = weights > 0
    absent = DeepNetwork((5,), **settings).fit(X[kept], y[kept])
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, absent.coefs_ + absent.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert weighted._training_state.steps == absent._training_state.steps == 15
    np.testing.assert_allclose(weighted.costs_, absent.costs_, rtol=1e-12)


def test_shuffled_batches_of_zero_weights_take_no_step():
    X, y, _ = data()
    weights = np.zeros(40)
    weights[:3] = 1  # most batches of 2 hold only zero weights
    model = DeepNetwork((5,), max_iter=3, batch_size=2, optimizer="adam", cost_every=1,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y, sample_weight=weights)
    assert np.all(np.isfinite(model.costs_))
    assert 3 <= model._training_state.steps <= 9   # at most 3 batches per epoch hold a weighted row
