"""Property-based tests (hypothesis): on random shapes, activations, losses,
dropout and batch sizes, the compiled core equals fastnn.reference.

The CI run draws 2 x 1000 examples; HYPOTHESIS_PROFILE=thorough draws ten
times more."""
import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastnn import reference as ref
from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._training import Optimizer, TrainingPlan, TrainingState

from conftest import relative_error

settings.register_profile("ci", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=10000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "arctan", "identity")
HEADS = [("log_loss", "sigmoid"), ("cross_entropy", "softmax"), ("squared", "identity"),
         ("squared", "sigmoid"), ("squared", "tanh"), ("squared", "arctan"),
         ("squared", "softmax")]


@st.composite
def networks(draw):
    n = draw(st.integers(1, 40))
    sizes = [draw(st.integers(1, 12))]
    sizes += [draw(st.integers(1, 64)) for _ in range(draw(st.integers(0, 4)))]
    loss, output = draw(st.sampled_from(HEADS))
    n_out = 1 if loss == "log_loss" else draw(st.integers(2 if loss == "cross_entropy" else 1, 6))
    sizes.append(n_out)
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    if loss == "log_loss":
        Y = rng.integers(0, 2, (n, 1)).astype(np.float64)
    elif loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, n)]
    else:
        Y = rng.uniform(0.05, 0.95, (n, n_out))
    coefs = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.standard_normal(b) * 0.3 for b in sizes[1:]]
    return dict(X=X, Y=Y, sizes=sizes, coefs=coefs, intercepts=intercepts,
                hidden=draw(st.sampled_from(HIDDEN)), output=output, loss=loss,
                l2=draw(st.sampled_from([0.0, 0.3])), leaky_slope=0.05, rng=rng)


def stack_of(net, keep_probs=None):
    activations = [net["hidden"]] * (len(net["sizes"]) - 2) + [net["output"]]
    return DenseStack(net["sizes"], activations, net["loss"], net["leaky_slope"], net["l2"],
                      keep_probs)


@given(networks())
def test_loss_gradient_equals_reference(net):
    stack = stack_of(net)
    params = stack.pack(net["coefs"], net["intercepts"], np.float64)
    cost, grads = core.loss_gradient(stack, params, net["X"], net["Y"])
    expected_cost, coef_grads, intercept_grads = ref.loss_gradient(
        net["X"], net["Y"], net["coefs"], net["intercepts"], net["hidden"], net["output"],
        net["loss"], net["l2"], net["leaky_slope"])
    assert np.isfinite(cost) and np.all(np.isfinite(grads))
    assert abs(cost - expected_cost) <= 1e-10 * max(1.0, abs(expected_cost))
    got_coefs, got_intercepts = stack.unpack(grads)
    scale = max(1e-300, max(np.abs(g).max() for g in coef_grads + intercept_grads))
    for actual, expected in zip(got_coefs + got_intercepts, coef_grads + intercept_grads):
        # relative to the largest gradient entry: a layer whose gradient
        # vanishes (saturated units) is compared at the scale of the others
        assert np.max(np.abs(actual - expected)) <= 1e-10 * scale
    # float32 runs the same kernels: finite and close
    params32 = params.astype(np.float32)
    cost32, grads32 = core.loss_gradient(stack, params32, net["X"].astype(np.float32),
                                         net["Y"].astype(np.float32))
    assert np.isfinite(cost32) and np.all(np.isfinite(grads32))
    assert abs(cost32 - expected_cost) <= 1e-3 * max(1.0, abs(expected_cost))


@given(networks(), st.data())
def test_training_with_dropout_and_batches_equals_reference(net, data):
    n_hidden = len(net["sizes"]) - 2
    keep = [data.draw(st.sampled_from([1.0, 0.9, 0.6])) for _ in range(n_hidden + 1)]
    stack = stack_of(net, keep)
    n = net["X"].shape[0]
    batch = data.draw(st.integers(1, n))
    shuffle = data.draw(st.booleans()) and batch < n
    threads = data.draw(st.sampled_from([1, 2]))
    epochs = data.draw(st.integers(1, 3))
    params = stack.pack(net["coefs"], net["intercepts"], np.float64)
    shuffle_bits, check_bits = np.random.PCG64(7), np.random.PCG64(7)
    result = core.train(stack, params, net["X"], net["Y"],
                        TrainingPlan(epochs=epochs, batch_size=batch, shuffle=shuffle,
                                     cost_every=1, n_threads=threads),
                        Optimizer(kind="gd", learning_rate=0.01),
                        TrainingState(shuffle_stream=shuffle_bits,
                                      dropout_stream=np.random.PCG64(8)))
    has_dropout = any(p < 1 for p in keep)
    # the call's dropout seed: one draw of its dropout stream, if it has dropout
    dropout_seed = np.random.PCG64(8).random_raw() if has_dropout else None
    try:
        with np.errstate(over="raise", invalid="raise"):
            coefs, intercepts, costs = ref.train(
                net["X"], net["Y"], net["coefs"], net["intercepts"],
                hidden_activation=net["hidden"], output_activation=net["output"],
                loss=net["loss"], learning_rate=0.01, max_iter=epochs, batch_size=batch,
                shuffle=shuffle, bit_generator=check_bits if shuffle else None, l2=net["l2"],
                leaky_slope=net["leaky_slope"], cost_every=1,
                keep_probs=keep if has_dropout else None,
                dropout_seed=dropout_seed)
            # the core also judges the final weights by their own cost
            Zs, As = ref.forward(net["X"], coefs, intercepts, net["hidden"], net["output"],
                                 net["leaky_slope"])
            ref.cost(net["loss"], Zs[-1], As[-1], net["Y"], coefs)
    except FloatingPointError:
        # A deep identity stack with unlucky weights diverges: nothing to compare.
        assume(False)
    # ...and the core reports divergence only where the reference overflows
    assert not result.diverged
    got_coefs, got_intercepts = stack.unpack(params)
    for actual, expected in zip(got_coefs + got_intercepts, coefs + intercepts):
        assert relative_error(actual, expected) < 1e-9 or np.max(np.abs(actual - expected)) < 1e-12
    np.testing.assert_allclose(result.costs, costs, rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**64 - 1), st.integers(1, 40), st.integers(1, 70),
       st.sampled_from([0.9, 0.6, 0.25, 2.0**-32]), st.data())
def test_dropout_mask_of_some_rows_is_those_rows_of_the_whole_mask(key, rows, cols,
                                                                  keep_prob, data):
    """A unit's draw depends on its batch row, not on which piece of the batch
    it is drawn with: the threads' shares of the rows, and any other cut,
    reproduce the whole batch's mask."""
    whole = ref.dropout_mask(key, rows, cols, keep_prob)
    assert whole.shape == (rows, cols) and whole.dtype == np.uint8
    assert set(np.unique(whole)) <= {0, 1}
    first = data.draw(st.integers(0, rows))
    count = data.draw(st.integers(0, rows - first))
    np.testing.assert_array_equal(
        ref.dropout_mask(key, count, cols, keep_prob, first_row=first),
        whole[first:first + count])
    n_threads = data.draw(st.integers(2, 8))
    shares = [ref.dropout_mask(key, rows * (t + 1) // n_threads - rows * t // n_threads, cols,
                               keep_prob, first_row=rows * t // n_threads)
              for t in range(n_threads)]
    np.testing.assert_array_equal(np.concatenate(shares), whole)
