"""Small data sets of the notes (SPEC 9), generated, never downloaded."""
import numpy as np
from sklearn.utils.validation import check_random_state


def xnor():
    """The XNOR truth table: X (4, 2) of 0/1 inputs, y = 1 where x1 == x2."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = (X[:, 0] == X[:, 1]).astype(np.int64)
    return X, y


def xnor_weights():
    """The notes' hand-set 2-2-1 sigmoid network computing XNOR, as
    (coefs, intercepts): hidden unit 1 = x1 AND x2, unit 2 = NOT x1 AND NOT x2,
    output = unit 1 OR unit 2. Usable as `init=` of a network with
    hidden_layer_sizes=(2,) and activation="sigmoid"."""
    coefs = [np.array([[20.0, -20.0], [20.0, -20.0]]), np.array([[20.0], [20.0]])]
    intercepts = [np.array([-30.0, 10.0]), np.array([-10.0])]
    return coefs, intercepts


def petal(n_samples=400, noise=0.2, n_petals=4, random_state=None):
    """The notes' "planar" data: two interleaved petal-shaped classes in 2-D.

    Each class traces half of the rose curve r = 4 sin(n_petals * t),
    with Gaussian noise of scale `noise` on angle and radius. Linear models
    stay near chance here; a small tanh network separates the petals.
    Returns X (n_samples, 2) and y (n_samples,) of 0/1.
    """
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2; got {n_samples}")
    rng = check_random_state(random_state)
    per_class = [n_samples // 2, n_samples - n_samples // 2]
    X = np.empty((n_samples, 2))
    y = np.empty(n_samples, dtype=np.int64)
    start = 0
    for label, count in enumerate(per_class):
        rows = slice(start, start + count)
        angle = np.linspace(label * 3.12, (label + 1) * 3.12, count) + rng.standard_normal(count) * noise
        radius = 4 * np.sin(n_petals * angle) + rng.standard_normal(count) * noise
        X[rows] = np.c_[radius * np.sin(angle), radius * np.cos(angle)]
        y[rows] = label
        start += count
    return X, y
