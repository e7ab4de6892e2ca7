"""The optimisers of the compiled core (SPEC 10) against fastnn.reference."""
import numpy as np
import pytest

from fastnn import DeepNetwork, LogisticRegression
from fastnn import reference as ref
from fastnn._random import training_generators

from conftest import relative_error

OPTIMIZERS = {
    "gd": {},
    "momentum": dict(momentum=0.8),
    "rmsprop": dict(beta_2=0.99, epsilon=1e-6),
    "adam": dict(beta_1=0.85, beta_2=0.995, epsilon=1e-7),
}


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
            if a < b:
                assert not np.allclose(weights[a], weights[b])


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
