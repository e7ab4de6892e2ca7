"""Logistic regression: the dense stack with no hidden layer (SPEC 4)."""
from fastnn._base import DenseEstimator, store_parameters
from fastnn._classifier import DenseClassifierMixin
from fastnn._docs import OPTIMIZATION, TRAINING


class LogisticRegression(DenseClassifierMixin, DenseEstimator):
    __doc__ = """Binary logistic regression trained by (mini-batch) gradient descent in
    compiled code: one sigmoid unit, log-loss, optional L2.

    Parameters
    ----------
    learning_rate : float > 0, default 0.1
    max_iter : int in [0, 2**53], default 1000
        Iterations = epochs (full passes over the data). 0 sets the model up
        (classes, initial weights) without training.
    batch_size : int in [1, 2**53] or None, default None
        None trains on the whole set at each step (batch gradient descent).
    shuffle : bool, default True
        Reshuffle the rows before every epoch (mini-batch only).
    l2 : float >= 0, default 0.0
        L2 strength lambda; the cost adds l2 / (2 n) * ||W||^2.
""" + OPTIMIZATION + """    init : "zeros" (default), "small", "xavier", "he", "auto" or (coefs, intercepts)
""" + TRAINING + """
    Attributes
    ----------
    coefs_ : [array (n_features, 1)]
    intercepts_ : [array (1,)]
    costs_ : array, the cost every `cost_every` iterations, before that iteration's updates
    n_iter_ : int
    classes_ : array of the two labels; classes_[1] is the positive class
    n_features_in_ : int
    """

    _max_classes = 2

    def __init__(self, learning_rate=0.1, max_iter=1000, batch_size=None, shuffle=True,
                 l2=0.0, optimizer="gd", momentum=0.9, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, learning_rate_schedule="constant", decay_rate=0.0, init="zeros",
                 cost_every=100, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, warm_start=False, dtype=None, n_threads=None,
                 random_state=None, verbose=0, callbacks=None):
        store_parameters(self, locals())

    def _hidden_layer_sizes(self):
        return ()

    def _hidden_activation(self):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
