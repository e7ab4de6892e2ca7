"""What the models with hidden layers add to the base: the layer widths, the
hidden activation and inverted dropout (SPEC 4 and 6)."""
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from fastnn._base import DenseEstimator
from fastnn._constraints import KEEP_PROB, KEEP_PROBS, MAX_LAYER_WIDTH, MIN_KEEP_PROB
from fastnn._core.vocabulary import HIDDEN_ACTIVATIONS


class HiddenLayersEstimator(DenseEstimator):
    """A dense stack with hidden layers; subclasses name their width parameter."""

    _parameter_constraints = {
        **DenseEstimator._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "leaky_slope": [Interval(Real, 0, None, closed="left")],
        "keep_prob": [KEEP_PROB, KEEP_PROBS],
    }

    def _hidden_activation(self):
        return self.activation

    def _keep_probs(self, n_layers):
        """keep_prob as one value per layer input: a float applies to every
        hidden layer; a sequence has one entry per hidden layer, plus an
        optional leading entry for the input layer. The output is never dropped."""
        n_hidden = n_layers - 1
        if isinstance(self.keep_prob, Real):
            return np.array([1.0] + [float(self.keep_prob)] * n_hidden)
        keep = np.asarray(self.keep_prob, dtype=np.float64)
        if keep.ndim != 1 or keep.shape[0] not in (n_hidden, n_hidden + 1):
            raise ValueError(
                f"keep_prob must be a float or a sequence of {n_hidden} values (one per "
                f"hidden layer) or {n_hidden + 1} (input layer first); got {self.keep_prob!r}")
        if not np.all((keep >= MIN_KEEP_PROB) & (keep <= 1)):
            raise ValueError(f"every keep_prob must lie in [2**-32, 1]; got {self.keep_prob!r}")
        if keep.shape[0] == n_hidden:
            keep = np.concatenate([[1.0], keep])
        return keep


def check_layer_sizes(sizes, name):
    """The hidden widths as a tuple of ints in [1, 2**31 - 1], or a ValueError naming `name`."""
    if isinstance(sizes, Integral):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"{name} must be an int or a sequence of ints; got {sizes!r}") from None
    if not all(isinstance(width, Integral) and not isinstance(width, bool) for width in sizes):
        raise ValueError(f"{name} must contain only ints; got {sizes!r}")
    if any(width < 1 for width in sizes):
        raise ValueError(f"every layer width in {name} must be >= 1; got {sizes!r}")
    if any(width > MAX_LAYER_WIDTH for width in sizes):
        raise ValueError(f"every layer width in {name} must be <= 2**31 - 1 (BLAS takes "
                         f"int dimensions); got {sizes!r}")
    return tuple(int(width) for width in sizes)
