"""Tests of fastnn.reference, the NumPy oracle: it must be right on its own.

Nothing here compares against stored numbers: values are checked against
finite differences, against small cases worked out by hand in the test, or
against properties the mathematics guarantees.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastnn import reference as ref

ELEMENTWISE_ACTIVATIONS = tuple(
    name for name in ref.HIDDEN_ACTIVATIONS + ref.OUTPUT_ACTIVATIONS if name != "softmax"
)


def random_network(rng, layer_sizes, scale=0.7):
    coefs = [rng.normal(0.0, scale, size=(n_in, n_out))
             for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
    intercepts = [rng.normal(0.0, 0.3, size=n_out) for n_out in layer_sizes[1:]]
    return coefs, intercepts


def targets(rng, loss, output_activation, n, k):
    if loss == "log_loss":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    if loss == "poisson":
        return rng.poisson(1.5, size=(n, k)).astype(float)  # counts, zeros among them
    if loss == "cross_entropy" or output_activation == "softmax":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if output_activation in ("sigmoid", "arctan"):
        return rng.uniform(0.1, 0.9, size=(n, k))
    if output_activation == "tanh":
        return rng.uniform(-0.9, 0.9, size=(n, k))
    return rng.normal(size=(n, k))


# ---------------------------------------------------------------------------
# Activations and their derivatives
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ELEMENTWISE_ACTIVATIONS)
def test_activation_derivative_matches_central_differences(name):
    rng = np.random.default_rng(0)
    Z = rng.uniform(-4.0, 4.0, size=(7, 5))
    Z = np.where(np.abs(Z) < 1e-2, 0.5, Z)  # keep away from the relu kink
    h = 1e-6
    numeric = (ref.activation(name, Z + h, 0.03) - ref.activation(name, Z - h, 0.03)) / (2 * h)
    np.testing.assert_allclose(ref.activation_derivative(name, Z, 0.03), numeric,
                               rtol=1e-7, atol=1e-9)


def test_relu_conventions_at_zero_and_leaky_slope():
    Z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(ref.activation("relu", Z), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(ref.activation_derivative("relu", Z), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ref.activation("leaky_relu", Z, 0.1), [-0.2, 0.0, 3.0])
    np.testing.assert_array_equal(ref.activation_derivative("leaky_relu", Z, 0.1), [0.1, 1.0, 1.0])


def test_arctan_maps_onto_unit_interval():
    values = ref.activation("arctan", np.array([-1e6, 0.0, 1.0, 1e6]))
    np.testing.assert_allclose(values, [0.0, 0.5, 0.75, 1.0], atol=1e-6)


def test_exp_covers_the_whole_range_as_numpy():
    Z = np.array([-1e4, -746.0, -740.0, -1.0, 0.0, 1.0, 700.0, 710.0, 1e4])
    with np.errstate(all="raise"):  # overflow and underflow are answers here
        A = ref.activation("exp", Z)
        np.testing.assert_array_equal(ref.activation_derivative("exp", Z), A)
    with np.errstate(over="ignore", under="ignore"):
        np.testing.assert_array_equal(A, np.exp(Z))
    assert A[0] == 0.0 and A[4] == 1.0 and np.isinf(A[-2:]).all()


def test_softmax_rows_are_distributions_and_shift_invariant():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(6, 4))
    S = ref.activation("softmax", Z)
    np.testing.assert_allclose(S.sum(axis=1), 1.0)
    np.testing.assert_allclose(ref.activation("softmax", Z + 123.0), S)
    np.testing.assert_allclose(S, np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True))


def test_softmax_has_no_elementwise_derivative():
    with pytest.raises(ValueError, match="softmax"):
        ref.activation_derivative("softmax", np.zeros((2, 3)))


@pytest.mark.parametrize("bad", ["sigmod", "ReLU", "", None])
def test_unknown_names_are_rejected_with_the_accepted_ones(bad):
    with pytest.raises(ValueError, match="expected one of"):
        ref.activation(bad, np.zeros(3))
    with pytest.raises(ValueError, match="expected one of"):
        ref.loss_per_example(bad, np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="expected one of"):
        ref.init_optimizer_state(bad, [np.zeros(2)])


def test_relu_is_not_an_output_activation_and_softmax_not_hidden():
    X, Y = np.ones((2, 2)), np.ones((2, 1))
    coefs, intercepts = [np.ones((2, 1))], [np.zeros(1)]
    with pytest.raises(ValueError, match="relu"):
        ref.forward(X, coefs, intercepts, "tanh", "relu")
    with pytest.raises(ValueError, match="softmax"):
        ref.forward(X, coefs, intercepts, "softmax", "sigmoid")
    with pytest.raises(ValueError, match="log_loss"):
        ref.output_delta("log_loss", "identity", Y, Y, Y)
    with pytest.raises(ValueError, match="cross_entropy"):
        ref.output_delta("cross_entropy", "sigmoid", Y, Y, Y)
    with pytest.raises(ValueError, match="poisson"):
        ref.output_delta("poisson", "identity", Y, Y, Y)
    with pytest.raises(ValueError, match="exp"):
        ref.forward(X, coefs, intercepts, "exp", "exp")


# ---------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------

@pytest.mark.filterwarnings("error")
def test_saturated_logits_stay_finite_without_floating_point_errors():
    Z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 1e4]])
    Y_binary = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    Y_onehot = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    with np.errstate(all="raise"):
        A = ref.activation("sigmoid", Z)
        np.testing.assert_array_equal(A, [[1.0, 0.0], [0.0, 1.0], [0.5, 1.0]])
        assert np.all(np.isfinite(ref.activation_derivative("sigmoid", Z)))
        log_loss = ref.loss_per_example("log_loss", Z, A, Y_binary)
        # each wrong saturated unit costs |z|, each right one about nothing
        np.testing.assert_allclose(log_loss, [2e4, 1e4, math.log(2) + 1e4])
        S = ref.activation("softmax", Z)
        assert np.all(np.isfinite(S))
        cross_entropy = ref.loss_per_example("cross_entropy", Z, S, Y_onehot)
        np.testing.assert_allclose(cross_entropy, [2e4, 2e4, 1e4])
        softplus = ref.softplus(np.array([-1e4, 0.0, 1e4]))
        np.testing.assert_allclose(softplus, [0.0, math.log(2), 1e4])
        J = ref.cost("log_loss", Z, A, Y_binary, [np.ones((2, 2))], l2=0.1)
        assert np.isfinite(J)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_sigmoid_and_softplus_identities_for_any_finite_input(z):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ref.activation("sigmoid", np.array([z, -z]))
        sp = ref.softplus(np.array([z, -z]))
    assert 0.0 <= s[0] <= 1.0 and 0.0 <= s[1] <= 1.0
    assert abs(s[0] + s[1] - 1.0) <= 1e-15
    if abs(z) < 1e300:
        # softplus(z) - softplus(-z) = z
        assert sp[0] - sp[1] == pytest.approx(z, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------
# Losses, output delta, hand-computed cases
# ---------------------------------------------------------------------------

OUTPUT_CASES = [("log_loss", "sigmoid"), ("cross_entropy", "softmax"), ("poisson", "exp")] + [
    ("squared", name) for name in ref.OUTPUT_ACTIVATIONS
]


@pytest.mark.parametrize("loss,output_activation", OUTPUT_CASES)
def test_output_delta_is_the_derivative_of_the_loss_with_respect_to_the_logits(loss, output_activation):
    rng = np.random.default_rng(2)
    n, k = 4, 3
    Z = rng.normal(size=(n, k))
    Y = targets(rng, loss, output_activation, n, k)

    def total_loss(Z):
        A = ref.activation(output_activation, Z)
        return np.sum(ref.loss_per_example(loss, Z, A, Y))

    h = 1e-6
    numeric = np.empty_like(Z)
    for index in np.ndindex(Z.shape):
        step = np.zeros_like(Z)
        step[index] = h
        numeric[index] = (total_loss(Z + step) - total_loss(Z - step)) / (2 * h)
    delta = ref.output_delta(loss, output_activation, Z, ref.activation(output_activation, Z), Y)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)


def test_losses_match_their_textbook_formulas():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(5, 3))
    A = 1 / (1 + np.exp(-Z))
    Y = rng.integers(0, 2, size=(5, 3)).astype(float)
    np.testing.assert_allclose(ref.loss_per_example("log_loss", Z, A, Y),
                               -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1))
    S = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    Y1 = np.eye(3)[[0, 2, 1, 1, 0]]
    np.testing.assert_allclose(ref.loss_per_example("cross_entropy", Z, S, Y1),
                               -np.sum(Y1 * np.log(S), axis=1))
    np.testing.assert_allclose(ref.loss_per_example("squared", Z, A, Y),
                               0.5 * np.sum((A - Y) ** 2, axis=1))


def test_poisson_loss_is_scikit_learn_s_half_deviance():
    """mean over the rows of the poisson loss of a = e^z is scikit-learn's
    poisson_loss (xlogy(y, y / a) - y + a, averaged over the rows, summed
    over the outputs), zero targets included; it is 0 where a = y and
    positive elsewhere (a deviance)."""
    from sklearn.neural_network._base import poisson_loss
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(9, 3)) * 2
    A = np.exp(Z)
    Y = rng.poisson(2.0, size=(9, 3)).astype(float)
    assert (Y == 0).any() and (Y > 0).any()
    per_example = ref.loss_per_example("poisson", Z, A, Y)
    assert np.mean(per_example) == pytest.approx(poisson_loss(Y, A), rel=1e-13)
    assert np.all(per_example > 0)
    Y_exact = np.array([[1.0, 3.0], [0.5, 2.0]])
    np.testing.assert_allclose(
        ref.loss_per_example("poisson", np.log(Y_exact), Y_exact, Y_exact), 0.0, atol=1e-15)
    # y = 0: the loss is a alone (y log y -> 0)
    assert ref.loss_per_example("poisson", np.array([[0.3]]), np.exp([[0.3]]),
                                np.zeros((1, 1)))[0] == pytest.approx(np.exp(0.3))


def test_cost_regularises_weights_but_not_biases():
    Z = np.zeros((4, 1))
    A = np.full((4, 1), 0.5)
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    coefs = [np.array([[1.0, 2.0]]), np.array([[3.0], [-1.0]])]
    # every example has loss log 2; ||W||^2 = 1 + 4 + 9 + 1 = 15; n = 4
    assert ref.cost("log_loss", Z, A, Y, coefs, l2=0.8) == pytest.approx(
        math.log(2) + 0.8 / 8 * 15)
    assert ref.cost("log_loss", Z, A, Y, coefs) == pytest.approx(math.log(2))


@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_one_example_logistic_regression_by_hand(l2):
    x1, x2, y = 1.0, 2.0, 1.0
    w1, w2, b = 0.5, -0.1, 0.1
    z = w1 * x1 + w2 * x2 + b          # 0.4
    a = 1 / (1 + math.exp(-z))
    expected_cost = -math.log(a) + l2 / 2 * (w1 ** 2 + w2 ** 2)
    expected_dw = [(a - y) * x1 + l2 * w1, (a - y) * x2 + l2 * w2]
    expected_db = a - y

    J, coef_grads, intercept_grads = ref.loss_gradient(
        np.array([[x1, x2]]), np.array([[y]]), [np.array([[w1], [w2]])], [np.array([b])],
        "relu", "sigmoid", "log_loss", l2=l2)
    assert J == pytest.approx(expected_cost, rel=1e-14)
    np.testing.assert_allclose(coef_grads[0].ravel(), expected_dw, rtol=1e-14)
    np.testing.assert_allclose(intercept_grads[0], [expected_db], rtol=1e-14)


def test_two_layer_tanh_network_by_hand():
    # 1 input, 1 tanh hidden unit, 1 sigmoid output, 1 example
    x, y, w1, b1, w2, b2 = 0.5, 0.0, 0.8, -0.2, 1.5, 0.3
    z1 = w1 * x + b1
    a1 = math.tanh(z1)
    z2 = w2 * a1 + b2
    a2 = 1 / (1 + math.exp(-z2))
    delta2 = a2 - y
    delta1 = delta2 * w2 * (1 - a1 ** 2)
    J, coef_grads, intercept_grads = ref.loss_gradient(
        np.array([[x]]), np.array([[y]]), [np.array([[w1]]), np.array([[w2]])],
        [np.array([b1]), np.array([b2])], "tanh", "sigmoid", "log_loss")
    assert J == pytest.approx(-math.log(1 - a2), rel=1e-14)
    np.testing.assert_allclose([g.item() for g in coef_grads], [delta1 * x, delta2 * a1], rtol=1e-14)
    np.testing.assert_allclose([g.item() for g in intercept_grads], [delta1, delta2], rtol=1e-14)


def test_xnor_network_from_the_notes():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    coefs = [np.array([[20.0, -20.0], [20.0, -20.0]]), np.array([[20.0], [20.0]])]
    intercepts = [np.array([-30.0, 10.0]), np.array([-10.0])]
    output = ref.predict_output(X, coefs, intercepts, "sigmoid", "sigmoid")
    np.testing.assert_array_equal(np.round(output).ravel(), [1.0, 0.0, 0.0, 1.0])
    # the hidden units really are AND and NOR
    _, As = ref.forward(X, coefs, intercepts, "sigmoid", "sigmoid")
    np.testing.assert_array_equal(np.round(As[1]), [[0, 1], [0, 0], [0, 0], [1, 0]])


# ---------------------------------------------------------------------------
# Back-propagation against finite differences
# ---------------------------------------------------------------------------

GRADIENT_CASES = [
    (hidden, loss, output)
    for hidden in ref.HIDDEN_ACTIVATIONS
    for loss, output in OUTPUT_CASES
]


@pytest.mark.parametrize("n_hidden_layers", [0, 1, 3])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("hidden_activation,loss,output_activation", GRADIENT_CASES)
def test_backprop_matches_gradient_check(hidden_activation, loss, output_activation, l2,
                                         n_hidden_layers):
    rng = np.random.default_rng([n_hidden_layers, int(l2 * 10),
                                 GRADIENT_CASES.index((hidden_activation, loss, output_activation))])
    n, d = 6, 3
    k = 1 if loss == "log_loss" and rng.random() < 0.5 else 2
    layer_sizes = (d,) + (4, 3, 4)[:n_hidden_layers] + (k,)
    coefs, intercepts = random_network(rng, layer_sizes)
    X = rng.normal(size=(n, d))
    Y = targets(rng, loss, output_activation, n, k)
    error = ref.gradient_check_network(X, Y, coefs, intercepts, hidden_activation,
                                       output_activation, loss, l2=l2, leaky_slope=0.05)
    assert error < 1e-7


@pytest.mark.parametrize("hidden_activation", ref.HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("loss,output_activation",
                         [("log_loss", "sigmoid"), ("cross_entropy", "softmax"),
                          ("squared", "identity"), ("squared", "softmax")])
def test_backprop_with_fixed_dropout_masks_matches_gradient_check(hidden_activation, loss,
                                                                  output_activation):
    rng = np.random.default_rng(ref.HIDDEN_ACTIVATIONS.index(hidden_activation))
    n, layer_sizes = 8, (4, 5, 5, 3)
    coefs, intercepts = random_network(rng, layer_sizes)
    X = rng.normal(size=(n, layer_sizes[0]))
    Y = targets(rng, loss, output_activation, n, layer_sizes[-1])
    keep_probs = [0.8, 0.5, 0.7]
    masks = [(rng.random((n, size)) < p).astype(float)
             for size, p in zip(layer_sizes[:-1], keep_probs)]
    masks[2][0, :] = 0.0  # an example with its whole last hidden layer dropped
    error = ref.gradient_check_network(X, Y, coefs, intercepts, hidden_activation,
                                       output_activation, loss, l2=0.2,
                                       keep_probs=keep_probs, masks=masks)
    assert error < 1e-7

    # the same check written out with the generic gradient_check
    def cost_fn(theta):
        theta_coefs, theta_intercepts = ref.vector_to_params(theta, layer_sizes)
        return ref.loss_gradient(X, Y, theta_coefs, theta_intercepts, hidden_activation,
                                 output_activation, loss, 0.2, 0.01, keep_probs, masks)[0]

    _, coef_grads, intercept_grads = ref.loss_gradient(
        X, Y, coefs, intercepts, hidden_activation, output_activation, loss, 0.2, 0.01,
        keep_probs, masks)
    grad = ref.params_to_vector(coef_grads, intercept_grads)
    assert ref.gradient_check(cost_fn, ref.params_to_vector(coefs, intercepts), grad) < 1e-7
    # and the masks matter: the dropout-free gradient is a different one
    _, plain_coef_grads, plain_intercept_grads = ref.loss_gradient(
        X, Y, coefs, intercepts, hidden_activation, output_activation, loss, 0.2)
    plain = ref.params_to_vector(plain_coef_grads, plain_intercept_grads)
    assert not np.allclose(plain, grad)


def test_inverted_dropout_forward_scales_kept_units_and_zeroes_dropped_ones():
    rng = np.random.default_rng(4)
    layer_sizes = (3, 4, 2)
    coefs, intercepts = random_network(rng, layer_sizes)
    X = rng.normal(size=(5, 3))
    masks = [None, (rng.random((5, 4)) < 0.5).astype(float)]
    Zs, As = ref.forward(X, coefs, intercepts, "tanh", "sigmoid", keep_probs=[1.0, 0.5],
                         masks=masks)
    assert Zs[0] is None and len(Zs) == len(As) == 3
    np.testing.assert_array_equal(As[0], X)
    np.testing.assert_allclose(As[1], np.tanh(X @ coefs[0] + intercepts[0]) * masks[1] / 0.5)
    np.testing.assert_allclose(Zs[2], As[1] @ coefs[1] + intercepts[1])
    # input dropout
    input_mask = (rng.random((5, 3)) < 0.8).astype(float)
    _, As = ref.forward(X, coefs, intercepts, "tanh", "sigmoid", keep_probs=[0.8, 1.0],
                        masks=[input_mask, None])
    np.testing.assert_allclose(As[0], X * input_mask / 0.8)


def test_functions_do_not_modify_their_inputs():
    rng = np.random.default_rng(5)
    layer_sizes = (3, 4, 2)
    coefs, intercepts = random_network(rng, layer_sizes)
    X = rng.normal(size=(5, 3))
    Y = np.eye(2)[[0, 1, 1, 0, 1]]
    masks = [(rng.random((5, 3)) < 0.5).astype(float), (rng.random((5, 4)) < 0.5).astype(float)]
    originals = [a.copy() for a in [X, Y, *coefs, *intercepts, *masks]]
    Zs, As = ref.forward(X, coefs, intercepts, "relu", "softmax", keep_probs=[0.5, 0.5], masks=masks)
    saved_activations = [a.copy() for a in As]
    ref.backward(Y, coefs, Zs, As, "relu", "softmax", "cross_entropy", l2=0.1,
                 keep_probs=[0.5, 0.5], masks=masks)
    ref.train(X, Y, coefs, intercepts, hidden_activation="relu", output_activation="softmax",
              loss="cross_entropy", learning_rate=0.1, max_iter=2, optimizer="adam",
              keep_probs=[0.5, 0.5], dropout_seed=12345)
    for before, after in zip(originals, [X, Y, *coefs, *intercepts, *masks]):
        np.testing.assert_array_equal(before, after)
    for before, after in zip(saved_activations, As):
        np.testing.assert_array_equal(before, after)


def test_parameter_vector_round_trip_and_order():
    rng = np.random.default_rng(6)
    layer_sizes = (3, 2, 1)
    coefs, intercepts = random_network(rng, layer_sizes)
    theta = ref.params_to_vector(coefs, intercepts)
    assert theta.shape == (3 * 2 + 2 + 2 * 1 + 1,)
    np.testing.assert_array_equal(theta[:6], coefs[0].ravel())
    np.testing.assert_array_equal(theta[6:8], intercepts[0])
    new_coefs, new_intercepts = ref.vector_to_params(theta, layer_sizes)
    for a, b in zip(coefs + intercepts, new_coefs + new_intercepts):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        ref.vector_to_params(theta[:-1], layer_sizes)


def test_gradient_check_detects_a_wrong_gradient():
    def cost_fn(theta):
        return float(np.sum(theta ** 3))

    theta = np.array([0.5, -1.0, 2.0])
    assert ref.gradient_check(cost_fn, theta, 3 * theta ** 2) < 1e-7
    assert ref.gradient_check(cost_fn, theta, 3 * theta ** 2 * 1.01) > 1e-3
    assert ref.gradient_check(lambda t: 1.0, theta, np.zeros(3)) == 0.0


# ---------------------------------------------------------------------------
# Optimisers
# ---------------------------------------------------------------------------

P0 = [np.array([1.0, -2.0]), np.array([[0.5]])]
G1 = [np.array([0.5, 0.1]), np.array([[-2.0]])]
G2 = [np.array([-0.3, 0.2]), np.array([[1.0]])]
LR = 0.1


def two_steps(optimizer, **hyper):
    state = ref.init_optimizer_state(optimizer, P0)
    p1, state = ref.optimizer_step(optimizer, P0, G1, state, LR, **hyper)
    p2, state = ref.optimizer_step(optimizer, p1, G2, state, LR, **hyper)
    return p1, p2, state


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def test_gd_step():
    p1, p2, state = two_steps("gd")
    np.testing.assert_allclose(flat(p1), flat(P0) - LR * flat(G1))
    np.testing.assert_allclose(flat(p2), flat(P0) - LR * (flat(G1) + flat(G2)))
    assert state["t"] == 2


def test_momentum_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    momentum = 0.8
    v1 = (1 - momentum) * g1
    v2 = momentum * v1 + (1 - momentum) * g2
    p1, p2, state = two_steps("momentum", momentum=momentum)
    np.testing.assert_allclose(flat(p1), p - LR * v1, rtol=1e-15)
    np.testing.assert_allclose(flat(p2), p - LR * v1 - LR * v2, rtol=1e-15)
    np.testing.assert_allclose(flat(state["v"]), v2, rtol=1e-15)


def test_rmsprop_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    beta_2, eps = 0.9, 1e-8
    s1 = (1 - beta_2) * g1 ** 2
    s2 = beta_2 * s1 + (1 - beta_2) * g2 ** 2
    p1, p2, state = two_steps("rmsprop", beta_2=beta_2, epsilon=eps)
    expected_p1 = p - LR * g1 / (np.sqrt(s1) + eps)
    np.testing.assert_allclose(flat(p1), expected_p1, rtol=1e-15)
    np.testing.assert_allclose(flat(p2), expected_p1 - LR * g2 / (np.sqrt(s2) + eps), rtol=1e-15)
    np.testing.assert_allclose(flat(state["s"]), s2, rtol=1e-15)


def test_adam_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    beta_1, beta_2, eps = 0.9, 0.999, 1e-8
    p1, p2, state = two_steps("adam")
    # first step: bias correction makes m_hat = g and v_hat = g^2
    np.testing.assert_allclose(flat(p1), p - LR * g1 / (np.abs(g1) + eps), rtol=1e-14)
    m2 = beta_1 * (1 - beta_1) * g1 + (1 - beta_1) * g2
    v2 = beta_2 * (1 - beta_2) * g1 ** 2 + (1 - beta_2) * g2 ** 2
    m_hat = m2 / (1 - beta_1 ** 2)
    v_hat = v2 / (1 - beta_2 ** 2)
    np.testing.assert_allclose(flat(p2), flat(p1) - LR * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-14)
    assert state["t"] == 2
    np.testing.assert_allclose(flat(state["m"]), m2, rtol=1e-15)
    np.testing.assert_allclose(flat(state["v"]), v2, rtol=1e-15)


def test_heavy_ball_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    momentum = 0.8
    v1 = -LR * g1
    v2 = momentum * v1 - LR * g2
    p1, p2, state = two_steps("heavy_ball", momentum=momentum)
    np.testing.assert_allclose(flat(p1), p + v1, rtol=1e-15)
    np.testing.assert_allclose(flat(p2), p + v1 + v2, rtol=1e-15)
    np.testing.assert_allclose(flat(state["v"]), v2, rtol=1e-15)
    # momentum 0 is plain gradient descent
    _, gd_2, _ = two_steps("gd")
    _, sgd_2, _ = two_steps("heavy_ball", momentum=0.0)
    np.testing.assert_array_equal(flat(sgd_2), flat(gd_2))


def test_nesterov_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    momentum = 0.8
    v1 = -LR * g1
    v2 = momentum * v1 - LR * g2
    p1, p2, state = two_steps("nesterov", momentum=momentum)
    # each step looks ahead along the new velocity
    np.testing.assert_allclose(flat(p1), p + momentum * v1 - LR * g1, rtol=1e-15)
    np.testing.assert_allclose(flat(p2), flat(p1) + momentum * v2 - LR * g2, rtol=1e-15)
    np.testing.assert_allclose(flat(state["v"]), v2, rtol=1e-15)


def test_adam_step_corrected_steps_by_hand():
    p, g1, g2 = flat(P0), flat(G1), flat(G2)
    beta_1, beta_2, eps = 0.9, 0.999, 1e-8
    p1, p2, state = two_steps("adam_step_corrected")
    m1, v1 = (1 - beta_1) * g1, (1 - beta_2) * g1 ** 2
    lr_1 = LR * np.sqrt(1 - beta_2) / (1 - beta_1)
    np.testing.assert_allclose(flat(p1), p - lr_1 * m1 / (np.sqrt(v1) + eps), rtol=1e-14)
    m2 = beta_1 * m1 + (1 - beta_1) * g2
    v2 = beta_2 * v1 + (1 - beta_2) * g2 ** 2
    lr_2 = LR * np.sqrt(1 - beta_2 ** 2) / (1 - beta_1 ** 2)
    np.testing.assert_allclose(flat(p2), flat(p1) - lr_2 * m2 / (np.sqrt(v2) + eps), rtol=1e-14)
    assert state["t"] == 2
    np.testing.assert_allclose(flat(state["m"]), m2, rtol=1e-15)
    np.testing.assert_allclose(flat(state["v"]), v2, rtol=1e-15)
    # adam, but with epsilon on sqrt(v) instead of sqrt(v_hat): the same
    # parameters once epsilon is negligible
    _, adam_2, _ = two_steps("adam", epsilon=1e-300)
    _, corrected_2, _ = two_steps("adam_step_corrected", epsilon=1e-300)
    np.testing.assert_allclose(flat(corrected_2), flat(adam_2), rtol=1e-14)


@pytest.mark.parametrize("optimizer", ref.OPTIMIZERS)
def test_optimizer_step_leaves_params_and_state_alone(optimizer):
    state = ref.init_optimizer_state(optimizer, P0)
    assert state["t"] == 0
    saved = {key: [a.copy() for a in value] for key, value in state.items() if key != "t"}
    params = [a.copy() for a in P0]
    ref.optimizer_step(optimizer, params, G1, state, LR)
    np.testing.assert_array_equal(flat(params), flat(P0))
    assert state["t"] == 0
    for key, arrays in saved.items():
        assert all(np.all(a == 0) for a in arrays)
        np.testing.assert_array_equal(flat(state[key]), flat(arrays))


# ---------------------------------------------------------------------------
# Shuffling and mini-batches
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("high", [0, 1, 2, 3, 5, 7, 8, 100, 2**31, 2**40 + 3, 2**64 - 1])
def test_bounded_uint_stays_in_range_and_follows_masked_rejection(high):
    generator = np.random.PCG64(11)
    replay = np.random.PCG64(11)
    mask = (1 << max(high.bit_length(), 0)) - 1
    for _ in range(200):
        value = ref.bounded_uint(generator, high)
        assert 0 <= value <= high
        if high == 0:
            continue
        # replay the same raw stream: the first masked draw that fits is the answer
        while True:
            u = int(replay.random_raw()) & mask
            if u <= high:
                break
        assert value == u
    if high == 0:
        # no draw is consumed for the trivial range
        assert generator.random_raw() == replay.random_raw()


def test_bounded_uint_is_roughly_uniform():
    generator = np.random.PCG64(12)
    counts = np.bincount([ref.bounded_uint(generator, 4) for _ in range(25000)], minlength=5)
    assert counts.size == 5
    # 5000 expected per value; the standard deviation is about 63
    assert np.all(np.abs(counts - 5000) < 400)


def test_shuffle_is_a_deterministic_permutation():
    first = np.arange(50)
    ref.shuffle_in_place(first, np.random.PCG64(7))
    second = np.arange(50)
    ref.shuffle_in_place(second, np.random.PCG64(7))
    other = np.arange(50)
    ref.shuffle_in_place(other, np.random.PCG64(8))
    np.testing.assert_array_equal(np.sort(first), np.arange(50))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))
    assert not np.array_equal(first, other)


def test_shuffle_follows_fisher_yates_on_the_raw_stream():
    order = np.arange(6)
    ref.shuffle_in_place(order, np.random.PCG64(3))
    replay = np.random.PCG64(3)
    expected = list(range(6))
    for i in range(5, 0, -1):
        j = ref.bounded_uint(replay, i)
        expected[i], expected[j] = expected[j], expected[i]
    np.testing.assert_array_equal(order, expected)


def test_shuffle_reaches_every_permutation_evenly():
    generator = np.random.PCG64(9)
    counts = {}
    for _ in range(6000):
        order = [0, 1, 2]
        ref.shuffle_in_place(order, generator)
        counts[tuple(order)] = counts.get(tuple(order), 0) + 1
    assert len(counts) == 6
    assert all(abs(count - 1000) < 150 for count in counts.values())


def test_shuffle_of_short_orders_is_a_no_op():
    for n in (0, 1):
        order = np.arange(n)
        ref.shuffle_in_place(order, np.random.PCG64(0))
        np.testing.assert_array_equal(order, np.arange(n))


@pytest.mark.parametrize("n,batch_size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 64), (1, 4)])
def test_minibatches_cover_every_index_once(n, batch_size):
    order = np.random.default_rng(0).permutation(n)
    batches = ref.minibatches(order, batch_size)
    assert len(batches) == -(-n // batch_size)
    assert all(len(batch) == batch_size for batch in batches[:-1])
    assert 1 <= len(batches[-1]) <= batch_size
    np.testing.assert_array_equal(np.concatenate(batches), order)


def test_minibatches_full_batch_and_bad_sizes():
    order = np.arange(7)
    batches = ref.minibatches(order, None)
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0], order)
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError, match="batch_size"):
            ref.minibatches(order, bad)


# ---------------------------------------------------------------------------
# Dropout masks: the compiled loop's hash (csrc/fastnn_kernels.c)
# ---------------------------------------------------------------------------

def hash32_one(x):
    """fnn_hash32 (lowbias32) on one integer, written out in Python integers."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def test_dropout_key_is_splitmix64s_finaliser():
    # splitmix64 started from 0 outputs these two (its published first values)
    assert ref.dropout_key(0, 0, 0) == 0xE220A8397B1DCDAF
    assert ref.dropout_key(0x9E3779B97F4A7C15, 0, 0) == 0x6E789E6AA1B965F4
    # the step moves the input by 256, the layer by 1, modulo 2**64
    assert ref.dropout_key(5, 3, 2) == ref.dropout_key(5 + 3 * 256 + 2, 0, 0)
    assert ref.dropout_key(2**64 - 1, 0, 1) == ref.dropout_key(0, 0, 0)
    assert ref.dropout_key(2**64 - 1, 2**60, 255) < 2**64
    assert len({ref.dropout_key(7, step, layer) for step in range(50) for layer in range(4)}) == 200


@pytest.mark.parametrize("key, first_row, rows, cols, keep_prob", [
    (0, 0, 3, 4, 0.5),
    (2**64 - 1, 7, 5, 3, 0.9),
    (0x0123456789ABCDEF, 2**32 // 3 - 1, 4, 3, 0.3),  # row * cols wraps past 2**32
    (0xFEDCBA9876543210, 2, 6, 5, 2.0**-32),          # threshold 1: only u == 0 kept
], ids=["zero key", "all-ones key", "index wraps", "tiny keep_prob"])
def test_dropout_mask_is_the_c_formula_unit_by_unit(key, first_row, rows, cols, keep_prob):
    key_low, key_high = key & 0xFFFFFFFF, key >> 32
    threshold = int(keep_prob * 2**32)
    expected = [[hash32_one(hash32_one(((first_row + i) * cols + j) ^ key_low) + key_high)
                 < threshold for j in range(cols)] for i in range(rows)]
    mask = ref.dropout_mask(key, rows, cols, keep_prob, first_row=first_row)
    assert mask.dtype == np.uint8 and mask.shape == (rows, cols)
    np.testing.assert_array_equal(mask, np.array(expected, dtype=np.uint8))


def test_dropout_mask_edges():
    np.testing.assert_array_equal(ref.dropout_mask(123, 3, 4, 1.0), np.ones((3, 4), np.uint8))
    assert ref.dropout_mask(123, 0, 4, 0.5).shape == (0, 4)
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="keep_prob"):
            ref.dropout_mask(123, 3, 4, bad)
    # step_dropout_masks: one mask per layer input, None where nothing is dropped
    masks = ref.step_dropout_masks(9, 4, 6, (3, 5, 2), (0.8, 1.0, 0.5))
    assert masks[1] is None
    np.testing.assert_array_equal(masks[0], ref.dropout_mask(ref.dropout_key(9, 4, 0), 6, 3, 0.8))
    np.testing.assert_array_equal(masks[2], ref.dropout_mask(ref.dropout_key(9, 4, 2), 6, 2, 0.5))


# ---------------------------------------------------------------------------
# Training loop
# ---------------------------------------------------------------------------

def logistic_problem(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ np.array([1.5, -2.0, 0.5])[:d] + 0.3 * rng.normal(size=n) > 0).astype(float)
    return X, y[:, None]


def test_full_batch_gd_on_logistic_regression_never_increases_the_cost():
    X, Y = logistic_problem()
    coefs, intercepts = [np.zeros((3, 1))], [np.zeros(1)]
    new_coefs, new_intercepts, costs = ref.train(
        X, Y, coefs, intercepts, hidden_activation="relu", output_activation="sigmoid",
        loss="log_loss", learning_rate=0.5, max_iter=60, cost_every=1, l2=0.1)
    assert costs.shape == (60,) and costs.dtype == np.float64
    assert costs[0] == pytest.approx(math.log(2))  # zero weights: a = 1/2 everywhere
    assert np.all(np.diff(costs) <= 1e-12)
    assert costs[-1] < 0.6 * costs[0]
    predictions = ref.predict_output(X, new_coefs, new_intercepts, "relu", "sigmoid") >= 0.5
    assert ref.accuracy_percent(predictions.astype(float), Y) > 85.0


def test_one_full_batch_step_equals_a_manual_step():
    rng = np.random.default_rng(1)
    X, Y = logistic_problem(n=12, seed=1)
    coefs, intercepts = random_network(rng, (3, 4, 1))
    new_coefs, new_intercepts, costs = ref.train(
        X, Y, coefs, intercepts, hidden_activation="tanh", output_activation="sigmoid",
        loss="log_loss", learning_rate=0.3, max_iter=1, l2=0.2)
    J, coef_grads, intercept_grads = ref.loss_gradient(X, Y, coefs, intercepts, "tanh",
                                                       "sigmoid", "log_loss", l2=0.2)
    assert costs.shape == (1,) and costs[0] == pytest.approx(J, rel=1e-14)
    for new, old, grad in zip(new_coefs + new_intercepts, coefs + intercepts,
                              coef_grads + intercept_grads):
        np.testing.assert_allclose(new, old - 0.3 * grad, rtol=1e-14)


@pytest.mark.parametrize("max_iter,cost_every", [(7, 3), (6, 3), (5, 1), (4, 100)])
def test_minibatch_costs_are_recorded_every_cost_every_epochs(max_iter, cost_every):
    X, Y = logistic_problem(n=23)
    _, _, costs = ref.train(
        X, Y, [np.zeros((3, 1))], [np.zeros(1)], hidden_activation="relu",
        output_activation="sigmoid", loss="log_loss", learning_rate=0.1, max_iter=max_iter,
        batch_size=5, shuffle=True, bit_generator=np.random.PCG64(0), cost_every=cost_every)
    assert len(costs) == -(-max_iter // cost_every)


def test_minibatch_training_replayed_by_hand():
    rng = np.random.default_rng(2)
    X, Y = logistic_problem(n=10, seed=2)
    coefs, intercepts = random_network(rng, (3, 2, 1))
    kwargs = dict(hidden_activation="sigmoid", output_activation="sigmoid", loss="log_loss")
    new_coefs, new_intercepts, costs = ref.train(
        X, Y, coefs, intercepts, learning_rate=0.2, max_iter=3, batch_size=4, shuffle=True,
        bit_generator=np.random.PCG64(5), cost_every=2, l2=0.4, optimizer="momentum", **kwargs)

    # the same loop, written out: the order persists between epochs, L2 is
    # scaled by each batch's size, and the epoch cost is the size-weighted mean
    order = np.arange(10)
    generator = np.random.PCG64(5)
    params = [coefs[0], intercepts[0], coefs[1], intercepts[1]]
    state = ref.init_optimizer_state("momentum", params)
    expected_costs = []
    for epoch in range(3):
        ref.shuffle_in_place(order, generator)
        total = 0.0
        for start in range(0, 10, 4):
            batch = order[start:start + 4]
            J, coef_grads, intercept_grads = ref.loss_gradient(
                X[batch], Y[batch], params[0::2], params[1::2], l2=0.4, **kwargs)
            total += len(batch) * J
            grads = [coef_grads[0], intercept_grads[0], coef_grads[1], intercept_grads[1]]
            params, state = ref.optimizer_step("momentum", params, grads, state, 0.2)
        if epoch % 2 == 0:
            expected_costs.append(total / 10)
    np.testing.assert_allclose(costs, expected_costs, rtol=1e-14)
    for got, expected in zip(new_coefs + new_intercepts, params[0::2] + params[1::2]):
        np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_training_with_dropout_reports_the_cost_without_dropout():
    rng = np.random.default_rng(3)
    X, Y = logistic_problem(n=8, seed=3)
    coefs, intercepts = random_network(rng, (3, 5, 1))
    keep_probs = [1.0, 0.6]
    # step 0's masks: none for the data (keep 1), a drawn one for the hidden layer
    step_masks = [None, ref.dropout_mask(ref.dropout_key(99, 0, 1), 8, 5, 0.6)]
    assert 0 < step_masks[1].sum() < step_masks[1].size
    kwargs = dict(hidden_activation="relu", output_activation="sigmoid", loss="log_loss")
    new_coefs, new_intercepts, costs = ref.train(
        X, Y, coefs, intercepts, learning_rate=0.5, max_iter=1, cost_every=1,
        keep_probs=keep_probs, dropout_seed=99, **kwargs)
    J_plain = ref.loss_gradient(X, Y, coefs, intercepts, **kwargs)[0]
    J_dropped, coef_grads, intercept_grads = ref.loss_gradient(
        X, Y, coefs, intercepts, keep_probs=keep_probs, masks=step_masks, **kwargs)
    assert J_plain != pytest.approx(J_dropped)
    assert costs[0] == pytest.approx(J_plain, rel=1e-14)
    for new, old, grad in zip(new_coefs + new_intercepts, coefs + intercepts,
                              coef_grads + intercept_grads):
        np.testing.assert_allclose(new, old - 0.5 * grad, rtol=1e-14)


def test_training_with_dropout_draws_each_steps_masks_from_the_seed():
    rng = np.random.default_rng(4)
    X, Y = logistic_problem(n=10, seed=4)
    coefs, intercepts = random_network(rng, (3, 4, 1))
    keep_probs = [0.9, 0.7]
    kwargs = dict(hidden_activation="tanh", output_activation="sigmoid", loss="log_loss")
    new_coefs, new_intercepts, _ = ref.train(
        X, Y, coefs, intercepts, learning_rate=0.3, max_iter=2, batch_size=4, cost_every=1,
        keep_probs=keep_probs, dropout_seed=2**64 - 5, **kwargs)
    # the same loop written out: 2 epochs of batches of 4, 4 and 2 rows, step
    # s (0..5, counted across the epochs) dropping with its own masks
    params = [coefs[0], intercepts[0], coefs[1], intercepts[1]]
    step = 0
    for epoch in range(2):
        for start in range(0, 10, 4):
            rows = slice(start, start + 4)
            n_rows = len(X[rows])
            masks = [ref.dropout_mask(ref.dropout_key(2**64 - 5, step, l), n_rows, size, p)
                     for l, (size, p) in enumerate(zip((3, 4), keep_probs))]
            _, coef_grads, intercept_grads = ref.loss_gradient(
                X[rows], Y[rows], params[0::2], params[1::2], keep_probs=keep_probs,
                masks=masks, **kwargs)
            grads = [coef_grads[0], intercept_grads[0], coef_grads[1], intercept_grads[1]]
            params = [p - 0.3 * g for p, g in zip(params, grads)]
            step += 1
    for got, expected in zip(new_coefs + new_intercepts, params[0::2] + params[1::2]):
        np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_train_needs_keep_probs_and_dropout_seed_together():
    X, Y = logistic_problem(n=4)
    kwargs = dict(hidden_activation="relu", output_activation="sigmoid", loss="log_loss",
                  learning_rate=0.1, max_iter=1)
    with pytest.raises(ValueError, match="dropout_seed"):
        ref.train(X, Y, [np.zeros((3, 1))], [np.zeros(1)], keep_probs=[0.5], **kwargs)
    with pytest.raises(ValueError, match="keep_probs"):
        ref.train(X, Y, [np.zeros((3, 1))], [np.zeros(1)], dropout_seed=1, **kwargs)
    with pytest.raises(ValueError, match="uint64"):
        ref.train(X, Y, [np.zeros((3, 1))], [np.zeros(1)], keep_probs=[0.5], dropout_seed=-1,
                  **kwargs)


def test_train_rejects_shuffle_without_generator():
    X, Y = logistic_problem(n=4)
    with pytest.raises(ValueError, match="bit_generator"):
        ref.train(X, Y, [np.zeros((3, 1))], [np.zeros(1)], hidden_activation="relu",
                  output_activation="sigmoid", loss="log_loss", learning_rate=0.1,
                  max_iter=1, shuffle=True)


# ---------------------------------------------------------------------------
# Split, error measures and diagnosis
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("N,ratios,sizes", [
    (100, None, (60, 20, 20)),
    (10**4, None, (6000, 2000, 2000)),
    (20001, None, (19601, 200, 200)),
    (10, (0.5, 0.25, 0.25), (6, 2, 2)),
    (9, (0.0, 0.5, 0.5), (1, 4, 4)),
    (5, (1.0, 0.0, 0.0), (5, 0, 0)),
])
def test_split_sizes_and_partition(N, ratios, sizes):
    X = np.arange(N * 2).reshape(N, 2)
    y = np.arange(N)
    parts = ref.split(X, y, ratios, random_state=0)
    assert tuple(len(part_y) for _, part_y in parts) == sizes
    for part_X, part_y in parts:
        np.testing.assert_array_equal(part_X[:, 0], 2 * part_y)  # rows stay paired
    np.testing.assert_array_equal(np.sort(np.concatenate([part_y for _, part_y in parts])),
                                  np.arange(N))


def test_split_is_seeded_and_shuffles():
    X = np.arange(50)[:, None]
    y = np.arange(50)
    first = ref.split(X, y, random_state=3)
    second = ref.split(X, y, random_state=3)
    for (X1, y1), (X2, y2) in zip(first, second):
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(first[0][1], np.arange(30))
    np.testing.assert_array_equal(first[0][1], np.random.default_rng(3).permutation(50)[:30])


@pytest.mark.parametrize("ratios", [(0.5, 0.5), (0.6, 0.3, 0.3), (1.2, -0.1, -0.1), (0.5, 0.5, 0, 0)])
def test_split_rejects_bad_ratios(ratios):
    with pytest.raises(ValueError, match="ratios"):
        ref.split(np.zeros((10, 1)), np.zeros(10), ratios)


def test_error_rate_and_accuracy_percent():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    y_pred = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    assert ref.error_rate(y_pred, y) == 0.25
    assert ref.accuracy_percent(y_pred, y) == 75.0
    assert ref.error_rate(y, y) == 0.0 and ref.accuracy_percent(y, y) == 100.0
    assert ref.accuracy_percent(1 - y, y) == 0.0
    # a column of predictions against a vector of labels compares example by example
    assert ref.error_rate(y_pred[:, None], y) == 0.25
    assert ref.error_rate(np.array(["a", "b"]), np.array(["a", "c"])) == 0.5


@pytest.mark.parametrize("train_error,dev_error,bias,variance,verdict", [
    (0.01, 0.02, False, False, "low bias, low variance"),
    (0.01, 0.11, False, True, "high variance"),
    (0.15, 0.16, True, False, "high bias"),
    (0.15, 0.30, True, True, "high bias and high variance"),
])
def test_diagnose_verdicts_and_advice(train_error, dev_error, bias, variance, verdict):
    high_bias, high_variance, got_verdict, advice = ref.diagnose(train_error, dev_error)
    assert (high_bias, high_variance, got_verdict) == (bias, variance, verdict)
    assert isinstance(advice, tuple)
    assert ("bigger network" in advice) == bias and ("train longer" in advice) == bias
    assert ("more data" in advice) == variance and ("regularisation" in advice) == variance
    assert ("other architecture" in advice) == (bias or variance)
    assert len(set(advice)) == len(advice)


def test_diagnose_tolerance_is_used():
    assert ref.diagnose(0.08, 0.09)[2] == "high bias"
    assert ref.diagnose(0.08, 0.09, tolerance=0.1)[2] == "low bias, low variance"
