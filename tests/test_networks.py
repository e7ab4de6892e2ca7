"""Networks with hidden layers, trained by the compiled core, against
fastnn.reference: gradients, trajectories (full batch, shuffled mini-batches,
dropout with the masks the reference computes from the core's seed), and the
notes' worked examples."""
import numpy as np
import pytest

from fastnn import DeepNetwork, DeepRegressor, LogisticRegression, ShallowNetwork
from fastnn import reference as ref
from fastnn.datasets import petal, xnor, xnor_weights
from fastnn.gradcheck import gradcheck
from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._random import training_generators
from fastnn._training import Optimizer, TrainingPlan, TrainingState

from conftest import relative_error

# The notes' settings, the defaults before issue 14: the oracle below trains
# by plain gradient descent, and the worked examples are the notes'.
NOTES = dict(optimizer="gd", batch_size=None, init="auto")

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "arctan", "identity")
# (loss, output activation, number of classes or target columns)
HEADS = [("log_loss", "sigmoid", 2), ("cross_entropy", "softmax", 3)] + [
    ("squared", output, 2) for output in ("identity", "sigmoid", "tanh", "arctan", "softmax",
                                          "exp")]


def make_problem(loss, n_targets, n_samples=23, n_features=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if loss == "squared":
        y = rng.uniform(0.1, 0.9, size=(n_samples, n_targets))
        if n_targets > 1:
            y /= y.sum(axis=1, keepdims=True)  # reachable by a softmax output too
    else:
        y = np.arange(n_samples) % n_targets
        rng.shuffle(y)
    return X, y


def make_model(loss, output, hidden_sizes, activation, **params):
    if loss == "squared":
        return DeepRegressor(hidden_sizes, activation=activation, output=output, **params)
    return DeepNetwork(hidden_sizes, activation=activation, **params)


def targets_matrix(model, y):
    return model._encode_targets(np.asarray(y)).astype(np.float64)


def reference_args(model):
    output, loss = model._output_activation_and_loss(model.coefs_[-1].shape[1])
    return dict(hidden_activation=model.activation, output_activation=output, loss=loss,
                leaky_slope=model.leaky_slope)


@pytest.mark.parametrize("hidden_sizes", [(4,), (6, 5, 4)], ids=["1-hidden", "3-hidden"])
@pytest.mark.parametrize("l2", [0.0, 0.3], ids=["no-l2", "l2"])
@pytest.mark.parametrize("loss, output, n_targets", HEADS,
                         ids=[f"{loss}-{output}" for loss, output, _ in HEADS])
@pytest.mark.parametrize("activation", HIDDEN)
def test_loss_gradient_equals_reference_and_passes_gradient_check(
        activation, loss, output, n_targets, l2, hidden_sizes):
    X, y = make_problem(loss, n_targets)
    model = make_model(loss, output, hidden_sizes, activation, l2=l2, max_iter=0,
                       init="xavier", random_state=1).fit(X, y)
    # Non-zero biases so every term of the gradient is exercised.
    rng = np.random.default_rng(2)
    model.intercepts_ = [rng.standard_normal(b.shape) * 0.5 for b in model.intercepts_]

    cost, coef_grads, intercept_grads = model.loss_gradient(X, y)
    ref_cost, ref_coef_grads, ref_intercept_grads = ref.loss_gradient(
        X, targets_matrix(model, y), model.coefs_, model.intercepts_, l2=l2,
        **reference_args(model))
    assert abs(cost - ref_cost) / abs(ref_cost) < 1e-10
    for actual, expected in zip(coef_grads + intercept_grads, ref_coef_grads + ref_intercept_grads):
        assert relative_error(actual, expected) < 1e-10
    # Step 1e-6, not SPEC's default 1e-7: the finite differences' rounding
    # error grows as (machine eps) / step, and with 3 sigmoid/arctan layers the
    # gradient is small enough for that to reach 5e-7 at step 1e-7 (it falls
    # tenfold per tenfold step; the truncation error stays below 1e-10).
    assert gradcheck(model, X, y, epsilon=1e-6) < 1e-7


def test_gradcheck_detects_a_wrong_gradient(monkeypatch):
    X, y = make_problem("cross_entropy", 3)
    model = DeepNetwork((4,), activation="tanh", max_iter=0, random_state=0).fit(X, y)
    assert gradcheck(model, X, y) < 1e-7
    from fastnn._core import train as core
    true_loss_gradient = core.loss_gradient

    def skewed(stack, params, X, Y):
        cost, grads = true_loss_gradient(stack, params, X, Y)
        grads = grads.copy()
        grads[0] *= 1.01
        return cost, grads

    monkeypatch.setattr(core, "loss_gradient", skewed)
    assert gradcheck(model, X, y) > 1e-7


TRAJECTORIES = {
    "full-batch 50 iterations": dict(max_iter=50, batch_size=None, cost_every=10),
    "3 shuffled mini-batch epochs": dict(max_iter=3, batch_size=7, shuffle=True, cost_every=1),
    "dropout on two layers": dict(max_iter=3, batch_size=7, shuffle=True, cost_every=1,
                                  keep_prob=(0.8, 0.6)),
    "dropout on input and hidden": dict(max_iter=2, batch_size=None, cost_every=1,
                                        keep_prob=(0.9, 0.7, 1.0)),
    "dropout on every layer input, shuffled": dict(max_iter=2, batch_size=7, shuffle=True,
                                                   cost_every=1, keep_prob=(0.9, 0.8, 0.7)),
}
TRAJECTORY_TOLERANCE = {np.float64: 1e-9, np.float32: 1e-3}


@pytest.mark.parametrize("case", TRAJECTORIES, ids=list(TRAJECTORIES))
@pytest.mark.parametrize("loss, output, n_targets", [HEADS[0], HEADS[1], HEADS[4], HEADS[7]],
                         ids=["log_loss", "cross_entropy", "squared-sigmoid", "squared-exp"])
def test_training_trajectory_equals_reference(case, loss, output, n_targets, dtype):
    settings = TRAJECTORIES[case]
    X, y = make_problem(loss, n_targets, n_samples=40)
    assert X.shape[0] % 7 != 0
    model = make_model(loss, output, (6, 5), "tanh", learning_rate=0.1, l2=0.05,
                       random_state=4, **{**NOTES, **settings})
    start = make_model(loss, output, (6, 5), "tanh", max_iter=0, random_state=4,
                       **NOTES).fit(X, y)
    model.fit(X.astype(dtype), y)

    keep = model._keep_probs(3)
    dropout = bool(np.any(keep < 1))
    n_steps = settings["max_iter"] * -(-40 // (settings["batch_size"] or 40))
    assert model._training_state.steps == n_steps  # the steps the dropout keys count
    batch_size = settings["batch_size"]
    shuffle = settings.get("shuffle", False) and batch_size is not None
    # A fresh fit's dropout seed: the first draw of its dropout stream.
    seed = training_generators(4)[2].random_raw() if dropout else None
    coefs, intercepts, costs = ref.train(
        X.astype(dtype), targets_matrix(model, y), start.coefs_, start.intercepts_,
        learning_rate=0.1, max_iter=settings["max_iter"], batch_size=batch_size,
        shuffle=shuffle, bit_generator=training_generators(4)[1] if shuffle else None,
        l2=0.05, cost_every=settings["cost_every"], keep_probs=keep if dropout else None,
        dropout_seed=seed, **reference_args(model))
    tolerance = TRAJECTORY_TOLERANCE[dtype]
    for actual, expected in zip(model.coefs_ + model.intercepts_, coefs + intercepts):
        assert actual.dtype == dtype
        assert relative_error(actual, expected) < tolerance
    np.testing.assert_allclose(model.costs_, costs, rtol=tolerance)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("kind", ["gd", "nesterov", "adam_step_corrected"])
def test_poisson_head_equals_reference(kind, n_threads, dtype):
    """The poisson loss after an exp output (no estimator of these notes
    uses it: scikit-learn's MLPRegressor(loss="poisson") does), through the
    core: its cost and gradient, then shuffled mini-batch training, against
    fastnn.reference, with count targets, zeros among them."""
    rng = np.random.default_rng(11)
    sizes = (4, 6, 2)
    X = rng.standard_normal((29, sizes[0]))
    Y = rng.poisson(2.0, (29, sizes[-1])).astype(np.float64)
    assert (Y == 0).any()
    coefs = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.standard_normal(b) * 0.3 for b in sizes[1:]]
    stack = DenseStack(sizes, ["tanh", "exp"], "poisson", 0.01, 0.2)
    params = stack.pack(coefs, intercepts, dtype)
    tolerance = TRAJECTORY_TOLERANCE[dtype]
    cost, grads = core.loss_gradient(stack, params, X.astype(dtype), Y.astype(dtype))
    ref_cost, ref_coef_grads, ref_intercept_grads = ref.loss_gradient(
        X.astype(dtype), Y, coefs, intercepts, "tanh", "exp", "poisson", l2=0.2)
    assert cost == pytest.approx(ref_cost, rel=tolerance)
    assert relative_error(grads, stack.pack(ref_coef_grads, ref_intercept_grads,
                                            np.float64)) < tolerance

    optimizer = Optimizer(kind=kind, learning_rate=0.05)
    state = TrainingState(shuffle_stream=np.random.PCG64(5), dropout_stream=np.random.PCG64(6))
    result = core.train(stack, params, X.astype(dtype), Y.astype(dtype),
                        TrainingPlan(epochs=4, batch_size=8, shuffle=True, cost_every=1,
                                     n_threads=n_threads), optimizer, state)
    assert result.n_iter == 4
    ref_coefs, ref_intercepts, ref_costs = ref.train(
        X.astype(dtype), Y, coefs, intercepts, hidden_activation="tanh", output_activation="exp",
        loss="poisson", learning_rate=0.05, max_iter=4, batch_size=8, shuffle=True,
        bit_generator=np.random.PCG64(5), l2=0.2, cost_every=1, optimizer=kind,
        momentum=optimizer.momentum, beta_1=optimizer.beta_1, beta_2=optimizer.beta_2,
        epsilon=optimizer.epsilon)
    assert relative_error(params, stack.pack(ref_coefs, ref_intercepts, np.float64)) < tolerance
    np.testing.assert_allclose(result.costs, ref_costs, rtol=tolerance)
    assert ref_costs[-1] < ref_costs[0]


@pytest.mark.parametrize("first_step", [0, 5], ids=["fresh", "5 steps on"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_one_dropout_step_uses_the_reference_masks(n_threads, first_step):
    """The masks the core draws are reference.dropout_mask's for (its seed,
    the global step, the layer): one full-batch gd step with input and hidden
    dropout equals the reference's step with those masks, bit-close in float64,
    whatever the threads' split of the rows and however many steps came before."""
    rng = np.random.default_rng(7)
    sizes, keep = (5, 8, 6, 3), (0.8, 0.6, 0.7)
    X = rng.standard_normal((23, sizes[0]))
    Y = np.eye(3)[rng.integers(0, 3, 23)]
    coefs = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.standard_normal(b) * 0.3 for b in sizes[1:]]
    stack = DenseStack(sizes, ["tanh", "tanh", "softmax"], "cross_entropy", 0.01, 0.0, keep)
    params = stack.pack(coefs, intercepts, np.float64)
    before = params.copy()
    state = TrainingState(shuffle_stream=np.random.PCG64(1), dropout_stream=np.random.PCG64(2),
                          steps=first_step)
    result = core.train(stack, params, X, Y, TrainingPlan(epochs=1, batch_size=23,
                                                          n_threads=n_threads),
                        Optimizer(kind="gd", learning_rate=0.5), state)
    assert result.steps == 1 and result.state.steps == first_step + 1

    seed = np.random.PCG64(2).random_raw()  # the one draw of the call

    def reference_step(step):
        masks = ref.step_dropout_masks(seed, step, 23, sizes[:-1], keep)
        _, coef_grads, intercept_grads = ref.loss_gradient(
            X, Y, coefs, intercepts, "tanh", "softmax", "cross_entropy",
            keep_probs=keep, masks=masks)
        return -0.5 * stack.pack(coef_grads, intercept_grads, np.float64)

    assert relative_error(params - before, reference_step(first_step)) < 1e-12
    # the masks matter: those of the next step give another update
    assert relative_error(params - before, reference_step(first_step + 1)) > 1e-3


def test_dropout_keeps_the_requested_fraction():
    X, y = make_problem("cross_entropy", 3, n_samples=200, n_features=30)
    model = DeepNetwork((50, 40), keep_prob=(0.8, 0.5, 0.9), batch_size=20, max_iter=20,
                        random_state=0)
    model.fit(X, y)
    assert model._training_state.steps == 200
    # The masks of that fit, computed from its seed (the core draws these,
    # test_one_dropout_step_uses_the_reference_masks).
    seed = training_generators(0)[2].random_raw()
    masks = [ref.step_dropout_masks(seed, step, 20, (30, 50, 40), (0.8, 0.5, 0.9))
             for step in range(200)]
    for layer, keep_prob in enumerate((0.8, 0.5, 0.9)):
        kept = np.mean([step[layer].mean() for step in masks])
        assert abs(kept - keep_prob) < 0.01, (layer, kept)
    # Masks are fresh at every step, not one mask reused.
    assert not np.array_equal(masks[0][1], masks[1][1])


def test_keep_prob_one_is_the_no_dropout_path():
    X, y = make_problem("cross_entropy", 3, n_samples=40)
    settings = dict(learning_rate=0.1, batch_size=7, max_iter=5, random_state=0)
    plain = DeepNetwork((6, 5), **settings).fit(X, y)
    for keep_prob in (1.0, (1.0, 1.0), (1.0, 1.0, 1.0)):
        same = DeepNetwork((6, 5), keep_prob=keep_prob, **settings).fit(X, y)
        for a, b in zip(plain.coefs_ + plain.intercepts_, same.coefs_ + same.intercepts_):
            np.testing.assert_array_equal(a, b)
    dropped = DeepNetwork((6, 5), keep_prob=0.9, **settings).fit(X, y)
    assert not np.array_equal(plain.coefs_[0], dropped.coefs_[0])


def test_dropout_is_reproducible_and_seeded():
    X, y = make_problem("log_loss", 2, n_samples=40)
    settings = dict(keep_prob=0.7, batch_size=8, max_iter=4)
    first = DeepNetwork((6,), random_state=5, **settings).fit(X, y)
    second = DeepNetwork((6,), random_state=5, **settings).fit(X, y)
    other = DeepNetwork((6,), random_state=6, **settings).fit(X, y)
    np.testing.assert_array_equal(first.coefs_[0], second.coefs_[0])
    np.testing.assert_array_equal(first.costs_, second.costs_)
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_xnor_hand_set_weights_give_the_truth_table():
    X, y = xnor()
    np.testing.assert_array_equal(y, [1, 0, 0, 1])
    model = DeepNetwork((2,), activation="sigmoid", max_iter=0, init=xnor_weights()).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)
    coefs, intercepts = xnor_weights()
    expected = ref.predict_output(X, coefs, intercepts, "sigmoid", "sigmoid")[:, 0]
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected, rtol=1e-12)


def test_xnor_learned_from_a_seeded_random_start():
    X, y = xnor()
    model = DeepNetwork((2,), activation="sigmoid", learning_rate=2.0, max_iter=5000,
                        random_state=0, **NOTES).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)
    assert model.costs_[-1] < 0.01


def test_planar_data_needs_a_hidden_layer():
    X, y = petal(n_samples=400, random_state=1)
    linear = LogisticRegression(learning_rate=0.1, max_iter=2000).fit(X, y)
    shallow = ShallowNetwork(4, activation="tanh", learning_rate=1.2, max_iter=10000,
                             optimizer="gd", batch_size=None, init="small",
                             random_state=3).fit(X, y)
    assert linear.score(X, y) < 0.70
    assert shallow.score(X, y) >= 0.88


def test_digits_deep_network(dtype):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    model = DeepNetwork((64,), activation="relu", learning_rate=0.1, batch_size=32,
                        max_iter=50, optimizer="gd", init="auto", random_state=0)
    model.fit(scaler.transform(X_train).astype(dtype), y_train)
    assert model.coefs_[0].dtype == dtype
    assert model.score(scaler.transform(X_test).astype(dtype), y_test) >= 0.96


def test_no_allocation_per_step():
    """Every buffer is allocated once per fit: 10x the epochs, same peak."""
    import tracemalloc
    X, y = make_problem("cross_entropy", 3, n_samples=300, n_features=20)
    settings = dict(batch_size=16, keep_prob=0.8, random_state=0, cost_every=1)

    def peak(epochs):
        model = DeepNetwork((32, 16), max_iter=epochs, **settings)
        model.fit(X, y)  # warm caches, imports
        tracemalloc.start()
        model.fit(X, y)
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak_bytes

    assert abs(peak(50) - peak(5)) < 64 * 1024


def test_zero_init_with_hidden_layers_is_refused():
    X, y = make_problem("log_loss", 2)
    with pytest.raises(ValueError, match="every hidden unit would get the same gradient"):
        DeepNetwork((3,), init="zeros").fit(X, y)


@pytest.mark.parametrize("keep_prob, fragment", [
    ((0.5, 0.5, 0.5, 0.5), "sequence of 2 values"), ((0.5, 0.0), "must lie in"),
    (1.5, "'keep_prob' parameter"), (0.0, "'keep_prob' parameter")])
def test_bad_keep_prob_is_refused(keep_prob, fragment):
    X, y = make_problem("log_loss", 2)
    with pytest.raises(ValueError, match=fragment):
        DeepNetwork((3, 3), keep_prob=keep_prob).fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (3, -1), ("4",), (2.5,)])
def test_bad_layer_sizes_are_refused(sizes):
    X, y = make_problem("log_loss", 2)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DeepNetwork(sizes).fit(X, y)


def test_regressor_keeps_the_shape_of_y():
    X, y = make_problem("squared", 1)
    one_d = DeepRegressor((4,), max_iter=20, random_state=0).fit(X, y[:, 0])
    two_d = DeepRegressor((4,), max_iter=20, random_state=0).fit(X, y)
    assert one_d.predict(X).shape == (X.shape[0],)
    assert two_d.predict(X).shape == (X.shape[0], 1)
    np.testing.assert_array_equal(one_d.predict(X), two_d.predict(X)[:, 0])
    expected = ref.predict_output(X, one_d.coefs_, one_d.intercepts_, "relu", "identity")[:, 0]
    assert relative_error(one_d.predict(X), expected) < 1e-12


def test_cost_every_none_records_nothing_and_trains_the_same():
    X, y = make_problem("cross_entropy", 3, n_samples=40)
    settings = dict(learning_rate=0.1, batch_size=7, max_iter=3, keep_prob=0.8, random_state=0)
    recorded = DeepNetwork((6, 5), cost_every=1, **settings).fit(X, y)
    silent = DeepNetwork((6, 5), cost_every=None, **settings).fit(X, y)
    assert recorded.costs_.shape == (3,) and silent.costs_.shape == (0,)
    for a, b in zip(recorded.coefs_ + recorded.intercepts_, silent.coefs_ + silent.intercepts_):
        np.testing.assert_array_equal(a, b)
