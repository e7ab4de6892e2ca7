"""LogisticRegression, trained by the compiled core, against fastnn.reference."""
import numpy as np
import pytest

from fastnn import LogisticRegression
from fastnn import reference as ref
from fastnn._random import training_generators

from conftest import TOLERANCE, relative_error

# No hidden layer: the hidden activation is never used.
LR_NET = dict(hidden_activation="identity", output_activation="sigmoid", loss="log_loss")


def reference_fit(X, y, *, learning_rate, max_iter, l2=0.0, batch_size=None,
                  shuffle=False, random_state=None, cost_every=100):
    """The reference's training loop from the same zero start the estimator uses."""
    d = X.shape[1]
    bits = training_generators(random_state)[1] if shuffle else None
    coefs, intercepts, costs = ref.train(
        X.astype(np.float64), y.reshape(-1, 1).astype(np.float64),
        [np.zeros((d, 1))], [np.zeros(1)], **LR_NET, learning_rate=learning_rate,
        max_iter=max_iter, batch_size=batch_size, shuffle=shuffle, bit_generator=bits,
        l2=l2, cost_every=cost_every)
    return coefs[0], intercepts[0], costs


def assert_matches_reference(model, W, b, costs, dtype):
    tol = TOLERANCE[dtype]
    assert model.coefs_[0].dtype == dtype
    assert relative_error(model.coefs_[0], W) < tol
    assert relative_error(model.intercepts_[0], b) < tol
    assert model.costs_.shape == costs.shape
    np.testing.assert_allclose(model.costs_, costs, rtol=tol, atol=0)


@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_full_batch_2000_iterations_equals_reference(breast_cancer, dtype, l2):
    X, _, y, _ = breast_cancer
    model = LogisticRegression(learning_rate=0.1, max_iter=2000, l2=l2, cost_every=100)
    model.fit(X.astype(dtype), y)
    W, b, costs = reference_fit(X.astype(dtype), y, learning_rate=0.1, max_iter=2000, l2=l2)
    assert model.n_iter_ == 2000
    assert len(costs) == 20
    assert_matches_reference(model, W, b, costs, dtype)


def test_mini_batch_unshuffled_equals_reference(breast_cancer, dtype):
    X, _, y, _ = breast_cancer
    assert X.shape[0] % 32 != 0  # the short last batch is exercised
    settings = dict(learning_rate=0.05, max_iter=30, batch_size=32, l2=0.1, cost_every=3)
    model = LogisticRegression(shuffle=False, **settings).fit(X.astype(dtype), y)
    W, b, costs = reference_fit(X.astype(dtype), y, shuffle=False, **settings)
    assert_matches_reference(model, W, b, costs, dtype)


def test_mini_batch_shuffled_equals_reference_permutations(breast_cancer, dtype):
    """The core's Fisher-Yates draws are replayed by the reference, batch for batch."""
    X, _, y, _ = breast_cancer
    settings = dict(learning_rate=0.05, max_iter=12, batch_size=32, cost_every=1,
                    random_state=3)
    model = LogisticRegression(shuffle=True, **settings).fit(X.astype(dtype), y)
    W, b, costs = reference_fit(X.astype(dtype), y, shuffle=True, **settings)
    assert_matches_reference(model, W, b, costs, dtype)


def test_shuffled_training_is_reproducible_bit_for_bit(breast_cancer, dtype):
    X, _, y, _ = breast_cancer
    settings = dict(learning_rate=0.05, max_iter=10, batch_size=32, random_state=11)
    first = LogisticRegression(**settings).fit(X.astype(dtype), y)
    second = LogisticRegression(**settings).fit(X.astype(dtype), y)
    other_seed = LogisticRegression(**{**settings, "random_state": 12}).fit(X.astype(dtype), y)
    np.testing.assert_array_equal(first.coefs_[0], second.coefs_[0])
    np.testing.assert_array_equal(first.intercepts_[0], second.intercepts_[0])
    np.testing.assert_array_equal(first.costs_, second.costs_)
    assert not np.array_equal(first.coefs_[0], other_seed.coefs_[0])


def test_breast_cancer_test_accuracy(breast_cancer, dtype):
    X_train, X_test, y_train, y_test = breast_cancer
    model = LogisticRegression(learning_rate=0.1, max_iter=2000)
    model.fit(X_train.astype(dtype), y_train)
    assert model.score(X_test.astype(dtype), y_test) >= 0.95


def test_loss_gradient_equals_reference_and_finite_differences(breast_cancer):
    X, _, y, _ = breast_cancer
    rng = np.random.default_rng(0)
    d = X.shape[1]
    W0, b0 = rng.standard_normal((d, 1)) * 0.3, rng.standard_normal(1)
    model = LogisticRegression(max_iter=0, l2=0.7, init=([W0], [b0])).fit(X, y)
    cost, coef_grads, intercept_grads = model.loss_gradient(X, y)

    Y = y.reshape(-1, 1).astype(np.float64)
    ref_cost, ref_coef_grads, ref_intercept_grads = ref.loss_gradient(
        X, Y, [W0], [b0], **LR_NET, l2=0.7)
    assert abs(cost - ref_cost) / ref_cost < 1e-10
    assert relative_error(coef_grads[0], ref_coef_grads[0]) < 1e-10
    assert relative_error(intercept_grads[0], ref_intercept_grads[0]) < 1e-10

    def core_cost(theta):
        W, b = theta[:d].reshape(d, 1), theta[d:]
        probe = LogisticRegression(max_iter=0, l2=0.7, init=([W], [b])).fit(X, y)
        return probe.loss_gradient(X, y)[0]

    theta = np.concatenate([W0.ravel(), b0])
    grad = np.concatenate([coef_grads[0].ravel(), intercept_grads[0]])
    assert ref.gradient_check(core_cost, theta, grad, epsilon=1e-7) < 1e-7
    # The check has teeth: a slightly wrong gradient fails it.
    assert ref.gradient_check(core_cost, theta, grad * 1.001, epsilon=1e-7) > 1e-7


def test_predict_proba_equals_reference_forward(breast_cancer, dtype):
    X_train, X_test, y_train, _ = breast_cancer
    model = LogisticRegression(max_iter=300).fit(X_train.astype(dtype), y_train)
    proba = model.predict_proba(X_test.astype(dtype))
    expected = ref.predict_output(X_test.astype(dtype), model.coefs_, model.intercepts_,
                                  "identity", "sigmoid")[:, 0]
    assert proba.shape == (X_test.shape[0], 2)
    assert relative_error(proba[:, 1], expected) < TOLERANCE[dtype]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X_test.astype(dtype)),
                                  model.classes_[(expected >= 0.5).astype(int)])


def test_max_iter_zero_sets_up_without_training(breast_cancer):
    X, _, y, _ = breast_cancer
    model = LogisticRegression(max_iter=0).fit(X, y)
    assert model.n_iter_ == 0
    assert model.costs_.shape == (0,)
    np.testing.assert_array_equal(model.coefs_[0], np.zeros((X.shape[1], 1)))
    np.testing.assert_array_equal(model.intercepts_[0], np.zeros(1))
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.n_features_in_ == X.shape[1]

    W0 = np.arange(X.shape[1], dtype=np.float64).reshape(-1, 1) / 100
    given = LogisticRegression(max_iter=0, init=([W0], [np.array([0.5])])).fit(X, y)
    np.testing.assert_array_equal(given.coefs_[0], W0)
    np.testing.assert_array_equal(given.intercepts_[0], [0.5])
    assert given.coefs_[0] is not W0  # the caller's array is copied, never trained in place


@pytest.mark.parametrize("labels", [("benign", "malignant"), (-1, 1), (7, 3), (False, True)])
def test_any_two_labels(breast_cancer, labels):
    X_train, X_test, y_train, y_test = breast_cancer
    mapping = np.array(labels, dtype=object if isinstance(labels[0], str) else None)
    numeric = LogisticRegression(max_iter=300).fit(X_train, y_train)
    relabelled = LogisticRegression(max_iter=300).fit(X_train, mapping[y_train])
    # classes_ is sorted; the positive class is classes_[1], whichever label that is.
    assert list(relabelled.classes_) == sorted(labels)
    expected = mapping[numeric.predict(X_test)]
    if sorted(labels) != list(labels):
        # labels[1] sorts first, so it is now the negative class: the weights flip sign.
        np.testing.assert_allclose(relabelled.coefs_[0], -numeric.coefs_[0], rtol=1e-12)
    np.testing.assert_array_equal(relabelled.predict(X_test), expected)
    assert relabelled.score(X_test, mapping[y_test]) == numeric.score(X_test, y_test)


def test_dtype_follows_input_unless_given(breast_cancer):
    X, _, y, _ = breast_cancer
    assert LogisticRegression(max_iter=1).fit(X.astype(np.float32), y).coefs_[0].dtype == np.float32
    assert LogisticRegression(max_iter=1).fit(X, y).coefs_[0].dtype == np.float64
    assert LogisticRegression(max_iter=1).fit((X * 10).astype(int), y).coefs_[0].dtype == np.float64
    forced = LogisticRegression(max_iter=1, dtype="float32").fit(X, y)
    assert forced.coefs_[0].dtype == np.float32
    assert forced.predict_proba(X).dtype == np.float32


def test_verbose_prints_each_recorded_cost(breast_cancer, capsys):
    X, _, y, _ = breast_cancer
    model = LogisticRegression(max_iter=250, cost_every=100, verbose=2).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 == len(model.costs_)
    for line, cost in zip(lines, model.costs_):
        assert float(line.split()[-1]) == pytest.approx(cost, rel=1e-7)


def test_exception_in_a_callback_leaves_model_unchanged(breast_cancer):
    """An exception raised at an epoch end propagates and leaves the previous
    fit in place."""
    X, _, y, _ = breast_cancer
    model = LogisticRegression(max_iter=50).fit(X, y)
    before = model.coefs_[0].copy()

    def fail(progress):
        if progress.iteration == 3:
            raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        model.set_params(max_iter=500, learning_rate=0.5, cost_every=1, callbacks=[fail]).fit(X, y)
    np.testing.assert_array_equal(model.coefs_[0], before)
    assert model.n_iter_ == 50


def test_ctrl_c_stops_at_an_epoch_boundary_with_a_usable_model(breast_cancer):
    X, _, y, _ = breast_cancer

    def press_ctrl_c(progress):
        if progress.iteration == 6:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted"):
        model = LogisticRegression(max_iter=500, cost_every=1, callbacks=[press_ctrl_c]).fit(X, y)
    assert model.n_iter_ == 7
    same = LogisticRegression(max_iter=7).fit(X, y)
    np.testing.assert_array_equal(model.coefs_[0], same.coefs_[0])
    assert model.score(X, y) == same.score(X, y)


def test_callbacks_see_progress_and_can_stop(breast_cancer):
    X, _, y, _ = breast_cancer
    seen = []

    def watch(progress):
        seen.append((progress.iteration, progress.cost))
        return progress.iteration >= 20

    model = LogisticRegression(max_iter=100, cost_every=5, callbacks=[watch]).fit(X, y)
    assert [iteration for iteration, _ in seen] == [0, 5, 10, 15, 20]
    assert model.n_iter_ == 21
    np.testing.assert_allclose([cost for _, cost in seen], model.costs_)


def test_verbose_progress_bar_does_not_change_training(breast_cancer, capsys):
    pytest.importorskip("tqdm")
    X, _, y, _ = breast_cancer
    quiet = LogisticRegression(max_iter=60, cost_every=10).fit(X, y)
    shown = LogisticRegression(max_iter=60, cost_every=10, verbose=1).fit(X, y)
    np.testing.assert_array_equal(shown.coefs_[0], quiet.coefs_[0])
    assert "60/60" in capsys.readouterr().err
