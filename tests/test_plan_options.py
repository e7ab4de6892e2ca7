"""The training plan's options for callers that keep their own bookkeeping
(the scikit-learn drop-ins): a given row order, scikit-learn's per-batch mean
cost, a scale on the data loss, and the weighted loss gradient."""
import numpy as np
import pytest

from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._training import Optimizer, TrainingPlan, TrainingState

from conftest import relative_error


def problem(n=23, n_features=4, n_outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n)]
    stack = DenseStack([n_features, 5, n_outputs], ["tanh", "softmax"], "cross_entropy", l2=0.3)
    params = rng.standard_normal(stack.n_params) * 0.5
    weights = rng.integers(0, 4, n).astype(np.float64)
    weights[0] = 1.0
    return stack, params, X, Y, weights


def fresh_state():
    return TrainingState(shuffle_stream=np.random.PCG64(1), dropout_stream=np.random.PCG64(2))


def run(stack, params, X, Y, optimizer=Optimizer(kind="adam", learning_rate=0.05), weights=None,
        **plan):
    params = params.copy()
    plan = TrainingPlan(**{"epochs": 1, "batch_size": 5, "cost_every": 1, **plan})
    result = core.train(stack, params, X, Y, plan, optimizer, fresh_state(), weights)
    return params, result


@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_given_row_order_trains_as_the_rows_in_that_order(n_threads):
    stack, params, X, Y, weights = problem()
    order = np.random.default_rng(5).permutation(len(X))
    given, given_result = run(stack, params, X, Y, weights=weights, epochs=3, row_order=order,
                              shuffle=True, n_threads=n_threads)
    permuted, permuted_result = run(stack, params, X[order], Y[order], weights=weights[order],
                                    epochs=3, n_threads=n_threads)
    assert np.array_equal(given, permuted)
    assert np.array_equal(given_result.costs, permuted_result.costs)
    # the state's own order is not the given one: a later reshuffling call goes on from its own
    assert given_result.state.order is None


def test_a_given_row_order_must_be_a_permutation():
    stack, params, X, Y, _ = problem()
    order = np.arange(len(X))
    order[3] = 4
    with pytest.raises(ValueError, match="not a permutation"):
        run(stack, params, X, Y, row_order=order)
    with pytest.raises(ValueError, match="one index per row"):
        run(stack, params, X, Y, row_order=np.arange(len(X) - 1))


def batch_costs_by_hand(stack, params, X, Y, weights, batch_size, loss_scale=1.0):
    """(cost of each batch at the weights its step starts from, its rows,
    its weight) for one plain-GD epoch, a batch at a time."""
    params = params.copy()
    out = []
    for start in range(0, len(X), batch_size):
        rows = slice(start, start + batch_size)
        cost, _ = core.loss_gradient(stack, params, X[rows], Y[rows], weights[rows], loss_scale)
        out.append((cost, len(X[rows]), weights[rows].sum()))
        core.train(stack, params, X[rows], Y[rows], TrainingPlan(epochs=1, batch_size=batch_size),
                   Optimizer(kind="gd", learning_rate=0.1), fresh_state(), weights[rows])
    return out


@pytest.mark.parametrize("loss_scale", [1.0, 0.25])
def test_batch_mean_cost_is_scikit_learns_loss(loss_scale):
    stack, params, X, Y, weights = problem()
    by_hand = batch_costs_by_hand(stack, params, X, Y, weights, 5, loss_scale)
    _, result = run(stack, params, X, Y, Optimizer(kind="gd", learning_rate=0.1), weights,
                    batch_mean_cost=True, loss_scale=loss_scale)
    expected = sum(cost * rows for cost, rows, _ in by_hand) / len(X)
    assert relative_error(result.costs[0], expected) < 1e-12
    # without it, the weighted sum over all rows over the total weight
    _, result = run(stack, params, X, Y, Optimizer(kind="gd", learning_rate=0.1), weights,
                    loss_scale=loss_scale)
    expected = sum(cost * weight for cost, _, weight in by_hand) / weights.sum()
    assert relative_error(result.costs[0], expected) < 1e-12


def test_loss_scale_scales_the_data_loss_only():
    stack, params, X, Y, _ = problem()
    data = core.cost(stack, params, X, Y, with_l2=False)
    total = core.cost(stack, params, X, Y)
    scaled, grads = core.loss_gradient(stack, params, X, Y, None, 0.25)
    _, unscaled_grads = core.loss_gradient(stack, params, X, Y)
    assert relative_error(scaled, 0.25 * data + (total - data)) < 1e-12
    assert np.array_equal(grads, unscaled_grads)


def test_weighted_loss_gradient_equals_repeated_rows():
    stack, params, X, Y, weights = problem()
    repeated = np.repeat(np.arange(len(X)), weights.astype(int))
    cost, grads = core.loss_gradient(stack, params, X, Y, weights)
    expected_cost, expected_grads = core.loss_gradient(stack, params, X[repeated], Y[repeated])
    assert relative_error(cost, expected_cost) < 1e-12
    assert relative_error(grads, expected_grads) < 1e-12


@pytest.mark.parametrize("weights", [np.ones(22), np.zeros(23), -np.ones(23)])
def test_loss_gradient_refuses_bad_weights(weights):
    stack, params, X, Y, _ = problem()
    with pytest.raises(ValueError, match="sample_weight"):
        core.loss_gradient(stack, params, X, Y, weights)


@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradient_on_a_team_equals_one_thread(weighted):
    stack, params, X, Y, weights = problem(n=61)
    weights = weights if weighted else None
    one = core.loss_gradient(stack, params, X, Y, weights, 0.5)
    for n_threads in (2, 3):
        cost, grads = core.loss_gradient(stack, params, X, Y, weights, 0.5, None, n_threads)
        assert relative_error(cost, one[0]) < 1e-13
        assert relative_error(grads, one[1]) < 1e-13
    with pytest.raises(ValueError, match="n_threads"):
        core.loss_gradient(stack, params, X, Y, weights, 0.5, None, 0)
