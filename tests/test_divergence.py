"""Divergence: training that blows up stops with a ConvergenceWarning and
keeps the last finite weights (checked at every recorded cost and at the end)."""
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastnn import DeepNetwork, DeepRegressor

# The notes' batch gradient descent (the defaults before issue 14): these
# runs are meant to blow up, which Adam's bounded steps would not.
NOTES = dict(optimizer="gd", batch_size=None, init="auto")


def exploding_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5)) * 50
    return X, X[:, 0] * 1000


@pytest.mark.parametrize("cost_every", [5, None])
def test_divergence_keeps_the_last_finite_weights(cost_every):
    X, y = exploding_problem()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((8,), **NOTES, learning_rate=1.0, max_iter=200, cost_every=cost_every,
                              random_state=0).fit(X, y)
    assert model.n_iter_ < 200
    for array in model.coefs_ + model.intercepts_:
        assert np.all(np.isfinite(array))
    assert np.all(np.isfinite(model.costs_))
    assert np.all(np.isfinite(model.predict(X)))
    # The weights kept are those of the epochs counted: training that many
    # epochs from the same start gives the same model.
    if model.n_iter_ > 0:
        again = DeepRegressor((8,), **NOTES, learning_rate=1.0, max_iter=model.n_iter_,
                              cost_every=cost_every, random_state=0).fit(X, y)
        np.testing.assert_array_equal(again.coefs_[0], model.coefs_[0])


def test_divergence_with_threads_and_a_classifier():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 20)) * 1e3
    y = np.arange(400) % 4
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepNetwork((64, 64), activation="identity", optimizer="gd", init="auto",
                            learning_rate=10.0, batch_size=200,
                            max_iter=50, cost_every=1, n_threads=2, random_state=0).fit(X, y)
    assert all(np.all(np.isfinite(W)) for W in model.coefs_)


def test_healthy_training_gives_no_warning():
    import warnings
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DeepRegressor((8,), **NOTES, learning_rate=0.01, max_iter=50,
                      random_state=0).fit(X, X[:, 0])


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
        model = DeepRegressor((), optimizer="gd", init="auto", learning_rate=1.0, max_iter=400,
                              cost_every=cost_every,
                              batch_size=batch_size, shuffle=False, random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))
    cost, coef_grads, _ = model.loss_gradient(X, y)
    assert np.isfinite(cost) and np.all(np.isfinite(coef_grads[0]))


def test_divergence_is_caught_when_early_stopping_ends_training():
    # cost_every=None: no recorded cost ever checked the weights; the dev cost
    # went NaN and early stopping quietly restored an early epoch.
    X, y = linear_blow_up()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((), **NOTES, learning_rate=1.0, max_iter=400, cost_every=None,
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
            model = DeepRegressor((), **NOTES, learning_rate=1.0, max_iter=10**8, cost_every=None,
                                  random_state=0).fit(X, y)
    finally:
        timer.cancel()
    messages = " ".join(str(w.message) for w in caught)
    assert "interrupted" in messages and "diverged" in messages
    assert np.all(np.isfinite(model.coefs_[0])) and np.all(np.isfinite(model.predict(X)))


def nan_behind_a_dead_relu_unit(big=1.5e307):
    """A 1-2-1 relu regressor whose weights go NaN a few epochs in while
    every cost stays finite. Unit 0 is linear on the data (z = x + 10 > 0);
    unit 1 is dead on every row (z = -1) with a huge outgoing weight. Batch
    gradient descent at a learning rate slightly too large makes the error
    grow; once error * big overflows, unit 1's gradient is inf * relu'(-1) =
    inf * 0 = NaN, and relu(NaN) = 0 hides its NaN weights from every cost.
    Unit 0 then settles down: the dev cost improves again."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 1))
    coefs = [np.array([[1.0, 0.0]]), np.array([[0.1], [big]])]
    intercepts = [np.array([10.0, -1.0]), np.array([0.0])]
    return X, X[:, 0], (coefs, intercepts)


def test_early_stopping_stops_when_the_weights_go_nan_behind_a_finite_dev_cost():
    # Issue 14, point 4: with early_stopping=True and the default cost_every
    # (no recorded cost between epochs 1 and 99), the weights went NaN at
    # epoch 4 and training went on to max_iter; the dev cost, finite and
    # improving again, made an epoch after the NaN the best, and the model
    # was left holding NaN weights.
    X, y, init = nan_behind_a_dead_relu_unit()
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = DeepRegressor((2,), init=init, optimizer="gd", batch_size=None,
                              learning_rate=0.03, max_iter=100, early_stopping=True,
                              random_state=0).fit(X, y)
    # stopped at the epoch the weights went NaN (epoch 4: five epochs run)
    assert model.n_iter_ == 5 and len(model.dev_costs_) == 5
    assert np.all(np.isfinite(model.dev_costs_))
    assert model.best_iteration_ < 4
    for array in model.coefs_ + model.intercepts_:
        assert np.all(np.isfinite(array))
    # the weights kept are those of the best epoch before the NaN
    again = DeepRegressor((2,), init=init, optimizer="gd", batch_size=None, learning_rate=0.03,
                          max_iter=model.best_iteration_ + 1, early_stopping=True,
                          random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.coefs_[0], model.coefs_[0])


def test_early_stopping_warns_when_every_epoch_made_the_model_worse():
    # Issue 14, point 4: a blow-up that stays finite for n_iter_no_change
    # epochs (the weights grow ~1e8-fold an epoch here, NaN a few epochs
    # later without early stopping): early stopping gave up after 11 epochs
    # and quietly restored epoch 0's weights, whose dev cost was already
    # 1e5 times that of the weights it started from.
    X, y = linear_blow_up()
    with pytest.warns(ConvergenceWarning, match="made no progress") as caught:
        model = DeepRegressor((), optimizer="gd", batch_size=None, learning_rate=1.0,
                              max_iter=400, early_stopping=True, random_state=0).fit(X, y)
    assert "smaller learning_rate" in str(caught[0].message)
    assert model.best_iteration_ == 0 and model.n_iter_ == 11
    assert np.all(np.diff(model.dev_costs_) > 0)


def test_early_stopping_that_improves_gives_no_warning():
    import warnings
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DeepRegressor((8,), max_iter=300, early_stopping=True, random_state=0).fit(X, X[:, 0])
