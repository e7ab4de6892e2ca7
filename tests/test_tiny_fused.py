"""The fused training step of tiny networks (every layer, the input included,
at most 16 units wide; dense X, no dropout, one thread: csrc/fastnn_tiny.h,
fastnn/_core/tiny.pxd) against fastnn.reference, across activations, heads
(losses), optimisers and precisions; against the layered passes (a team of
two takes them) for what the reference does not model (sample weights,
loss_scale, batch_mean_cost, a given row order); and the choice of path."""
import numpy as np
import pytest

from fastnn import reference as ref
from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._core.vocabulary import OPTIMIZERS
from fastnn._training import Optimizer, TrainingPlan, TrainingState

from conftest import relative_error
from test_networks import HEADS, HIDDEN, TRAJECTORY_TOLERANCE


def make_problem(loss, sizes, n_samples, seed):
    """X, the target matrix Y, and a random start with non-zero biases."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, sizes[0]))
    n_targets = sizes[-1]
    if loss == "squared":
        Y = rng.uniform(0.1, 0.9, size=(n_samples, n_targets))
        if n_targets > 1:
            Y /= Y.sum(axis=1, keepdims=True)  # reachable by a softmax output too
    elif loss == "log_loss":
        Y = (rng.random((n_samples, 1)) < 0.5).astype(np.float64)
    else:
        Y = np.eye(n_targets)[rng.integers(0, n_targets, n_samples)]
    coefs = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.standard_normal(b) * 0.3 for b in sizes[1:]]
    return X, Y, coefs, intercepts


def fresh_state():
    return TrainingState(shuffle_stream=np.random.PCG64(5), dropout_stream=np.random.PCG64(6))


def head_sizes(loss, n_targets, hidden):
    return (3, *hidden, 1 if loss == "log_loss" else n_targets)


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("loss, output, n_targets", HEADS,
                         ids=[f"{loss}-{output}" for loss, output, _ in HEADS])
@pytest.mark.parametrize("activation", HIDDEN)
def test_fused_trajectory_equals_reference(activation, loss, output, n_targets, kind, dtype):
    """Shuffled mini-batches (the last one short, batches of more and of
    fewer rows than a tile), L2 and a cost every epoch: the fused path's
    weights and costs are the reference's."""
    sizes = head_sizes(loss, n_targets, (5, 4))
    X, Y, coefs, intercepts = make_problem(loss, sizes, 41, seed=3)
    stack = DenseStack(sizes, [activation, activation, output], loss, 0.01, 0.05)
    params = stack.pack(coefs, intercepts, dtype)
    # an exp output's error grows as e^z: a smaller step keeps it from diverging
    learning_rate = 0.001 if output == "exp" else 0.05
    # rmsprop and the adams divide by the root of the gradient's own square:
    # at a near-zero gradient, float32's rounding becomes a step of about the
    # learning rate (the layered path as much); a larger epsilon damps that
    optimizer = Optimizer(kind=kind, learning_rate=learning_rate, epsilon=1e-2)
    result = core.train(stack, params, X.astype(dtype), Y.astype(dtype),
                        TrainingPlan(epochs=3, batch_size=19, shuffle=True, cost_every=1),
                        optimizer, fresh_state())
    assert result.fused_step
    ref_coefs, ref_intercepts, ref_costs = ref.train(
        X.astype(dtype), Y, coefs, intercepts, hidden_activation=activation,
        output_activation=output, loss=loss, learning_rate=learning_rate, max_iter=3, batch_size=19,
        shuffle=True, bit_generator=np.random.PCG64(5), l2=0.05, cost_every=1, optimizer=kind,
        momentum=optimizer.momentum, beta_1=optimizer.beta_1, beta_2=optimizer.beta_2,
        epsilon=optimizer.epsilon)
    tolerance = TRAJECTORY_TOLERANCE[dtype]
    assert relative_error(params, stack.pack(ref_coefs, ref_intercepts, np.float64)) < tolerance
    np.testing.assert_allclose(result.costs, ref_costs, rtol=tolerance)


@pytest.mark.parametrize("sizes", [(2, 4, 1), (16, 16, 16), (1, 1), (16, 3, 16, 2)],
                         ids=["2-4-1", "16-16-16", "1-1", "16-3-16-2"])
def test_fused_full_batch_equals_reference(sizes, dtype):
    """Full-batch gradient descent (the notes' W2 shape among them, and the
    widest layers the fused pass takes) against the reference, float64 within
    1e-10 (the relative-error bound of SPEC for one gradient; 20 steps keep
    the accumulated rounding below it)."""
    loss, output = ("log_loss", "sigmoid") if sizes[-1] == 1 else ("cross_entropy", "softmax")
    X, Y, coefs, intercepts = make_problem(loss, sizes, 37, seed=8)
    activations = ["tanh"] * (len(sizes) - 2) + [output]
    stack = DenseStack(sizes, activations, loss, 0.01, 0.1)
    params = stack.pack(coefs, intercepts, dtype)
    result = core.train(stack, params, X.astype(dtype), Y.astype(dtype),
                        TrainingPlan(epochs=20, batch_size=37, cost_every=5),
                        Optimizer(kind="gd", learning_rate=0.3), fresh_state())
    assert result.fused_step
    ref_coefs, ref_intercepts, ref_costs = ref.train(
        X.astype(dtype), Y, coefs, intercepts, hidden_activation="tanh",
        output_activation=output, loss=loss, learning_rate=0.3, max_iter=20, l2=0.1,
        cost_every=5)
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    assert relative_error(params, stack.pack(ref_coefs, ref_intercepts, np.float64)) < tolerance
    np.testing.assert_allclose(result.costs, ref_costs, rtol=tolerance)


def train_both_paths(stack, params, X, Y, plan, optimizer, sample_weight=None):
    """(fused result, fused params, layered result, layered params)."""
    results = []
    for n_threads in (1, 2):
        trained = params.copy()
        result = core.train(stack, trained, X, Y,
                            TrainingPlan(**{**plan, "n_threads": n_threads}), optimizer,
                            fresh_state(), sample_weight)
        results += [result, trained]
    return results


@pytest.mark.parametrize("kind", ["gd", "adam", "nesterov"])
@pytest.mark.parametrize("settings", [
    dict(batch_size=13, shuffle=True),
    dict(batch_size=41, loss_scale=0.5, batch_mean_cost=True),
    dict(batch_size=10, shuffle=False, batch_mean_cost=True),
], ids=["shuffled", "full batch, loss_scale, batch_mean_cost", "consecutive batches"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample weights"])
def test_fused_equals_layered(weighted, settings, kind, dtype):
    """Everything the reference does not model (sample weights, zeros among
    them; loss_scale; batch_mean_cost) through both paths of the core: the
    same weights, costs and moments. A team of two takes the layered passes."""
    sizes = (4, 6, 3)
    X, Y, coefs, intercepts = make_problem("cross_entropy", sizes, 41, seed=5)
    stack = DenseStack(sizes, ["relu", "softmax"], "cross_entropy", 0.01, 0.2)
    params = stack.pack(coefs, intercepts, dtype)
    weights = None
    if weighted:
        weights = np.random.default_rng(1).uniform(0.0, 2.0, 41)
        weights[::7] = 0.0
    plan = dict(epochs=4, cost_every=1, **settings)
    fused, fused_params, layered, layered_params = train_both_paths(
        stack, params, X.astype(dtype), Y.astype(dtype), plan,
        Optimizer(kind=kind, learning_rate=0.05), weights)
    assert fused.fused_step and not layered.fused_step
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert relative_error(fused_params, layered_params) < tolerance
    np.testing.assert_allclose(fused.costs, layered.costs, rtol=tolerance)
    for fused_moment, layered_moment in zip(fused.state.moments, layered.state.moments):
        if fused_moment is not None:
            assert relative_error(fused_moment, layered_moment) < tolerance


def test_fused_follows_a_given_row_order():
    sizes = (3, 5, 1)
    X, Y, coefs, intercepts = make_problem("log_loss", sizes, 30, seed=2)
    stack = DenseStack(sizes, ["arctan", "sigmoid"], "log_loss")
    order = np.random.default_rng(3).permutation(30)
    plan = dict(epochs=2, batch_size=8, cost_every=1, row_order=order)
    fused, fused_params, layered, layered_params = train_both_paths(
        stack, stack.pack(coefs, intercepts, np.float64), X, Y, plan,
        Optimizer(kind="momentum", learning_rate=0.1))
    assert fused.fused_step
    assert relative_error(fused_params, layered_params) < 1e-12
    np.testing.assert_allclose(fused.costs, layered.costs, rtol=1e-12)


@pytest.mark.parametrize("sizes", [(17, 4, 1), (3, 17, 1), (3, 4, 17)],
                         ids=["17 inputs", "17 hidden units", "17 outputs"])
def test_a_17_unit_layer_takes_the_layered_path_and_equals_reference(sizes):
    loss, output = ("log_loss", "sigmoid") if sizes[-1] == 1 else ("cross_entropy", "softmax")
    X, Y, coefs, intercepts = make_problem(loss, sizes, 25, seed=4)
    stack = DenseStack(sizes, ["tanh", output], loss, 0.01, 0.1)
    params = stack.pack(coefs, intercepts, np.float64)
    assert not core.takes_fused_step(stack, False, 1)
    result = core.train(stack, params, X, Y, TrainingPlan(epochs=5, batch_size=25, cost_every=1),
                        Optimizer(kind="rmsprop", learning_rate=0.05), fresh_state())
    assert not result.fused_step
    ref_coefs, ref_intercepts, ref_costs = ref.train(
        X, Y, coefs, intercepts, hidden_activation="tanh", output_activation=output, loss=loss,
        learning_rate=0.05, max_iter=5, l2=0.1, cost_every=1, optimizer="rmsprop")
    assert relative_error(params, stack.pack(ref_coefs, ref_intercepts, np.float64)) < 1e-10
    np.testing.assert_allclose(result.costs, ref_costs, rtol=1e-10)


def test_which_fits_take_the_fused_path():
    from scipy import sparse
    tiny = DenseStack((16, 16, 16), ["tanh", "softmax"], "cross_entropy")
    assert core.takes_fused_step(tiny, False, 1)
    assert not core.takes_fused_step(tiny, True, 1)      # sparse X
    assert not core.takes_fused_step(tiny, False, 2)     # a team
    dropped = DenseStack((2, 4, 1), ["tanh", "sigmoid"], "log_loss", keep_probs=(1.0, 0.8))
    assert not core.takes_fused_step(dropped, False, 1)  # dropout: the layered passes
    X, Y, coefs, intercepts = make_problem("log_loss", (2, 4, 1), 12, seed=0)
    stack = DenseStack((2, 4, 1), ["tanh", "sigmoid"], "log_loss")
    for data, fused in ((X, True), (sparse.csr_matrix(X), False)):
        result = core.train(stack, stack.pack(coefs, intercepts, np.float64), data, Y,
                            TrainingPlan(epochs=1, batch_size=12), Optimizer(kind="gd"),
                            fresh_state())
        assert result.fused_step == fused


def test_the_notes_shallow_network_fit_takes_the_fused_path():
    """The estimator's fit of the notes' 2-4-1 network goes through it."""
    from fastnn import ShallowNetwork
    from fastnn.datasets import petal
    X, y = petal(200, random_state=0)
    calls = []
    train = core.train

    def recording(*args, **kwargs):
        result = train(*args, **kwargs)
        calls.append(result.fused_step)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "train", recording)
        model = ShallowNetwork(hidden_layer_size=4, learning_rate=1.2, max_iter=500,
                               optimizer="gd", batch_size=None, init="small",
                               random_state=0).fit(X, y)
    assert calls and all(calls)
    assert model.score(X, y) > 0.8
