"""Plain-NumPy reference implementation of SPEC.md: the oracle for the compiled core.

Every test of compiled code compares against the functions here, so this module
is written to be read and checked, not to be fast. It works in float64, imports
nothing but NumPy, and uses no global random state.

Layout follows the library: rows are examples, so ``X`` has shape ``(n, d)``
and ``Y`` is always 2-D ``(n, k)``. Layer ``l = 1..L`` computes
``Z_l = A_{l-1} W_l + b_l`` and ``A_l = g_l(Z_l)`` with ``A_0 = X``; in code
``coefs[l - 1]`` is ``W_l`` of shape ``(n_{l-1}, n_l)`` and ``intercepts[l - 1]``
is ``b_l`` of shape ``(n_l,)``.

Every function is pure (returns new arrays, never writes into its arguments)
except ``shuffle_in_place``, which mirrors the compiled in-place shuffle; and
``bounded_uint``, ``shuffle_in_place`` and ``train`` advance the bit generator
they are given, as the compiled loop does.
Randomness is mirrored draw for draw where the compiled loop has it:
``shuffle_in_place`` from a bit generator, ``dropout_mask`` as a hash of
(seed, step, layer, row, unit).
"""

import numpy as np

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "arctan", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "arctan", "identity", "softmax", "exp")
LOSSES = ("log_loss", "cross_entropy", "squared", "poisson")
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam", "heavy_ball", "nesterov",
              "adam_step_corrected")

_ALL_ACTIVATIONS = HIDDEN_ACTIVATIONS + tuple(
    name for name in OUTPUT_ACTIVATIONS if name not in HIDDEN_ACTIVATIONS
)


def _check_name(what, name, accepted):
    if name not in accepted:
        raise ValueError(
            f"unknown {what} {name!r}; expected one of {', '.join(map(repr, accepted))}"
        )


def _as_float(array):
    return np.asarray(array, dtype=np.float64)


# ---------------------------------------------------------------------------
# SPEC 1. Activations, each value next to its derivative.
# ---------------------------------------------------------------------------

def _sigmoid(Z):
    # Two branches so that exp never sees a large positive argument: for z >= 0
    # exp(-z) <= 1, for z < 0 exp(z) < 1. Underflow to 0 is the right answer for
    # very negative arguments, so it is not reported as an error.
    A = np.empty_like(Z)
    nonnegative = Z >= 0
    with np.errstate(under="ignore"):
        A[nonnegative] = 1.0 / (1.0 + np.exp(-Z[nonnegative]))
        exp_z = np.exp(Z[~nonnegative])
    A[~nonnegative] = exp_z / (1.0 + exp_z)
    return A


def _softmax(Z):
    # Subtracting the row maximum leaves softmax unchanged and keeps every
    # exponent <= 0, so nothing overflows.
    shifted = Z - np.max(Z, axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        exp_shifted = np.exp(shifted)
    return exp_shifted / np.sum(exp_shifted, axis=-1, keepdims=True)


def activation(name, Z, leaky_slope=0.01):
    """g(Z) elementwise (row-wise for softmax), SPEC 1."""
    _check_name("activation", name, _ALL_ACTIVATIONS)
    Z = _as_float(Z)
    if name == "sigmoid":
        return _sigmoid(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0.0)
    if name == "leaky_relu":
        # Written as a branch on the sign so value and derivative share one
        # convention; equals max(beta z, z) for the usual 0 <= beta <= 1.
        return np.where(Z >= 0, Z, leaky_slope * Z)
    if name == "arctan":
        return np.arctan(Z) / np.pi + 0.5
    if name == "identity":
        return Z.copy()
    if name == "exp":
        # Over the whole range, as NumPy's exp: inf where e^z overflows, 0 or
        # subnormal where it underflows (both are the answers, not errors).
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(Z)
    return _softmax(Z)


def activation_derivative(name, Z, leaky_slope=0.01):
    """g'(Z) elementwise, SPEC 1 (relu and leaky_relu take slope 1 at z = 0)."""
    _check_name("activation", name, _ALL_ACTIVATIONS)
    if name == "softmax":
        raise ValueError(
            "softmax has no elementwise derivative (its Jacobian couples the units "
            "of a row); output_delta applies it as a Jacobian-vector product"
        )
    Z = _as_float(Z)
    if name == "sigmoid":
        A = _sigmoid(Z)
        return A * (1.0 - A)
    if name == "tanh":
        A = np.tanh(Z)
        return 1.0 - A * A
    if name == "relu":
        return np.where(Z >= 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(Z >= 0, 1.0, float(leaky_slope))
    if name == "arctan":
        return 1.0 / (np.pi * (1.0 + Z * Z))
    if name == "exp":
        return activation("exp", Z)  # (e^z)' = e^z
    return np.ones_like(Z)  # identity


# ---------------------------------------------------------------------------
# SPEC 2. Losses and the cost.
# ---------------------------------------------------------------------------

def softplus(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    x = _as_float(x)
    with np.errstate(under="ignore"):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _logsumexp_rows(Z):
    row_max = np.max(Z, axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        sum_exp = np.sum(np.exp(Z - row_max), axis=1, keepdims=True)
    return row_max + np.log(sum_exp)


def loss_per_example(loss, Z, A, Y):
    """The loss of each example (row), shape (n,)."""
    _check_name("loss", loss, LOSSES)
    Z, A, Y = _as_float(Z), _as_float(A), _as_float(Y)
    if loss == "log_loss":
        # -log a = softplus(-z) and -log(1 - a) = softplus(z): taken from the
        # logit, a saturated unit (a rounded to 0 or 1) still has a finite loss.
        return np.sum(Y * softplus(-Z) + (1.0 - Y) * softplus(Z), axis=1)
    if loss == "cross_entropy":
        # log softmax(z)_k = z_k - logsumexp(z), again finite for any logits.
        return -np.sum(Y * (Z - _logsumexp_rows(Z)), axis=1)
    if loss == "poisson":
        # Half the Poisson deviance of a = e^z, as scikit-learn's poisson_loss:
        # xlogy(y, y / a) - y + a, with y log(y / a) = y (log y - z) for y > 0
        # and 0 for y = 0 (the limit of y log y).
        positive = Y > 0
        y_log_ratio = np.where(positive, Y * (np.log(np.where(positive, Y, 1.0)) - Z), 0.0)
        return np.sum(y_log_ratio - Y + A, axis=1)
    residual = A - Y
    return 0.5 * np.sum(residual * residual, axis=1)


def cost(loss, Z, A, Y, coefs, l2=0.0):
    """J = mean loss + l2/(2n) sum_l ||W_l||_F^2; biases are not regularised."""
    Y = _as_float(Y)
    n = Y.shape[0]
    data_term = float(np.mean(loss_per_example(loss, Z, A, Y)))
    weight_norm = sum(float(np.sum(_as_float(W) ** 2)) for W in coefs)
    return data_term + l2 / (2.0 * n) * weight_norm


def output_delta(loss, output_activation, Z, A, Y, leaky_slope=0.01):
    """n * dJ/dZ_L for the output layer, shape (n, k)."""
    _check_name("loss", loss, LOSSES)
    _check_name("output activation", output_activation, OUTPUT_ACTIVATIONS)
    Z, A, Y = _as_float(Z), _as_float(A), _as_float(Y)
    if loss == "log_loss":
        if output_activation != "sigmoid":
            raise ValueError(
                f"loss 'log_loss' needs output activation 'sigmoid', got {output_activation!r}"
            )
        return A - Y
    if loss == "cross_entropy":
        if output_activation != "softmax":
            raise ValueError(
                f"loss 'cross_entropy' needs output activation 'softmax', got {output_activation!r}"
            )
        return A - Y
    if loss == "poisson":
        if output_activation != "exp":
            raise ValueError(
                f"loss 'poisson' needs output activation 'exp', got {output_activation!r}"
            )
        # the log link is the poisson loss's canonical one: d/dz (a - y log a) = a - y
        return A - Y
    residual = A - Y
    if output_activation == "softmax":
        # Row-wise (diag(s) - s s^T) r, without forming the k x k Jacobian.
        s = A
        return s * (residual - np.sum(residual * s, axis=1, keepdims=True))
    return residual * activation_derivative(output_activation, Z, leaky_slope)


# ---------------------------------------------------------------------------
# SPEC 3 and 6. Forward and backward passes, with optional inverted dropout.
# ---------------------------------------------------------------------------

def _check_dropout(n_layers, keep_probs, masks):
    if masks is None:
        return
    if keep_probs is None:
        raise ValueError("dropout masks were given without keep_probs")
    if len(masks) != n_layers or len(keep_probs) != n_layers:
        raise ValueError(
            f"keep_probs and masks need one entry per non-output layer ({n_layers}), "
            f"got {len(keep_probs)} and {len(masks)}"
        )


def _dropout_scale(l, keep_probs, masks):
    """D_l / p_l for layer l (0 = input), or None where layer l has no dropout."""
    if masks is None or masks[l] is None:
        return None
    return _as_float(masks[l]) / keep_probs[l]


def forward(X, coefs, intercepts, hidden_activation, output_activation,
            leaky_slope=0.01, keep_probs=None, masks=None):
    """Zs, As for layers 0..L. Zs[0] is None; As[0] is the (dropped-out) input.

    As[l] for l < L is stored after dropout, because that is what the next layer
    and the weight gradient of the next layer see.
    """
    _check_name("hidden activation", hidden_activation, HIDDEN_ACTIVATIONS)
    _check_name("output activation", output_activation, OUTPUT_ACTIVATIONS)
    n_layers = len(coefs)
    _check_dropout(n_layers, keep_probs, masks)

    A = _as_float(X)
    scale = _dropout_scale(0, keep_probs, masks)
    if scale is not None:
        A = A * scale
    Zs, As = [None], [A]
    for l in range(1, n_layers + 1):
        Z = As[l - 1] @ _as_float(coefs[l - 1]) + _as_float(intercepts[l - 1])
        if l < n_layers:
            A = activation(hidden_activation, Z, leaky_slope)
            scale = _dropout_scale(l, keep_probs, masks)
            if scale is not None:
                A = A * scale
        else:
            A = activation(output_activation, Z, leaky_slope)
        Zs.append(Z)
        As.append(A)
    return Zs, As


def backward(Y, coefs, Zs, As, hidden_activation, output_activation, loss,
             l2=0.0, leaky_slope=0.01, keep_probs=None, masks=None):
    """Gradients of the cost of the forward pass (Zs, As) w.r.t. every W_l and b_l.

    The masks must be the ones the forward pass used: a dropped unit passed
    nothing forward, so it passes no gradient back (SPEC 6).
    """
    _check_name("hidden activation", hidden_activation, HIDDEN_ACTIVATIONS)
    n_layers = len(coefs)
    _check_dropout(n_layers, keep_probs, masks)
    Y = _as_float(Y)
    n = Y.shape[0]

    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    delta = output_delta(loss, output_activation, Zs[n_layers], As[n_layers], Y, leaky_slope)
    for l in range(n_layers, 0, -1):
        W = _as_float(coefs[l - 1])
        coef_grads[l - 1] = As[l - 1].T @ delta / n + (l2 / n) * W
        intercept_grads[l - 1] = np.mean(delta, axis=0)
        if l > 1:
            # The gradient reaching A_{l-1} is delta_l W_l^T; through dropout it is
            # scaled by D/p, through the activation by g'(Z_{l-1}).
            delta = delta @ W.T
            scale = _dropout_scale(l - 1, keep_probs, masks)
            if scale is not None:
                delta = delta * scale
            delta = delta * activation_derivative(hidden_activation, Zs[l - 1], leaky_slope)
    return coef_grads, intercept_grads


def loss_gradient(X, Y, coefs, intercepts, hidden_activation, output_activation, loss,
                  l2=0.0, leaky_slope=0.01, keep_probs=None, masks=None):
    """(cost, coef_grads, intercept_grads) of one forward pass, dropout included."""
    Zs, As = forward(X, coefs, intercepts, hidden_activation, output_activation,
                     leaky_slope, keep_probs, masks)
    J = cost(loss, Zs[-1], As[-1], Y, coefs, l2)
    coef_grads, intercept_grads = backward(Y, coefs, Zs, As, hidden_activation,
                                           output_activation, loss, l2, leaky_slope,
                                           keep_probs, masks)
    return J, coef_grads, intercept_grads


def predict_output(X, coefs, intercepts, hidden_activation, output_activation, leaky_slope=0.01):
    """A_L without dropout (SPEC 6: prediction never drops units)."""
    _, As = forward(X, coefs, intercepts, hidden_activation, output_activation, leaky_slope)
    return As[-1]


# ---------------------------------------------------------------------------
# Parameters as one vector (for gradient checking): W_1, b_1, W_2, b_2, ...
# ---------------------------------------------------------------------------

def params_to_vector(coefs, intercepts):
    pieces = []
    for W, b in zip(coefs, intercepts):
        pieces.append(_as_float(W).ravel())
        pieces.append(_as_float(b).ravel())
    return np.concatenate(pieces)


def vector_to_params(theta, layer_sizes):
    theta = _as_float(theta)
    layer_sizes = tuple(int(size) for size in layer_sizes)
    expected = sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    if theta.ndim != 1 or theta.size != expected:
        raise ValueError(
            f"theta must be a vector of {expected} numbers for layer sizes {layer_sizes}, "
            f"got shape {theta.shape}"
        )
    coefs, intercepts = [], []
    start = 0
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        coefs.append(theta[start:start + n_in * n_out].reshape(n_in, n_out).copy())
        start += n_in * n_out
        intercepts.append(theta[start:start + n_out].copy())
        start += n_out
    return coefs, intercepts


# ---------------------------------------------------------------------------
# SPEC 3 and 10. Optimisers: one update of a list of parameter arrays.
# ---------------------------------------------------------------------------

def init_optimizer_state(optimizer, params):
    """Zero moments and step count t = 0 (the state the first step starts from)."""
    _check_name("optimizer", optimizer, OPTIMIZERS)
    zeros = lambda: [np.zeros_like(_as_float(p)) for p in params]  # noqa: E731
    state = {"t": 0}
    if optimizer in ("momentum", "heavy_ball", "nesterov"):
        state["v"] = zeros()
    elif optimizer == "rmsprop":
        state["s"] = zeros()
    elif optimizer in ("adam", "adam_step_corrected"):
        state["m"] = zeros()
        state["v"] = zeros()
    return state


def optimizer_step(optimizer, params, grads, state, learning_rate,
                   momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """One update; returns (new_params, new_state) and leaves the inputs untouched.

    The constants bear the estimators' names: momentum (the "momentum" rule's
    average, heavy_ball's and nesterov's velocity), beta_1 (the adams' first
    moment), beta_2 (rmsprop's and the adams' second moment), epsilon
    (rmsprop's and the adams' guard).

    heavy_ball, nesterov and adam_step_corrected are scikit-learn's
    SGDOptimizer (nesterov False / True) and AdamOptimizer
    (sklearn/neural_network/_stochastic_optimizers.py), every operation in
    scikit-learn's order: the same gradients give the same parameters.
    """
    _check_name("optimizer", optimizer, OPTIMIZERS)
    params = [_as_float(p) for p in params]
    grads = [_as_float(g) for g in grads]
    t = state["t"] + 1
    if optimizer == "gd":
        return [p - learning_rate * g for p, g in zip(params, grads)], {"t": t}
    if optimizer == "momentum":
        v = [momentum * v + (1.0 - momentum) * g for v, g in zip(state["v"], grads)]
        new_params = [p - learning_rate * v_p for p, v_p in zip(params, v)]
        return new_params, {"t": t, "v": v}
    if optimizer in ("heavy_ball", "nesterov"):
        # v = momentum v - lr g; heavy_ball steps by v, nesterov looks ahead
        # along the new v: momentum v - lr g.
        v = [momentum * v_p - learning_rate * g for v_p, g in zip(state["v"], grads)]
        if optimizer == "heavy_ball":
            updates = v
        else:
            updates = [momentum * v_p - learning_rate * g for v_p, g in zip(v, grads)]
        return [p + update for p, update in zip(params, updates)], {"t": t, "v": v}
    if optimizer == "adam_step_corrected":
        # Kingma and Ba's "efficient" form: the bias corrections move into the
        # step size, lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t), and
        # epsilon guards sqrt(v) itself rather than sqrt(v_hat).
        m = [beta_1 * m_p + (1.0 - beta_1) * g for m_p, g in zip(state["m"], grads)]
        v = [beta_2 * v_p + (1.0 - beta_2) * (g * g) for v_p, g in zip(state["v"], grads)]
        corrected_rate = learning_rate * np.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        new_params = [p + -corrected_rate * m_p / (np.sqrt(v_p) + epsilon)
                      for p, m_p, v_p in zip(params, m, v)]
        return new_params, {"t": t, "m": m, "v": v}
    if optimizer == "rmsprop":
        s = [beta_2 * s + (1.0 - beta_2) * g * g for s, g in zip(state["s"], grads)]
        new_params = [p - learning_rate * g / (np.sqrt(s_p) + epsilon)
                      for p, g, s_p in zip(params, grads, s)]
        return new_params, {"t": t, "s": s}
    # adam: the moments start at zero, so early averages are biased towards zero;
    # dividing by 1 - beta^t removes that bias.
    m = [beta_1 * m + (1.0 - beta_1) * g for m, g in zip(state["m"], grads)]
    v = [beta_2 * v + (1.0 - beta_2) * g * g for v, g in zip(state["v"], grads)]
    new_params = []
    for p, m_p, v_p in zip(params, m, v):
        m_hat = m_p / (1.0 - beta_1 ** t)
        v_hat = v_p / (1.0 - beta_2 ** t)
        new_params.append(p - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon))
    return new_params, {"t": t, "m": m, "v": v}


# ---------------------------------------------------------------------------
# SPEC 7. Gradient checking by central differences.
# ---------------------------------------------------------------------------

def gradient_check(cost_fn, theta, grad, epsilon=1e-7):
    """||F - grad|| / (||F|| + ||grad||), F the central-difference gradient of cost_fn."""
    theta = _as_float(theta)
    grad = _as_float(grad)
    numeric = np.empty_like(theta)
    for j in range(theta.size):
        theta_plus = theta.copy()
        theta_plus[j] += epsilon
        theta_minus = theta.copy()
        theta_minus[j] -= epsilon
        numeric[j] = (cost_fn(theta_plus) - cost_fn(theta_minus)) / (2.0 * epsilon)
    denominator = np.linalg.norm(numeric) + np.linalg.norm(grad)
    if denominator == 0.0:
        return 0.0  # both gradients are exactly zero: they agree
    return float(np.linalg.norm(numeric - grad) / denominator)


def gradient_check_network(X, Y, coefs, intercepts, hidden_activation, output_activation, loss,
                           l2=0.0, leaky_slope=0.01, epsilon=1e-7, keep_probs=None, masks=None):
    """gradient_check of loss_gradient for a network; fixed dropout masks may be given."""
    X = _as_float(X)
    layer_sizes = (X.shape[1],) + tuple(_as_float(W).shape[1] for W in coefs)

    def cost_fn(theta):
        theta_coefs, theta_intercepts = vector_to_params(theta, layer_sizes)
        return loss_gradient(X, Y, theta_coefs, theta_intercepts, hidden_activation,
                             output_activation, loss, l2, leaky_slope, keep_probs, masks)[0]

    _, coef_grads, intercept_grads = loss_gradient(
        X, Y, coefs, intercepts, hidden_activation, output_activation, loss, l2,
        leaky_slope, keep_probs, masks)
    return gradient_check(cost_fn, params_to_vector(coefs, intercepts),
                          params_to_vector(coef_grads, intercept_grads), epsilon)


# ---------------------------------------------------------------------------
# SPEC 8. Shuffling and mini-batches.
# ---------------------------------------------------------------------------

def bounded_uint(bit_generator, high):
    """Uniform integer in [0, high] by masked rejection (mirrors csrc/fastnn_shuffle.c).

    Masking to the smallest all-ones number >= high and rejecting values above
    high is unbiased (a modulo would not be) and needs no division, so the
    compiled code reproduces it draw for draw.
    """
    high = int(high)
    if high == 0:
        return 0
    mask = high
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    while True:
        u = int(bit_generator.random_raw()) & mask
        if u <= high:
            return u


def shuffle_in_place(order, bit_generator):
    """Fisher-Yates shuffle of `order` in place (the one impure function here)."""
    for i in range(len(order) - 1, 0, -1):
        j = bounded_uint(bit_generator, i)
        order[i], order[j] = order[j], order[i]


def minibatches(order, batch_size):
    """ceil(n / b) consecutive slices of `order` (copies); the last may be short."""
    order = np.asarray(order)
    n = order.shape[0]
    if batch_size is None:
        return [order.copy()]
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    batch_size = int(batch_size)
    return [order[start:start + batch_size].copy() for start in range(0, n, batch_size)]


# ---------------------------------------------------------------------------
# SPEC 6 and 8. Dropout masks, drawn as the compiled loop draws them.
# ---------------------------------------------------------------------------

_UINT64_MASK = (1 << 64) - 1


def dropout_key(seed, step, layer):
    """The 64-bit key of one step's mask of one layer (mirrors fnn_dropout_key
    in csrc/fastnn_kernels.c): splitmix64's finaliser of
    seed + (step << 8) + layer + 0x9e3779b97f4a7c15, in uint64 arithmetic.

    seed: the compiled loop's one draw (``random_raw()``, a uint64) from the
    dropout stream at the start of each training call, taken only when the
    network has dropout; for a fresh fit with an int random_state that is
    ``fastnn._random.training_generators(random_state)[2].random_raw()``.
    step: the global optimiser step, counted across epochs (and across calls:
    the steps earlier calls took come first); a batch that takes no step (its
    sample weights sum to 0) draws no masks and uses up no step.
    layer: which activations are dropped, numbered as keep_probs and
    forward's masks: 0 the data A_0, l >= 1 the output A_l of hidden layer l.
    """
    z = (int(seed) + (int(step) << 8) + int(layer) + 0x9E3779B97F4A7C15) & _UINT64_MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _UINT64_MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _UINT64_MASK
    return z ^ (z >> 31)


def _hash32(x):
    """lowbias32 (fnn_hash32 in csrc/fastnn_kernels.c) of a np.uint32 array;
    the products wrap around modulo 2**32 as the C's do."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    x = x ^ (x >> np.uint32(16))
    return x


def dropout_mask(key, rows, cols, keep_prob, first_row=0):
    """The 0/1 mask (uint8, shape (rows, cols)) of batch rows first_row ..
    first_row + rows - 1 of a layer of `cols` units under `key` (dropout_key);
    mirrors dropout_row in csrc/fastnn_kernels_impl.h, bit for bit.

    Unit j of batch row i (rows counted within the mini-batch from 0, however
    the batch is shared among threads) is kept when
    hash32(hash32(uint32(i * cols + j) ^ key_low) + key_high) is below
    uint32(keep_prob * 2**32), key_low and key_high the key's low and high 32
    bits, all in uint32 arithmetic: a pure function of (key, i, j), so the
    rows of a batch may be drawn in any pieces (first_row). Kept units are
    then scaled by 1 / keep_prob (forward). keep_prob 1 keeps every unit
    (the compiled loop draws no mask there).
    """
    keep_prob = float(keep_prob)
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob!r}")
    if rows < 0 or cols < 0 or first_row < 0:
        raise ValueError(f"rows, cols and first_row must be >= 0, got {rows}, {cols}, {first_row}")
    if keep_prob == 1.0:
        return np.ones((rows, cols), dtype=np.uint8)
    key = int(key)
    key_low = np.uint32(key & 0xFFFFFFFF)
    key_high = np.uint32((key >> 32) & 0xFFFFFFFF)
    threshold = np.uint32(int(keep_prob * 4294967296.0))  # C's (uint32_t) truncation
    batch_rows = np.arange(first_row, first_row + rows, dtype=np.uint64)
    units = np.arange(cols, dtype=np.uint64)
    # i * cols + j, wrapped to 32 bits as the C's (uint32_t)(i * cols) + (uint32_t)j
    index = (batch_rows[:, None] * np.uint64(cols) + units[None, :]).astype(np.uint32)
    u = _hash32(_hash32(index ^ key_low) + key_high)
    return (u < threshold).astype(np.uint8)


def step_dropout_masks(seed, step, rows, layer_sizes, keep_probs):
    """The masks of one step of `rows` batch rows, one per non-output layer
    (layer_sizes[l] units; None where keep_probs[l] is 1), as forward takes them."""
    return [None if p >= 1.0 else dropout_mask(dropout_key(seed, step, l), rows, size, p)
            for l, (size, p) in enumerate(zip(layer_sizes, keep_probs))]


# ---------------------------------------------------------------------------
# SPEC 8. The training loop.
# ---------------------------------------------------------------------------

def train(X, Y, coefs, intercepts, *, hidden_activation, output_activation, loss,
          learning_rate, max_iter, batch_size=None, shuffle=False, bit_generator=None,
          l2=0.0, leaky_slope=0.01, cost_every=100, optimizer="gd", keep_probs=None,
          dropout_seed=None, momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
          decay_rate=0.0):
    """Mini-batch training (SPEC 8); returns (coefs, intercepts, costs).

    Dropout: keep_probs (one per non-output layer, as forward) with
    dropout_seed, the uint64 the compiled loop draws for its call (see
    dropout_key); step s (counted across epochs from 0) then drops with
    step_dropout_masks(dropout_seed, s, ...). dropout_seed None: no dropout.
    The learning rate of epoch e is learning_rate / (1 + decay_rate * e)
    (decay_rate 0: constant); momentum, beta_1, beta_2 and epsilon are
    optimizer_step's.
    """
    X, Y = _as_float(X), _as_float(Y)
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must be 2-D with one row per example of X, got shape {Y.shape}")
    if int(cost_every) != cost_every or cost_every < 1:
        raise ValueError(f"cost_every must be a positive integer, got {cost_every!r}")
    if shuffle and bit_generator is None:
        raise ValueError("shuffle=True needs a bit_generator")
    _check_name("optimizer", optimizer, OPTIMIZERS)
    if dropout_seed is not None:
        if keep_probs is None or len(keep_probs) != len(coefs):
            raise ValueError(f"dropout_seed needs keep_probs, one per non-output layer "
                             f"({len(coefs)})")
        if not 0 <= int(dropout_seed) <= _UINT64_MASK:
            raise ValueError(f"dropout_seed must be a uint64, got {dropout_seed!r}")
        dropout_seed = int(dropout_seed)
    elif keep_probs is not None:
        raise ValueError("keep_probs without a dropout_seed: the masks need a seed")
    n = X.shape[0]
    layer_sizes = [_as_float(W).shape[0] for W in coefs]  # units of each layer's input

    # The optimiser sees the parameters in the same order as params_to_vector.
    params = []
    for W, b in zip(coefs, intercepts):
        params += [_as_float(W).copy(), _as_float(b).copy()]
    state = init_optimizer_state(optimizer, params)

    order = np.arange(n)
    costs = []
    step = 0
    for epoch in range(max_iter):
        if shuffle:
            shuffle_in_place(order, bit_generator)  # continues from last epoch's order
        record_cost = epoch % cost_every == 0
        weighted_cost_sum = 0.0
        for batch in minibatches(order, batch_size):
            coefs_now, intercepts_now = params[0::2], params[1::2]
            X_batch, Y_batch = X[batch], Y[batch]
            step_masks = None
            if dropout_seed is not None:
                step_masks = step_dropout_masks(dropout_seed, step, batch.shape[0],
                                                layer_sizes, keep_probs)
                if all(mask is None for mask in step_masks):
                    step_masks = None
            J_batch, coef_grads, intercept_grads = loss_gradient(
                X_batch, Y_batch, coefs_now, intercepts_now, hidden_activation,
                output_activation, loss, l2, leaky_slope,
                keep_probs if step_masks is not None else None, step_masks)
            if record_cost:
                if step_masks is not None:
                    # The reported cost is that of the network itself, not of one
                    # random thinned copy of it: recompute without dropout.
                    Zs, As = forward(X_batch, coefs_now, intercepts_now, hidden_activation,
                                     output_activation, leaky_slope)
                    J_batch = cost(loss, Zs[-1], As[-1], Y_batch, coefs_now, l2)
                weighted_cost_sum += batch.shape[0] * J_batch
            grads = []
            for dW, db in zip(coef_grads, intercept_grads):
                grads += [dW, db]
            params, state = optimizer_step(optimizer, params, grads, state,
                                           learning_rate / (1.0 + decay_rate * epoch),
                                           momentum, beta_1, beta_2, epsilon)
            step += 1
        if record_cost:
            costs.append(weighted_cost_sum / n)
    return params[0::2], params[1::2], np.asarray(costs, dtype=np.float64)


# ---------------------------------------------------------------------------
# SPEC 4 and 5. Accuracy, data split and bias/variance diagnosis.
# ---------------------------------------------------------------------------

def split(X, y, ratios=None, random_state=None):
    """Shuffle, then cut into (train, dev, test); each part is an (X, y) pair."""
    X = np.asarray(X)
    y = np.asarray(y)
    N = X.shape[0]
    if y.shape[0] != N:
        raise ValueError(f"X has {N} rows but y has {y.shape[0]}")
    if ratios is None:
        # Small sets need big dev/test sets for a trustworthy estimate; with
        # millions of examples 1% is already plenty.
        ratios = (0.6, 0.2, 0.2) if N <= 10**4 else (0.98, 0.01, 0.01)
    ratios = tuple(ratios)
    if (len(ratios) != 3 or any(not np.isfinite(r) or r < 0 for r in ratios)
            or abs(sum(ratios) - 1.0) > 1e-9):
        raise ValueError(
            f"ratios must be 3 non-negative numbers (train, dev, test) summing to 1, got {ratios!r}"
        )
    _, dev_ratio, test_ratio = ratios
    permutation = np.random.default_rng(random_state).permutation(N)
    n_dev = int(np.floor(N * dev_ratio))
    n_test = int(np.floor(N * test_ratio))
    n_train = N - n_dev - n_test
    train_rows = permutation[:n_train]
    dev_rows = permutation[n_train:n_train + n_dev]
    test_rows = permutation[n_train + n_dev:]
    return tuple((X[rows], y[rows]) for rows in (train_rows, dev_rows, test_rows))


def _flat_pair(y_pred, y):
    y_pred, y = np.asarray(y_pred).ravel(), np.asarray(y).ravel()
    if y_pred.shape != y.shape:
        raise ValueError(f"y_pred has {y_pred.size} entries but y has {y.size}")
    return y_pred, y


def error_rate(y_pred, y):
    """Fraction of examples whose prediction differs from the label."""
    y_pred, y = _flat_pair(y_pred, y)
    return float(np.mean(y_pred != y))


def accuracy_percent(y_pred, y):
    """100 - 100 mean|y_hat - y| for 0/1 labels (the notes' formula)."""
    y_pred, y = _flat_pair(y_pred, y)
    return float(100.0 - 100.0 * np.mean(np.abs(_as_float(y_pred) - _as_float(y))))


_BIAS_ADVICE = ("bigger network", "train longer", "other architecture")
_VARIANCE_ADVICE = ("more data", "regularisation", "other architecture")


def diagnose(train_error, dev_error, tolerance=0.05):
    """(high_bias, high_variance, verdict, advice) from training and dev error."""
    high_bias = bool(train_error > tolerance)
    high_variance = bool(dev_error - train_error > tolerance)
    if high_bias and high_variance:
        verdict = "high bias and high variance"
        advice = _BIAS_ADVICE[:2] + _VARIANCE_ADVICE
    elif high_bias:
        verdict = "high bias"
        advice = _BIAS_ADVICE
    elif high_variance:
        verdict = "high variance"
        advice = _VARIANCE_ADVICE
    else:
        verdict = "low bias, low variance"
        advice = ()
    return high_bias, high_variance, verdict, advice
