"""Divergence: training that blows up stops with a ConvergenceWarning and
keeps the last finite weights (checked at every recorded cost and at the end)."""
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastnn import DeepNetwork, DeepRegressor


def exploding_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5)) * 50
    return X, X[:, 0] * 1000


@pytest.mark.parametrize("cost_every", [5, None])
def test_divergence_keeps_the_last_finite_weights(cost_every):
    X, y = exploding_problem()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((8,), learning_rate=1.0, max_iter=200, cost_every=cost_every,
                              random_state=0).fit(X, y)
    assert model.n_iter_ < 200
    for array in model.coefs_ + model.intercepts_:
        assert np.all(np.isfinite(array))
    assert np.all(np.isfinite(model.costs_))
    assert np.all(np.isfinite(model.predict(X)))
    # The weights kept are those of the epochs counted: training that many
    # epochs from the same start gives the same model.
    if model.n_iter_ > 0:
        again = DeepRegressor((8,), learning_rate=1.0, max_iter=model.n_iter_,
                              cost_every=cost_every, random_state=0).fit(X, y)
        np.testing.assert_array_equal(again.coefs_[0], model.coefs_[0])


def test_divergence_with_threads_and_a_classifier():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 20)) * 1e3
    y = np.arange(400) % 4
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepNetwork((64, 64), activation="identity", learning_rate=10.0, batch_size=200,
                            max_iter=50, cost_every=1, n_threads=2, random_state=0).fit(X, y)
    assert all(np.all(np.isfinite(W)) for W in model.coefs_)


def test_healthy_training_gives_no_warning():
    import warnings
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DeepRegressor((8,), learning_rate=0.01, max_iter=50, random_state=0).fit(X, X[:, 0])
