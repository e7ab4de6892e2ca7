"""Logistic regression: the dense stack with no hidden layer (SPEC 4)."""
from fastnn._base import DenseEstimator, store_parameters
from fastnn._classifier import DenseClassifierMixin


class LogisticRegression(DenseClassifierMixin, DenseEstimator):
    """Binary logistic regression trained by (mini-batch) gradient descent in
    compiled code: one sigmoid unit, log-loss, optional L2.

    Parameters
    ----------
    learning_rate : float > 0, default 0.1
    max_iter : int >= 0, default 1000
        Iterations = epochs (full passes over the data). 0 sets the model up
        (classes, initial weights) without training.
    batch_size : int >= 1 or None, default None
        None trains on the whole set at each step (batch gradient descent).
    shuffle : bool, default True
        Reshuffle the rows before every epoch (mini-batch only).
    l2 : float >= 0, default 0.0
        L2 strength lambda; the cost adds l2 / (2 n) * ||W||^2.
    optimizer : {"gd", "momentum", "rmsprop", "adam"}, default "gd"
        The update rule (SPEC 10): plain gradient descent, momentum
        (v = momentum v + (1 - momentum) g), RMSprop (squared-gradient average
        with beta_2) or Adam (beta_1, beta_2, bias-corrected); epsilon guards
        the division of rmsprop and adam.
    momentum, beta_1, beta_2 : float in [0, 1), defaults 0.9, 0.9, 0.999
    epsilon : float > 0, default 1e-8
    learning_rate_schedule : {"constant", "inverse"}, default "constant"
        "inverse": the learning rate of epoch e is learning_rate / (1 + decay_rate * e).
    decay_rate : float >= 0, default 0.0
    init : "zeros" (default), "small", "xavier", "he", "auto" or (coefs, intercepts)
    cost_every : int >= 1 or None, default 100
        Record the cost every `cost_every` iterations (in `costs_`); None
        records none (with dropout, each recorded epoch costs an extra
        forward pass, since the cost is taken without dropout).
    early_stopping : bool, default False
        Hold out validation_fraction of the training data (or use fit's
        `dev=`), record its cost after every epoch in `dev_costs_`, stop after
        n_iter_no_change epochs without improvement and restore the best
        weights (`best_iteration_` is the epoch they came from).
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int >= 1, default 10
    callbacks : list of callables, optional
        Each is called with a fastnn.TrainingProgress (iteration, cost,
        dev_cost) at every recorded cost; returning True stops training.
    warm_start : bool, default False
        fit goes on from the fitted weights and optimiser state instead of
        starting again (same layers required).
    dtype : None, "float32" or "float64", default None
        None keeps float32 input in float32 and uses float64 otherwise.
    n_threads : int >= 1 or None, default None
        Threads that share each batch during fit (BLAS then runs single-threaded
        in each). None picks by the size of a step: 1 for small problems, up to
        the number of cores for large ones. Results are reproducible for a
        fixed n_threads.
    random_state : int, RandomState or None
        Seeds the shuffling (and random initial weights).
    verbose : int, default 0
        1: a progress bar over the epochs (with tqdm installed; else as 2);
        2: one line per recorded cost (and dev cost).

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
                 cost_every=100, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, warm_start=False, dtype=None, n_threads=None,
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
