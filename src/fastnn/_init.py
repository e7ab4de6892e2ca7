"""Initial weights (SPEC 4): he, xavier, small, zeros, or the caller's arrays."""
import numpy as np

from fastnn._core.vocabulary import RELU_LIKE_ACTIVATIONS

INIT_SCHEMES = ("auto", "glorot", "he", "xavier", "small", "zeros")


def initial_parameters(init, layer_sizes, hidden_activation, rng, dtype):
    """(coefs, intercepts) to start training from, as new arrays of `dtype`.

    Biases start at zero. An explicit `(coefs, intercepts)` pair is checked
    against the layer sizes and copied.
    """
    n_layers = len(layer_sizes) - 1
    if not isinstance(init, str):
        return _explicit_parameters(init, layer_sizes, dtype)
    if init == "zeros" and n_layers > 1:
        raise ValueError(
            "init='zeros' cannot train a network with hidden layers: every hidden "
            "unit would get the same gradient and dW_1 would stay zero (SPEC 4). "
            "Use init='auto', 'he', 'xavier' or 'small'."
        )
    if init == "auto":
        init = "he" if hidden_activation in RELU_LIKE_ACTIVATIONS else "xavier"
    coefs = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        if init == "zeros":
            weights = np.zeros((n_in, n_out))
        elif init == "small":
            weights = rng.standard_normal((n_in, n_out)) * 0.01
        elif init == "glorot":
            # scikit-learn's MLP start: U(-bound, bound), bound = sqrt(6 / (n_in + n_out)),
            # sqrt(2 / (n_in + n_out)) under sigmoid hidden units
            factor = 2.0 if hidden_activation == "sigmoid" else 6.0
            bound = np.sqrt(factor / (n_in + n_out))
            weights = rng.uniform(-bound, bound, (n_in, n_out))
        elif init == "he":
            weights = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        else:  # xavier: E[W^2] = 1 / n_in
            weights = rng.standard_normal((n_in, n_out)) * np.sqrt(1.0 / n_in)
        coefs.append(weights.astype(dtype))
    intercepts = [np.zeros(n_out, dtype=dtype) for n_out in layer_sizes[1:]]
    return coefs, intercepts


def _explicit_parameters(init, layer_sizes, dtype):
    try:
        coefs, intercepts = init
    except (TypeError, ValueError):
        raise ValueError(
            "init must be one of " + ", ".join(map(repr, INIT_SCHEMES))
            + " or a pair (coefs, intercepts) of lists of arrays"
        ) from None
    n_layers = len(layer_sizes) - 1
    if len(coefs) != n_layers or len(intercepts) != n_layers:
        raise ValueError(
            f"init=(coefs, intercepts) needs {n_layers} weight matrices and "
            f"{n_layers} bias vectors; got {len(coefs)} and {len(intercepts)}"
        )
    checked_coefs, checked_intercepts = [], []
    for l, (W, b) in enumerate(zip(coefs, intercepts)):
        expected_W = (layer_sizes[l], layer_sizes[l + 1])
        expected_b = (layer_sizes[l + 1],)
        W = _finite_real_array(W, f"init coefs[{l}]")
        b = _finite_real_array(b, f"init intercepts[{l}]")
        if W.shape != expected_W:
            raise ValueError(f"init coefs[{l}] must have shape {expected_W}; got {W.shape}")
        if b.shape != expected_b:
            raise ValueError(f"init intercepts[{l}] must have shape {expected_b}; got {b.shape}")
        checked_coefs.append(W.astype(dtype))
        checked_intercepts.append(b.astype(dtype))
    return checked_coefs, checked_intercepts


def _finite_real_array(value, name):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array
