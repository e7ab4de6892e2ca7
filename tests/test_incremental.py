"""partial_fit and warm_start: calls in sequence train like one long fit."""
import numpy as np
import pytest

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression

from conftest import relative_error


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    y = np.argmax(X[:, :3] + 0.3 * rng.standard_normal((n, 3)), axis=1)
    return X, y


def assert_same_model(a, b, tolerance):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert relative_error(x, y) < tolerance


@pytest.mark.parametrize("optimizer", ["gd", "adam", "momentum"])
def test_partial_fit_over_chunks_equals_fit_with_the_same_batches(optimizer):
    X, y = data()
    settings = dict(learning_rate=0.05, optimizer=optimizer, random_state=3, cost_every=1)
    whole = DeepNetwork((8,), batch_size=20, max_iter=1, shuffle=False, **settings).fit(X, y)
    chunked = DeepNetwork((8,), batch_size=None, **settings)
    for start in range(0, 200, 20):
        chunked.partial_fit(X[start:start + 20], y[start:start + 20], classes=[0, 1, 2])
    assert_same_model(chunked, whole, 1e-10)
    assert chunked.n_iter_ == 10
    assert chunked.costs_.shape == (10,)


def test_partial_fit_needs_every_class_up_front():
    X, y = data()
    model = DeepNetwork((4,), max_iter=1)
    model.partial_fit(X[:10], np.zeros(10, dtype=int), classes=[0, 1, 2])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    model.partial_fit(X[10:20], np.full(10, 2))
    with pytest.raises(ValueError, match="labels not seen in fit"):
        model.partial_fit(X[20:30], np.full(10, 5))
    with pytest.raises(ValueError, match="labels not in classes"):
        DeepNetwork((4,)).partial_fit(X[:10], np.arange(10) % 3, classes=[0, 1])


CONFLICTING_CLASSES = {
    "a superset": [0, 1, 2, 3],
    "a subset": [0, 1],
    "other labels": [1, 2, 3],
    "the labels as strings": ["0", "1", "2"],
    "numbers and strings mixed": [0, 1, "2"],
    "a 2-D array": np.array([[0, 1], [2, 2]]),
}


@pytest.mark.parametrize("how", ["partial_fit", "fit", "load"])
@pytest.mark.parametrize("classes", list(CONFLICTING_CLASSES.values()),
                         ids=list(CONFLICTING_CLASSES))
def test_partial_fit_refuses_classes_that_conflict_with_the_first_call(classes, how, tmp_path):
    # Issue 14, point 4: as scikit-learn's _check_partial_fit_first_call, a
    # later `classes` must be the labels the model was set up with. (A 2-D
    # array, np.unique flattened, was taken as the set of its entries.)
    import fastnn
    X, y = data(60)
    if how == "fit":
        model = DeepNetwork((4,), max_iter=2, random_state=0).fit(X, y)
    else:
        model = DeepNetwork((4,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    if how == "load":
        model.save(tmp_path / "model.npz")
        model = fastnn.load(tmp_path / "model.npz")
    coefs = [W.copy() for W in model.coefs_]
    with pytest.raises(ValueError):
        model.partial_fit(X, y, classes=classes)
    for W, before in zip(model.coefs_, coefs):
        np.testing.assert_array_equal(W, before)
    model.partial_fit(X, y, classes=[2, 0, 1, 1])   # the same labels, in any order
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


@pytest.mark.parametrize("classes", [np.array([[0, 1], [2, 2]]), [0, 1, "2"]],
                         ids=["2-D", "mixed types"])
def test_a_first_call_reads_classes_as_scikit_learn_does(classes):
    X, y = data(60)
    with pytest.raises(ValueError):
        DeepNetwork((4,), random_state=0).partial_fit(X, y, classes=classes)


def test_logistic_regression_partial_fit_refuses_other_classes():
    X, y = data(60)
    y = (y > 0).astype(int)
    model = LogisticRegression().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X, y, classes=[1, 2])


@pytest.mark.parametrize("optimizer", ["gd", "rmsprop"])
def test_warm_start_continues_like_one_long_fit(optimizer):
    X, y = data()
    settings = dict(learning_rate=0.05, batch_size=32, shuffle=True, optimizer=optimizer,
                    learning_rate_schedule="inverse", decay_rate=0.1, random_state=5,
                    cost_every=3)
    long_fit = DeepNetwork((8, 5), max_iter=20, **settings).fit(X, y)
    halves = DeepNetwork((8, 5), max_iter=10, warm_start=True, **settings).fit(X, y).fit(X, y)
    assert_same_model(halves, long_fit, 1e-10)
    assert halves.n_iter_ == 20
    np.testing.assert_allclose(halves.costs_, long_fit.costs_, rtol=1e-10)
    cold = DeepNetwork((8, 5), max_iter=10, **settings).fit(X, y).fit(X, y)
    assert cold.n_iter_ == 10


def test_warm_start_refuses_other_layers():
    X, y = data()
    model = DeepNetwork((8,), max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="cannot continue training"):
        model.set_params(hidden_layer_sizes=(9,)).fit(X, y)


def test_regressor_and_logistic_partial_fit():
    X, y = data()
    target = X[:, 0] - 2 * X[:, 1]
    regressor = DeepRegressor((8,), learning_rate=0.05, batch_size=20, random_state=0)
    for epoch in range(30):
        regressor.partial_fit(X, target)
    assert regressor.score(X, target) > 0.9
    binary = LogisticRegression()
    binary.partial_fit(X[:50], (y[:50] == 0), classes=[False, True])
    binary.partial_fit(X[50:], (y[50:] == 0))
    assert binary.n_iter_ == 2


def test_failed_partial_fit_leaves_the_model_and_its_streams_unchanged():
    X, y = data()
    model = DeepNetwork((6,), batch_size=16, shuffle=True, random_state=0)
    model.partial_fit(X, y)
    state = (model.coefs_[0].copy(), model.n_iter_, model._training_state.steps,
             model._training_state.shuffle_stream.state, model._training_state.order.copy())
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :4], y)
    with pytest.raises(ValueError, match="labels not seen"):
        model.partial_fit(X, y + 7)
    np.testing.assert_array_equal(model.coefs_[0], state[0])
    assert (model.n_iter_, model._training_state.steps) == state[1:3]
    assert model._training_state.shuffle_stream.state == state[3]
    np.testing.assert_array_equal(model._training_state.order, state[4])
    # and the next call goes on exactly as if the failures had not happened
    again = DeepNetwork((6,), batch_size=16, shuffle=True, random_state=0)
    again.partial_fit(X, y)
    again.partial_fit(X, y)
    model.partial_fit(X, y)
    assert_same_model(model, again, 0.0 + 1e-15)
