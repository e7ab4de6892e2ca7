"""fastnn.MLPClassifier / MLPRegressor against scikit-learn's: with the same
parameters and random_state, float64, the same weights (within 1e-9
relative after 8 epochs), the same stopping epoch under every stopping rule,
the same L-BFGS loss, and the same fitted attributes."""
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn import neural_network as sk
from sklearn.datasets import (
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning

import fastnn

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
SGD_VARIANTS = {
    "plain": dict(solver="sgd", momentum=0.0),
    "momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "invscaling": dict(solver="sgd", learning_rate="invscaling", power_t=0.3,
                       learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}


def data(task, n=157, seed=0):
    if task == "binary":
        return make_classification(n, 6, n_informative=4, random_state=seed)
    if task == "multiclass":
        return make_classification(n, 6, n_informative=4, n_classes=3, random_state=seed)
    if task == "multilabel":
        return make_multilabel_classification(n, 6, n_classes=3, random_state=seed)
    if task == "regression":
        X, y = make_regression(n, 6, noise=1.0, random_state=seed)
        return X, y / y.std()
    if task == "multioutput":
        X, y = make_regression(n, 6, n_targets=3, noise=1.0, random_state=seed)
        return X, y / y.std(axis=0)
    if task == "poisson":
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, 6))
        return X, rng.poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)).astype(float)
    raise ValueError(task)


def estimators(task, **params):
    if task in ("binary", "multiclass", "multilabel"):
        return sk.MLPClassifier(**params), fastnn.MLPClassifier(**params)
    if task == "poisson":
        params = dict(params, loss="poisson")
    return sk.MLPRegressor(**params), fastnn.MLPRegressor(**params)


def fit_both(task, X=None, y=None, fit_kwargs=None, **params):
    if X is None:
        X, y = data(task)
    theirs, ours = estimators(task, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y, **(fit_kwargs or {}))
        ours.fit(X, y, **(fit_kwargs or {}))
    return theirs, ours


def weight_error(theirs, ours):
    """Largest relative error over the layers' weights and intercepts."""
    errors = []
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        errors.append(np.max(np.abs(a - b)) / np.max(np.abs(b)))
    return max(errors)


def assert_same_fit(theirs, ours, tolerance=1e-9):
    assert weight_error(theirs, ours) < tolerance
    assert ours.n_iter_ == theirs.n_iter_
    assert getattr(ours, "t_", None) == getattr(theirs, "t_", None)
    for name in ("out_activation_", "n_layers_", "n_outputs_", "n_features_in_"):
        assert getattr(ours, name) == getattr(theirs, name)
    if hasattr(theirs, "loss_curve_"):
        # The losses agree to rounding but where scikit-learn clips a saturated
        # probability to [eps, 1 - eps] (|logit| > 36) and fastnn takes the
        # exact log-loss of the logit: a few 1e-9 of the loss, not of the weights.
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)
        if theirs.best_loss_ is None:
            assert ours.best_loss_ is None
        else:
            assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-7)


@pytest.mark.parametrize("variant", SGD_VARIANTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel", "regression",
                                  "multioutput"])
def test_eight_epochs_give_scikit_learns_weights(task, activation, variant):
    params = dict(hidden_layer_sizes=(7, 5), activation=activation, batch_size=32, max_iter=8,
                  alpha=1e-3, random_state=0, **SGD_VARIANTS[variant])
    if activation == "identity" and variant != "adam":
        params["learning_rate_init"] = 0.002   # a linear stack overflows at these rates
    theirs, ours = fit_both(task, **params)
    assert ours.n_iter_ == 8
    assert_same_fit(theirs, ours)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_poisson_regression_gives_scikit_learns_weights(solver):
    theirs, ours = fit_both("poisson", hidden_layer_sizes=(6,), activation="tanh", solver=solver,
                            batch_size=20, max_iter=8, learning_rate_init=0.01, random_state=1)
    assert_same_fit(theirs, ours)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_tol_rule_stops_at_scikit_learns_epoch(task):
    theirs, ours = fit_both(task, hidden_layer_sizes=(8,), max_iter=400, learning_rate_init=0.01,
                            tol=1e-3, random_state=3)
    assert theirs.n_iter_ < 400            # the rule stopped it
    assert_same_fit(theirs, ours, 1e-8)
    assert ours._no_improvement_count == theirs._no_improvement_count


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_adaptive_learning_rate_follows_scikit_learn(task):
    theirs, ours = fit_both(task, hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive",
                            learning_rate_init=0.05, tol=1e-3, n_iter_no_change=3, max_iter=300,
                            random_state=2)
    assert theirs._optimizer.learning_rate < 0.05     # the rate was cut at least once
    assert ours._optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate)
    assert_same_fit(theirs, ours, 1e-8)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel", "regression"])
def test_validation_score_early_stopping_follows_scikit_learn(task):
    theirs, ours = fit_both(task, hidden_layer_sizes=(8,), early_stopping=True,
                            validation_fraction=0.2, n_iter_no_change=4, max_iter=300,
                            learning_rate_init=0.01, random_state=4)
    assert theirs.n_iter_ < 300
    assert_same_fit(theirs, ours, 1e-8)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-8)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-8)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "multioutput",
                                  "poisson"])
def test_lbfgs_reaches_scikit_learns_loss(task, activation):
    theirs, ours = fit_both(task, hidden_layer_sizes=(9,), solver="lbfgs", activation=activation,
                            max_iter=60, random_state=5)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_sample_weight_follows_scikit_learn(task, solver):
    X, y = data(task)
    weights = np.random.default_rng(0).integers(1, 4, len(X)).astype(float)
    theirs, ours = fit_both(task, X, y, dict(sample_weight=weights), hidden_layer_sizes=(6,),
                            solver=solver, batch_size=25, max_iter=8, learning_rate_init=0.01,
                            random_state=6)
    if solver == "lbfgs":
        assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    else:
        assert_same_fit(theirs, ours)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_and_warm_start_follow_scikit_learn(solver):
    X, y = data("multiclass")
    theirs, ours = estimators("multiclass", hidden_layer_sizes=(6,), solver=solver,
                              batch_size=30, learning_rate_init=0.01, random_state=7)
    for _ in range(3):
        theirs.partial_fit(X, y, classes=np.unique(y))
        ours.partial_fit(X, y, classes=np.unique(y))
    assert_same_fit(theirs, ours)
    theirs.set_params(warm_start=True, max_iter=4)
    ours.set_params(warm_start=True, max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
    assert_same_fit(theirs, ours)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
@pytest.mark.parametrize("layout", [scipy.sparse.csr_matrix, scipy.sparse.csc_matrix,
                                    scipy.sparse.csr_array])
def test_sparse_input_equals_the_same_data_dense(task, solver, layout):
    X, y = data(task)
    X[np.abs(X) < 0.8] = 0.0
    dense = estimators(task, hidden_layer_sizes=(6,), solver=solver, batch_size=25, max_iter=8,
                       random_state=8)[1]
    sparse = estimators(task, hidden_layer_sizes=(6,), solver=solver, batch_size=25, max_iter=8,
                        random_state=8)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
        sparse.fit(layout(X), y)
    assert weight_error(dense, sparse) < 1e-10
    np.testing.assert_allclose(sparse.predict(layout(X)), dense.predict(X), rtol=1e-10)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_float32_trains_in_float32(task):
    X, y = data(task)
    theirs, ours = fit_both(task, X.astype(np.float32), y, hidden_layer_sizes=(6,), max_iter=8,
                            batch_size=30, learning_rate_init=0.01, random_state=9)
    assert all(W.dtype == np.float32 for W in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X.astype(np.float32)).dtype == np.float32 if task == "binary" \
        else ours.predict(X.astype(np.float32)).dtype == np.float32
    assert weight_error(theirs, ours) < 1e-4


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_float32_lbfgs_follows_scikit_learns_float32_fit(task, monkeypatch):
    """SciPy hands the objective float32 parameters for a float32 start, so
    scikit-learn's float32 L-BFGS evaluates in float32, and so does fastnn's.
    Over many iterations float32 rounding steers the two apart; the first
    ones agree. (scikit-learn ends with float64 weights, fastnn keeps X's
    dtype.)"""
    from fastnn import _mlp_solvers
    evaluated = []

    def recording(stack, params, X, *args):
        evaluated.append((params.dtype, X.dtype))
        return loss_gradient(stack, params, X, *args)

    loss_gradient = _mlp_solvers.core.loss_gradient
    monkeypatch.setattr(_mlp_solvers.core, "loss_gradient", recording)
    X, y = data(task)
    theirs, ours = fit_both(task, X.astype(np.float32), y, hidden_layer_sizes=(9,),
                            solver="lbfgs", max_iter=3, random_state=5)
    assert evaluated and set(evaluated) == {(np.dtype(np.float32), np.dtype(np.float32))}
    assert all(W.dtype == np.float32 for W in ours.coefs_ + ours.intercepts_)
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    for mine, their in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert np.max(np.abs(mine - their)) < 2e-6 * np.max(np.abs(their))


def test_parameters_and_constraints_are_scikit_learns():
    for theirs, ours in [(sk.MLPClassifier, fastnn.MLPClassifier),
                         (sk.MLPRegressor, fastnn.MLPRegressor)]:
        assert theirs().get_params() == ours().get_params()
        assert set(theirs._parameter_constraints) == set(ours._parameter_constraints)
        for name, constraints in theirs._parameter_constraints.items():
            assert [described(c) for c in constraints] == \
                [described(c) for c in ours._parameter_constraints[name]], name


def described(constraint):
    """A constraint as comparable text (a StrOptions' set has no order)."""
    options = getattr(constraint, "options", None)
    return sorted(map(str, options)) if options is not None else str(constraint)


def test_predictions_equal_scikit_learns():
    X, y = data("multiclass")
    theirs, ours = fit_both("multiclass", hidden_layer_sizes=(6,), max_iter=8, random_state=10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_log_proba(X), theirs.predict_log_proba(X), rtol=1e-9)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y) == theirs.score(X, y)


def test_the_epoch_shuffle_draws_scikit_learns_permutations():
    from sklearn.utils import shuffle

    from fastnn._mlp_solvers import scikit_learn_shuffle
    ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
    order_ours = order_theirs = np.arange(101)
    for _ in range(5):
        order_ours = scikit_learn_shuffle(order_ours, ours)
        order_theirs = shuffle(order_theirs, random_state=theirs)
        assert np.array_equal(order_ours, order_theirs)
    assert ours.randint(2**31) == theirs.randint(2**31)   # the streams advanced alike
