"""The optimisers of the compiled core (SPEC 10) against fastnn.reference,
and scikit-learn's three (heavy_ball, nesterov, adam_step_corrected) against
scikit-learn's own optimizer objects."""
import numpy as np
import pytest
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork
from fastnn import reference as ref
from fastnn._core import twins
from fastnn._random import training_generators

from conftest import relative_error

OPTIMIZERS = {
    "gd": {},
    "momentum": dict(momentum=0.8),
    "rmsprop": dict(beta_2=0.99, epsilon=1e-6),
    "adam": dict(beta_1=0.85, beta_2=0.995, epsilon=1e-7),
    "heavy_ball": dict(momentum=0.8),
    "nesterov": dict(momentum=0.8),
    "adam_step_corrected": dict(beta_1=0.85, beta_2=0.995, epsilon=1e-7),
}
SKLEARN_RULES = ("heavy_ball", "nesterov", "adam_step_corrected")


def reference_train(model, start, X, y, **settings):
    output, loss = model._output_activation_and_loss(model.coefs_[-1].shape[1])
    batch_size = settings["batch_size"]
    shuffle = settings.get("shuffle", False)
    return ref.train(
        X, model._encode_targets(y).astype(np.float64), start.coefs_, start.intercepts_,
        hidden_activation=model.activation, output_activation=output, loss=loss,
        learning_rate=settings["learning_rate"], max_iter=settings["max_iter"],
        batch_size=batch_size, shuffle=shuffle,
        bit_generator=training_generators(settings["random_state"])[1] if shuffle else None,
        l2=settings.get("l2", 0.0), cost_every=1, optimizer=model.optimizer,
        momentum=model.momentum, beta_1=model.beta_1, beta_2=model.beta_2, epsilon=model.epsilon,
        decay_rate=model.decay_rate if model.learning_rate_schedule == "inverse" else 0.0)


@pytest.mark.parametrize("schedule", ["constant", "inverse"])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_optimizer_trajectory_equals_reference(optimizer, n_threads, schedule):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((57, 5))
    y = np.arange(57) % 3
    settings = dict(learning_rate=0.01, max_iter=20, batch_size=10, shuffle=True, l2=0.05,
                    random_state=1)
    model = DeepNetwork((7, 6), activation="tanh", optimizer=optimizer, n_threads=n_threads,
                        learning_rate_schedule=schedule, decay_rate=0.3, cost_every=1,
                        **OPTIMIZERS[optimizer], **settings)
    start = DeepNetwork((7, 6), activation="tanh", max_iter=0, random_state=1).fit(X, y)
    model.fit(X, y)
    coefs, intercepts, costs = reference_train(model, start, X, y, **settings)
    for actual, expected in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
        assert relative_error(actual, expected) < 1e-9
    np.testing.assert_allclose(model.costs_, costs, rtol=1e-9)


def test_optimizers_differ_and_adam_converges_on_logistic_regression(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    weights = {}
    for optimizer in OPTIMIZERS:
        model = LogisticRegression(optimizer=optimizer, learning_rate=0.01, max_iter=200,
                                   batch_size=32, random_state=0).fit(X_train, y_train)
        weights[optimizer] = model.coefs_[0]
        assert model.score(X_test, y_test) >= 0.95
    for a in OPTIMIZERS:
        for b in OPTIMIZERS:
            # The two adams differ only in where epsilon sits (sqrt(v_hat) +
            # epsilon against sqrt(v) + epsilon): at epsilon 1e-8, by far less
            # than allclose sees (test_the_two_adams_differ_in_epsilon_alone).
            if a < b and {a, b} != {"adam", "adam_step_corrected"}:
                assert not np.allclose(weights[a], weights[b]), (a, b)


def test_the_two_adams_differ_in_epsilon_alone(breast_cancer):
    """adam_step_corrected is adam with epsilon scaled by sqrt(1 - beta_2^t)
    (lr_t m / (sqrt(v) + eps) = lr m_hat / (sqrt(v_hat) + eps / sqrt(1 - beta_2^t))):
    close where epsilon is negligible, apart where it is not."""
    X_train, _, y_train, _ = breast_cancer
    settings = dict(learning_rate=0.01, max_iter=20, batch_size=32, random_state=0)
    for epsilon, close in ((1e-12, True), (1e-1, False)):
        weights = [LogisticRegression(optimizer=kind, epsilon=epsilon, **settings)
                   .fit(X_train, y_train).coefs_[0]
                   for kind in ("adam", "adam_step_corrected")]
        assert np.allclose(*weights, rtol=1e-6, atol=0) == close


def test_bad_optimizer_settings_are_refused():
    X = np.random.default_rng(0).standard_normal((10, 2))
    y = np.arange(10) % 2
    for params, fragment in [(dict(optimizer="sgd"), "'optimizer' parameter"),
                             (dict(beta_1=1.0), "'beta_1' parameter"),
                             (dict(epsilon=0.0), "'epsilon' parameter"),
                             (dict(learning_rate_schedule="step"), "'learning_rate_schedule'"),
                             (dict(decay_rate=-1.0), "'decay_rate' parameter")]:
        with pytest.raises(ValueError, match=fragment):
            LogisticRegression(**params).fit(X, y)


# -- scikit-learn's rules against scikit-learn's optimizer objects -----------

def sklearn_optimizer(kind, params, learning_rate, momentum, beta_1, beta_2, epsilon):
    if kind == "adam_step_corrected":
        return AdamOptimizer(params, learning_rate, beta_1, beta_2, epsilon)
    return SGDOptimizer(params, learning_rate, "constant", momentum,
                        nesterov=kind == "nesterov")


def sklearn_moments(kind, optimizer):
    """scikit-learn's moments, flat, as (first, second) of fnn_optimizer_step."""
    flat = lambda arrays: np.concatenate([a.ravel() for a in arrays])  # noqa: E731
    if kind == "adam_step_corrected":
        return flat(optimizer.ms), flat(optimizer.vs)
    return flat(optimizer.velocities), None


@pytest.mark.parametrize("l2_scale", [0.0, 0.05])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("kind", SKLEARN_RULES)
def test_the_compiled_rules_equal_scikit_learn_s_optimizers(kind, momentum, l2_scale):
    """Forty steps of fnn_optimizer_step (through its twin, float64, one pass
    over all parameters) and of scikit-learn's SGDOptimizer (nesterov False /
    True) or AdamOptimizer on the same gradients, with the L2 term added to
    scikit-learn's (fnn_step's l2_scale), and the bias corrections as the
    compiled loop fills them (1 - beta^t, t the step counted from 1): the
    same parameters and moments, step by step, within 1e-12."""
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    params = [rng.standard_normal(shape) for shape in shapes]
    learning_rate = 0.01 if kind == "adam_step_corrected" else 0.1
    beta_1, beta_2, epsilon = (0.8, 0.99, 1e-8) if momentum else (0.9, 0.999, 1e-7)
    theirs = sklearn_optimizer(kind, params, learning_rate, momentum, beta_1, beta_2, epsilon)
    mine = np.concatenate([p.ravel() for p in params])
    first = np.zeros_like(mine)
    second = np.zeros_like(mine) if kind == "adam_step_corrected" else None
    for t in range(1, 41):
        grads = [rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 10.0]) for shape in shapes]
        theirs.update_params(params, [g + l2_scale * p for g, p in zip(grads, params)])
        mine, first, second = twins.optimizer_step(
            mine, np.concatenate([g.ravel() for g in grads]), first, second, kind,
            learning_rate, l2_scale=l2_scale, momentum=momentum, beta_1=beta_1,
            beta_2=beta_2, epsilon=epsilon, bias_correction_1=1.0 - beta_1 ** t,
            bias_correction_2=1.0 - beta_2 ** t)
        their_first, their_second = sklearn_moments(kind, theirs)
        assert relative_error(mine, np.concatenate([p.ravel() for p in params])) < 1e-12, t
        assert relative_error(first, their_first) < 1e-12, t
        if second is not None:
            assert relative_error(second, their_second) < 1e-12, t


@pytest.mark.parametrize("kind", SKLEARN_RULES)
def test_the_reference_rules_equal_scikit_learn_s_optimizers(kind):
    """fastnn.reference.optimizer_step, the oracle of the trajectories above,
    is scikit-learn's update too: the same numbers, operation for operation."""
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (2,)]
    params = [rng.standard_normal(shape) for shape in shapes]
    settings = dict(momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    theirs = sklearn_optimizer(kind, params, 0.05, **settings)
    mine, state = [p.copy() for p in params], ref.init_optimizer_state(kind, params)
    for _ in range(25):
        grads = [rng.standard_normal(shape) for shape in shapes]
        theirs.update_params(params, grads)
        mine, state = ref.optimizer_step(kind, mine, grads, state, 0.05, **settings)
        for a, b in zip(mine, params):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", SKLEARN_RULES)
@pytest.mark.parametrize("Estimator", [LogisticRegression, ShallowNetwork, DeepNetwork,
                                       DeepRegressor], ids=lambda E: E.__name__)
def test_every_estimator_trains_with_scikit_learn_s_rules(Estimator, kind, breast_cancer):
    """The estimators take the new names from the vocabulary: a fit trains
    (the cost falls), keeps the moments the rule needs, and a warm start
    goes on from them."""
    X_train, X_test, y_train, y_test = breast_cancer
    y = y_train.astype(float) if Estimator is DeepRegressor else y_train
    model = Estimator(optimizer=kind, learning_rate=0.01, max_iter=30, batch_size=32,
                      cost_every=1, random_state=0).fit(X_train, y)
    assert model.costs_[-1] < 0.5 * model.costs_[0]
    first, second = model._training_state.moments
    assert first is not None and (second is not None) == (kind == "adam_step_corrected")
    if Estimator is not DeepRegressor:
        assert model.score(X_test, y_test) >= 0.93
