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


def linear_blow_up():
    """Least squares on large inputs at a learning rate far too big: the
    weights grow by orders of magnitude every step until they overflow."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 4)) * 30
    return X, X @ np.arange(1.0, 5.0)


@pytest.mark.parametrize("cost_every, batch_size", [(1, None), (3, None), (1, 16), (None, None)])
def test_the_weights_kept_are_judged_by_their_own_cost(cost_every, batch_size):
    # Once the snapshot was taken after the step but judged by the cost
    # before it: the weights kept (~1e299) gave NaN on every row.
    X, y = linear_blow_up()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((), learning_rate=1.0, max_iter=400, cost_every=cost_every,
                              batch_size=batch_size, shuffle=False, random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))
    cost, coef_grads, _ = model.loss_gradient(X, y)
    assert np.isfinite(cost) and np.all(np.isfinite(coef_grads[0]))


def test_divergence_is_caught_when_early_stopping_ends_training():
    # cost_every=None: no recorded cost ever checked the weights; the dev cost
    # went NaN and early stopping quietly restored an early epoch.
    X, y = linear_blow_up()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((), learning_rate=1.0, max_iter=400, cost_every=None,
                              early_stopping=True, n_iter_no_change=100,
                              random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.coefs_[0]))
    assert np.all(np.isfinite(model.predict(X)))
    # the dev cost of the last epoch counted shows the blow-up
    assert not np.isfinite(model.dev_costs_[-1])


def test_divergence_is_caught_when_ctrl_c_ends_training(ctrl_c_raises):
    import signal
    import threading
    X, y = linear_blow_up()
    main = threading.get_ident()
    # A real Ctrl-C, taken at an epoch boundary of a long diverged run
    # (cost_every=None: no check on the way).
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.warns(UserWarning) as caught:
            model = DeepRegressor((), learning_rate=1.0, max_iter=10**8, cost_every=None,
                                  random_state=0).fit(X, y)
    finally:
        timer.cancel()
    messages = " ".join(str(w.message) for w in caught)
    assert "interrupted" in messages and "diverged" in messages
    assert np.all(np.isfinite(model.coefs_[0])) and np.all(np.isfinite(model.predict(X)))
