"""Logistic regression: the dense stack with no hidden layer (SPEC 4)."""
from fastnn._base import DenseEstimator, store_parameters
from fastnn._classifier import DenseClassifierMixin


class LogisticRegression(DenseClassifierMixin, DenseEstimator):
    """Binary logistic regression trained by (mini-batch) gradient descent in
    compiled code: one sigmoid unit, log-loss, optional L2.

    The dense stack with no hidden layer (SPEC 4), trained by the same
    compiled loop as the networks. y must hold exactly two labels (any
    labels: ints, strings); DeepNetwork(hidden_layer_sizes=()) is softmax
    regression for more.

    Parameters
    ----------
    learning_rate : float > 0, default=0.1
        Step size of the updates (see learning_rate_schedule).
    max_iter : int in [0, 2**53], default=1000
        Iterations = epochs (full passes over the data). 0 sets the model up
        (classes, initial weights) without training.
    batch_size : int in [1, 2**53] or None, default=None
        Rows per step. None (or any size of at least n_samples) trains on the
        whole set at each step (batch gradient descent).
    shuffle : bool, default=True
        Reshuffle the rows before every epoch (mini-batch only).
    l2 : float >= 0, default=0.0
        L2 strength lambda; the cost adds l2 / (2 n) * ||W||^2 (the bias is
        not regularised).
    optimizer : {"gd", "momentum", "rmsprop", "adam", "heavy_ball", "nesterov", "adam_step_corrected"}, default="gd"
        The update rule (SPEC 10): plain gradient descent, momentum
        (v = momentum v + (1 - momentum) g), RMSprop (squared-gradient
        average with beta_2), Adam (beta_1, beta_2, bias-corrected), or one
        of scikit-learn's MLP optimisers, operation for operation:
        heavy_ball (v = momentum v - learning_rate g, then w += v),
        nesterov (the same v, then w += momentum v - learning_rate g),
        adam_step_corrected (Adam with the bias corrections in the step size).
    momentum : float in [0, 1), default=0.9
        Weight of the previous average in optimizer="momentum"'s v, and of
        the previous velocity in heavy_ball's and nesterov's.
    beta_1 : float in [0, 1), default=0.9
        Decay of Adam's average of the gradients (both Adams).
    beta_2 : float in [0, 1), default=0.999
        Decay of the average of the squared gradients (RMSprop and both Adams).
    epsilon : float > 0, default=1e-8
        Guards the division of RMSprop's and the Adams' steps:
        step / (sqrt(average) + epsilon).
    learning_rate_schedule : {"constant", "inverse"}, default="constant"
        "inverse": the learning rate of epoch e (counted from 0, on across
        warm starts and partial_fit calls) is
        learning_rate / (1 + decay_rate * e).
    decay_rate : float >= 0, default=0.0
        decay_rate of the "inverse" schedule (unused by "constant").
    init : {"auto", "glorot", "he", "xavier", "small", "zeros"} or (coefs, intercepts), default="zeros"
        The initial weights: "auto" is he for relu-like hidden units, xavier
        otherwise (here: xavier); "glorot" U(-r, r) with
        r = sqrt(6 / (n_in + 1)); "he" N(0, 1) * sqrt(2 / n_in); "xavier"
        N(0, 1) * sqrt(1 / n_in); "small" N(0, 1) * 0.01; "zeros" all 0; or a
        pair (coefs, intercepts) of lists of arrays shaped like coefs_ and
        intercepts_, copied. Drawn weights come with zero biases.
    cost_every : int in [1, 2**53] or None, default=100
        Record the cost in `costs_` at every epoch e with e % cost_every == 0;
        None records none. Each recorded cost also checks for divergence
        (see fit).
    early_stopping : bool, default=False
        Hold out validation_fraction of the training data (or use fit's
        `dev=`), record its cost after every epoch in `dev_costs_`, stop after
        n_iter_no_change epochs without improvement and restore the best
        weights (`best_iteration_` is the epoch they came from). A dev cost
        that is not finite stops training as diverged.
    validation_fraction : float in (0, 1), default=0.1
        Share of the rows early stopping holds out (stratified by class;
        the same rows on every call of one fitted model).
    n_iter_no_change : int in [1, 2**53], default=10
        Epochs without a new lowest dev cost after which early stopping stops.
    warm_start : bool, default=False
        fit goes on from the fitted weights and optimiser state (moments,
        step counts, random streams) instead of starting again (same layers
        required).
    dtype : {"float32", "float64"}, NumPy float type or None, default=None
        Precision of training and of the fitted weights. None keeps float32
        input in float32, everything else trains in float64.
    n_threads : int in [1, 64] or None, default=None
        Cores the fit may use: that many threads share each batch, and BLAS
        runs single-threaded inside each (threadpoolctl), so n_threads=1 is a
        strictly single-threaded fit (for running several fits side by side).
        None picks by the size of a step: one thread whose matrix products
        BLAS threads itself for small problems, otherwise a paced team (its
        first thread steps alone while another process holds a core) of up to the cores BLAS may use divided by the fastnn
        fits running at once in the process (a threaded grid search does not
        oversubscribe), and at most 64 (the core's limit). Results are
        reproducible for a fixed n_threads. A given n_threads above the
        available cores warns (fastnn.ThreadOversubscriptionWarning):
        spinning threads then wait for each other's cores.
    random_state : int in [0, 2**32 - 1], RandomState instance or None, default=None
        Seeds initial weights, shuffling and dropout (independent streams)
        and early stopping's held-out rows.
    verbose : int, default=0
        0: silent; 1: a progress bar over the epochs (with tqdm installed;
        else as 2); 2: one line per recorded cost (and dev cost).
    callbacks : list of callables or None, default=None
        Each is called with a fastnn.TrainingProgress (iteration, cost,
        dev_cost) at every recorded cost; returning True stops training.
        `save` stores them as None (a file holds no code).

    Attributes
    ----------
    coefs_ : list of one ndarray of shape (n_features, 1)
        The weights W, in the training dtype.
    intercepts_ : list of one ndarray of shape (1,)
        The bias b.
    costs_ : ndarray of shape (n_recorded,)
        The training cost (mean log-loss, weighted by sample_weight, plus the
        L2 term) of every epoch e with e % cost_every == 0: the size-weighted
        mean of its batch costs, each taken just before that batch's step
        (for a full batch, the cost of the weights the epoch started from).
        Training that goes on (warm_start, partial_fit) appends to it.
    n_iter_ : int
        Epochs trained, counting those of the calls training went on from;
        after divergence, the epochs behind the weights kept.
    classes_ : ndarray of shape (2,)
        The two labels, sorted; classes_[1] is the positive class.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit. Defined only when X has
        feature names that are all strings (e.g. a pandas DataFrame).
    dev_costs_ : ndarray of shape (n_epochs,)
        Mean loss (without the L2 term) on the development set after every
        epoch of the last fit. Defined only after fit(..., dev=...) or with
        early_stopping=True.
    best_iteration_ : int or None
        The epoch (counted from 0, as n_iter_ counts) after which the
        development cost was lowest (None if none was finite); with early
        stopping the model holds its weights. Defined only after
        fit(..., dev=...) or with early_stopping=True.

    See Also
    --------
    DeepNetwork : any number of hidden layers, and more than two classes.

    Notes
    -----
    P(y = classes_[1] | x) = sigmoid(x W + b); predict gives classes_[1]
    where that probability is at least 0.5. fit's docstring describes
    sample weights, development sets, divergence and fitting from threads.

    Examples
    --------
    >>> from fastnn import LogisticRegression
    >>> X = [[0.0], [1.0], [2.0], [3.0]]
    >>> y = ["no", "no", "yes", "yes"]
    >>> model = LogisticRegression(learning_rate=1.0, max_iter=500).fit(X, y)
    >>> model.predict([[0.5], [2.5]]).tolist()
    ['no', 'yes']
    >>> model.coefs_[0].shape, model.intercepts_[0].shape
    ((1, 1), (1,))
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
