"""Classifiers with hidden layers: ShallowNetwork (one) and DeepNetwork (any).

Two classes use one sigmoid output unit and log-loss; more use softmax and
cross-entropy. Both are the same compiled machine as LogisticRegression.
"""
from fastnn._base import store_parameters
from fastnn._constraints import LAYER_WIDTH, LAYER_WIDTHS
from fastnn._docs import OPTIMIZATION, TRAINING
from fastnn._classifier import DenseClassifierMixin
from fastnn._hidden import HiddenLayersEstimator, check_layer_sizes

_SHARED_DOC = """
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "arctan", "identity"}
        Activation of the hidden layers.
    leaky_slope : float >= 0, default 0.01
        Slope of leaky_relu for negative inputs.
    learning_rate : float > 0, default 0.01
    max_iter : int in [0, 2**53], default 200
        Iterations = epochs (full passes over the data); 0 sets the model up
        without training.
    batch_size : int in [1, 2**53] or None, default None
        None: batch gradient descent; an int: mini-batches of that size.
    shuffle : bool, default True
        Reshuffle the rows before every epoch (mini-batch only).
    l2 : float >= 0, default 0.0
        L2 strength lambda: the cost adds l2 / (2 n) * sum ||W||^2.
    keep_prob : float in [2**-32, 1] or sequence, default 1.0
        Inverted-dropout keep probability: a float for every hidden layer, or
        one entry per hidden layer with an optional leading entry for the input.
        (The dropout draw has 32 bits: below 2**-32 every unit would be dropped.)
""" + OPTIMIZATION + """    init : "auto", "he", "xavier", "small" or (coefs, intercepts), default "auto"
        "auto" is he for relu-like units, xavier otherwise; "zeros" is refused
        (hidden units would never differ).
""" + TRAINING + """
    Attributes
    ----------
    coefs_, intercepts_ : lists, coefs_[l].shape == (n_in, n_out)
    costs_ : array of the recorded costs
    n_iter_ : int
    classes_ : array of the labels
    n_features_in_ : int
"""


class DeepNetwork(DenseClassifierMixin, HiddenLayersEstimator):
    __doc__ = """Fully-connected classifier with any number of hidden layers.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int in [1, 2**31 - 1], default (100,)
        Width of each hidden layer (BLAS takes int dimensions).""" + _SHARED_DOC

    _parameter_constraints = {
        **HiddenLayersEstimator._parameter_constraints,
        "hidden_layer_sizes": [LAYER_WIDTHS, LAYER_WIDTH],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", leaky_slope=0.01,
                 learning_rate=0.01, max_iter=200, batch_size=None, shuffle=True, l2=0.0,
                 keep_prob=1.0, optimizer="gd", momentum=0.9, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, learning_rate_schedule="constant", decay_rate=0.0, init="auto",
                 cost_every=100, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, warm_start=False, dtype=None, n_threads=None,
                 random_state=None, verbose=0, callbacks=None):
        store_parameters(self, locals())

    def _hidden_layer_sizes(self):
        return check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")


class ShallowNetwork(DenseClassifierMixin, HiddenLayersEstimator):
    __doc__ = """Classifier with one hidden layer (the notes' shallow network).

    Parameters
    ----------
    hidden_layer_size : int in [1, 2**31 - 1], default 4
        Width of the hidden layer.""" + _SHARED_DOC

    _parameter_constraints = {
        **HiddenLayersEstimator._parameter_constraints,
        "hidden_layer_size": [LAYER_WIDTH],
    }

    def __init__(self, hidden_layer_size=4, activation="tanh", leaky_slope=0.01,
                 learning_rate=0.01, max_iter=200, batch_size=None, shuffle=True, l2=0.0,
                 keep_prob=1.0, optimizer="gd", momentum=0.9, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, learning_rate_schedule="constant", decay_rate=0.0, init="auto",
                 cost_every=100, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, warm_start=False, dtype=None, n_threads=None,
                 random_state=None, verbose=0, callbacks=None):
        store_parameters(self, locals())

    def _hidden_layer_sizes(self):
        return (int(self.hidden_layer_size),)
