"""DeepRegressor: the dense stack with the L2 (squared-error) loss."""
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions

from fastnn._base import store_parameters
from fastnn._constraints import LAYER_WIDTH, LAYER_WIDTHS
from fastnn._hidden import HiddenLayersEstimator, check_layer_sizes
from fastnn._core.vocabulary import OUTPUT_ACTIVATIONS


class DeepRegressor(RegressorMixin, HiddenLayersEstimator):
    """Fully-connected regressor: squared-error (L2) loss, any hidden layers.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int in [1, 2**31 - 1], default=(100,)
        Width of each hidden layer (BLAS takes int dimensions); an int is one
        hidden layer, () none: a linear (or generalised linear) model.
    activation : {"sigmoid", "tanh", "relu", "leaky_relu", "arctan", "identity"}, default="relu"
        Activation of the hidden layers: sigmoid 1 / (1 + e^-z), tanh,
        relu max(z, 0), leaky_relu (z, or leaky_slope * z below 0), arctan
        atan(z) / pi + 1/2, identity z.
    output : {"sigmoid", "tanh", "arctan", "identity", "softmax", "exp"}, default="identity"
        Activation of the output layer (softmax: over each row's outputs;
        exp: e^z, for positive targets);
        the loss of an example is 1/2 sum_k (a_k - y_k)^2.
    leaky_slope : float >= 0, default=0.01
        Slope of leaky_relu for negative inputs.
    learning_rate : float > 0, default=0.01
        Step size of the updates (see learning_rate_schedule).
    max_iter : int in [0, 2**53], default=200
        Iterations = epochs (full passes over the data). 0 sets the model up
        (initial weights) without training.
    batch_size : int in [1, 2**53] or None, default=200
        Rows per step: mini-batches of 200 rows (all of them below 200).
        None (or any size of at least n_samples) trains on the whole set at
        each step (batch gradient descent, the notes' setting).
    shuffle : bool, default=True
        Reshuffle the rows before every epoch (mini-batch only).
    l2 : float >= 0, default=0.0
        L2 strength lambda: the cost adds l2 / (2 n) * sum_l ||W_l||^2 (the
        biases are not regularised).
    keep_prob : float in [2**-32, 1] or sequence of them, default=1.0
        Inverted-dropout keep probability: a float for every hidden layer, or
        one entry per hidden layer with an optional leading entry for the
        input. Masks are drawn afresh at every step in the compiled loop,
        reproducible from random_state; prediction and recorded costs never
        drop units. (The dropout draw has 32 bits: below 2**-32 every unit
        would be dropped.)
    optimizer : {"gd", "momentum", "rmsprop", "adam", "heavy_ball", "nesterov", "adam_step_corrected"}, default="adam"
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
    init : {"auto", "glorot", "he", "xavier", "small", "zeros"} or (coefs, intercepts), default="glorot"
        The initial weights: "glorot" U(-r, r) with r = sqrt(6 / (n_in +
        n_out)), or sqrt(2 / (n_in + n_out)) under sigmoid hidden units
        (scikit-learn's MLP start); "auto" (the notes' start) is he for
        relu-like units (relu, leaky_relu), xavier otherwise; "he" N(0, 1) *
        sqrt(2 / n_in); "xavier" N(0, 1) * sqrt(1 / n_in); "small" N(0, 1) *
        0.01; "zeros" only without hidden layers (refused with them: hidden
        units would never differ); or a pair (coefs, intercepts) of lists of
        arrays shaped like coefs_ and intercepts_, copied. Drawn weights come
        with zero biases.
    cost_every : int in [1, 2**53] or None, default=100
        Record the cost (without dropout) in `costs_` at every epoch e with
        e % cost_every == 0; None records none (with dropout, a recorded
        epoch costs an extra forward pass). Each recorded cost also checks
        for divergence (see fit).
    early_stopping : bool, default=False
        Hold out validation_fraction of the training data (or use fit's
        `dev=`), record its cost after every epoch in `dev_costs_`, stop after
        n_iter_no_change epochs without improvement and restore the best
        weights (`best_iteration_` is the epoch they came from). A dev cost
        that is not finite stops training as diverged.
    validation_fraction : float in (0, 1), default=0.1
        Share of the rows early stopping holds out (the same rows on every
        call of one fitted model).
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
    coefs_ : list of ndarray, one per layer
        coefs_[l] of shape (n_in, n_out): the weights from layer l (0: the
        input) into layer l + 1, in the training dtype.
    intercepts_ : list of ndarray, one per layer
        intercepts_[l] of shape (n_out,): the biases of layer l + 1.
    costs_ : ndarray of shape (n_recorded,)
        The training cost (without dropout: the mean squared-error loss,
        weighted by sample_weight, plus the L2 term) of every epoch e with
        e % cost_every == 0: the size-weighted mean of its batch costs, each
        taken just before that batch's step (for a full batch, the cost of
        the weights the epoch started from). Training that goes on
        (warm_start, partial_fit) appends to it.
    n_iter_ : int
        Epochs trained, counting those of the calls training went on from;
        after divergence, the epochs behind the weights kept.
    n_outputs_ : int
        Columns of y (1 for 1-D y); predict answers 1-D where y was 1-D.
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
    DeepNetwork : the same stack as a classifier.

    Notes
    -----
    predict gives the output layer's activations. fit's docstring describes
    sample weights, development sets, divergence and fitting from threads.

    The defaults (Adam at learning rate 0.01 on mini-batches of 200 for 200
    epochs, from a Glorot-uniform start) train about as well as
    scikit-learn's MLPRegressor defaults; the notes' batch gradient descent
    is optimizer="gd", batch_size=None, init="auto" (README: Defaults).

    Examples
    --------
    A straight line, fitted by the model with no hidden layer:

    >>> import numpy as np
    >>> from fastnn import DeepRegressor
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1)
    >>> model = DeepRegressor(hidden_layer_sizes=(), learning_rate=0.5, max_iter=2000,
    ...                       optimizer="gd", batch_size=None)
    >>> model.fit(X, 2 * X[:, 0] + 1).predict([[0.5]]).round(6).tolist()
    [2.0]
    """

    _parameter_constraints = {
        **HiddenLayersEstimator._parameter_constraints,
        "hidden_layer_sizes": [LAYER_WIDTHS, LAYER_WIDTH],
        "output": [StrOptions(set(OUTPUT_ACTIVATIONS))],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", output="identity",
                 leaky_slope=0.01, learning_rate=0.01, max_iter=200, batch_size=200,
                 shuffle=True, l2=0.0, keep_prob=1.0, optimizer="adam", momentum=0.9,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, learning_rate_schedule="constant",
                 decay_rate=0.0, init="glorot", cost_every=100, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, warm_start=False, dtype=None,
                 n_threads=None, random_state=None, verbose=0, callbacks=None):
        store_parameters(self, locals())

    def _hidden_layer_sizes(self):
        return check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _output_activation_and_loss(self, n_outputs):
        return self.output, "squared"

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y) in batches of batch_size, continuing from the
        current weights and optimiser state (each call counts as one epoch)."""
        return self._partial_fit(X, y, sample_weight=sample_weight)

    def _fit_targets(self, y, classes=None):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y, {"n_outputs_": Y.shape[1], "_y_is_1d": y.ndim == 1}

    def _encode_targets(self, y):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} columns; the model was fitted with {self.n_outputs_}")
        return Y

    def _validate_targets_kwargs(self):
        return {"multi_output": True, "y_numeric": True}

    def predict(self, X):
        """The network's output; 1-D when the model was fitted on 1-D y."""
        A = self._output(X)
        return A[:, 0] if self._y_is_1d else A

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
