"""Early stopping (SPEC 6) on a development set."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastnn import DeepNetwork, DeepRegressor
from fastnn import reference as ref

# The learning rates below are for plain gradient descent from the notes'
# start (the defaults before issue 14).
NOTES = dict(optimizer="gd", init="auto")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, test_size=0.3, stratify=y,
                                                      random_state=0)
    scaler = StandardScaler().fit(X_train)
    # A small training part over-fits quickly, so the dev cost turns up.
    return scaler.transform(X_train)[:300], scaler.transform(X_dev), y_train[:300], y_dev


def dev_cost(model, X_dev, y_dev):
    Zs_As = ref.forward(X_dev, model.coefs_, model.intercepts_, model.activation, "softmax")
    Y = model._encode_targets(y_dev).astype(np.float64)
    return ref.cost("cross_entropy", Zs_As[0][-1], Zs_As[1][-1], Y, model.coefs_, 0.0)


def test_early_stopping_restores_the_best_dev_weights(digits):
    X_train, X_dev, y_train, y_dev = digits
    model = DeepNetwork((64,), learning_rate=0.3, batch_size=16, max_iter=200,
                        early_stopping=True, n_iter_no_change=5, random_state=0, **NOTES)
    model.fit(X_train, y_train, dev=(X_dev, y_dev))
    assert model.n_iter_ < 200  # it did stop early
    assert model.n_iter_ == model.best_iteration_ + 1 + 5
    assert len(model.dev_costs_) == model.n_iter_
    assert model.best_iteration_ == int(np.argmin(model.dev_costs_))
    # The returned weights are the best ones: their dev cost is the minimum.
    assert dev_cost(model, X_dev, y_dev) == pytest.approx(model.dev_costs_.min(), rel=1e-10)
    assert dev_cost(model, X_dev, y_dev) < model.dev_costs_[-1]


def test_validation_fraction_is_held_out(digits):
    X_train, _, y_train, _ = digits
    model = DeepNetwork((32,), learning_rate=0.3, batch_size=16, max_iter=100,
                        early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                        random_state=0, **NOTES).fit(X_train, y_train)
    assert model.best_iteration_ == int(np.argmin(model.dev_costs_))
    assert model.n_iter_ <= 100
    # Same seed, same split, same run.
    again = DeepNetwork((32,), learning_rate=0.3, batch_size=16, max_iter=100,
                        early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                        random_state=0, **NOTES).fit(X_train, y_train)
    np.testing.assert_array_equal(again.dev_costs_, model.dev_costs_)


def test_dev_set_without_early_stopping_only_records(digits):
    X_train, X_dev, y_train, y_dev = digits
    model = DeepNetwork((32,), learning_rate=0.1, batch_size=32, max_iter=12, random_state=0,
                        **NOTES)
    model.fit(X_train, y_train, dev=(X_dev, y_dev))
    assert model.n_iter_ == 12 and len(model.dev_costs_) == 12
    assert dev_cost(model, X_dev, y_dev) == pytest.approx(model.dev_costs_[-1], rel=1e-10)


def test_bad_dev_sets_are_refused(digits):
    X_train, X_dev, y_train, y_dev = digits
    model = DeepNetwork((8,), max_iter=2)
    with pytest.raises(ValueError, match="pair"):
        model.fit(X_train, y_train, dev=X_dev)
    with pytest.raises(ValueError, match="features"):
        model.fit(X_train, y_train, dev=(X_dev[:, :5], y_dev))
    with pytest.raises(ValueError, match="labels not seen"):
        model.fit(X_train, y_train, dev=(X_dev, y_dev + 20))


def test_regressor_early_stopping():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X[:, 0] + 0.5 * rng.standard_normal(200)
    model = DeepRegressor((64, 64), learning_rate=0.05, batch_size=8, max_iter=300,
                          early_stopping=True, n_iter_no_change=4, random_state=0,
                          **NOTES).fit(X, y)
    assert model.best_iteration_ == int(np.argmin(model.dev_costs_))
    assert model.n_iter_ < 300
