"""`MLPClassifier` and `MLPRegressor`: scikit-learn's estimators of the same
names - every parameter, default and constraint, fitted attribute, method,
warning and error - trained by fastnn's compiled core.

scikit-learn's source (sklearn/neural_network/_multilayer_perceptron.py, the
version installed) is the specification: the same random_state gives the
same initial weights, shuffles and validation split, and the same
arithmetic gives the same weights (tests/test_mlp_equals_sklearn.py; and
scikit-learn's own test_mlp.py runs against these classes,
tests/test_sklearn_mlp_suite.py). The solvers are in fastnn._mlp_solvers.
"""
import copy
import inspect
from itertools import chain
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn import neural_network as scikit_learn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._fit_state import fitting
from fastnn._mlp_solvers import fit_lbfgs, fit_stochastic

_STOCHASTIC_SOLVERS = ("sgd", "adam")

#: scikit-learn's activation names -> the core's.
CORE_ACTIVATION = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                   "softmax": "softmax", "exp": "exp"}
#: output activation -> the core's loss (scikit-learn's log_loss is the core's
#: log_loss after a sigmoid and cross_entropy after softmax).
CORE_LOSS = {"logistic": "log_loss", "softmax": "cross_entropy", "identity": "squared",
             "exp": "poisson"}


class _MultilayerPerceptron(BaseEstimator):
    """What MLPClassifier and MLPRegressor share (scikit-learn's
    BaseMultilayerPerceptron)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
                 learning_rate_init, power_t, max_iter, loss, shuffle, random_state, tol, verbose,
                 warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction,
                 beta_1, beta_2, epsilon, n_iter_no_change, max_fun):
        # scikit-learn's protocol: keep every argument as is (checks happen in fit);
        # `loss` is fixed by MLPClassifier, a parameter of MLPRegressor.
        for name, value in locals().items():
            if name != "self":
                setattr(self, name, value)

    # -- the network, as the core holds it -------------------------------
    def _layer_activations(self, layer_units):
        """The core's name of each layer's activation: the hidden ones, then
        the output's (fastnn.onnx reads them here too)."""
        hidden = CORE_ACTIVATION[self.activation]
        return [hidden] * (len(layer_units) - 2) + [CORE_ACTIVATION[self.out_activation_]]

    def _stack(self, layer_units):
        return DenseStack(layer_units, self._layer_activations(layer_units),
                          CORE_LOSS[self.out_activation_], l2=float(self.alpha))

    def _loss_scale(self):
        """scikit-learn's squared error is the mean over the outputs (its
        gradient is not): the core's per-row sum times this."""
        return 1.0 / self.n_outputs_ if self.out_activation_ == "identity" else 1.0

    def _layer_units(self):
        return [self.coefs_[0].shape[0]] + [W.shape[1] for W in self.coefs_]

    def _output_of(self, stack, params, X):
        """The network's output for X (validated) at the flat `params`."""
        return core.predict_output(stack, params, _core_input(X, params.dtype))

    def _forward_pass_fast(self, X, check_input=True):
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        coefs, intercepts = list(self.coefs_), list(self.intercepts_)
        dtype = np.result_type(X.dtype, *coefs, *intercepts)
        stack = self._stack([coefs[0].shape[0]] + [W.shape[1] for W in coefs])
        return self._output_of(stack, stack.pack(coefs, intercepts, dtype), X)

    # -- fitting ---------------------------------------------------------
    def _initialize(self, y, layer_units, dtype):
        """scikit-learn's: attributes of a first fit, Glorot-uniform weights
        drawn from self._random_state in its order (W then b, layer by layer)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        self.coefs_, self.intercepts_ = [], []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = self._random_state.uniform(-bound, bound, fan_out)
            self.coefs_.append(coef.astype(dtype, copy=False))
            self.intercepts_.append(intercept.astype(dtype, copy=False))
        self._best_params = None
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _fit(self, X, y, sample_weight=None, incremental=False):
        with fitting(self) as work:
            work._fit_work(X, y, sample_weight, incremental)
        return self

    def _fit_work(self, X, y, sample_weight, incremental):
        """scikit-learn's `_fit`, on the working copy `fitting` gives."""
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_features = X.shape[1]
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        else:
            # The lists this fit appends to are its own (a failed fit changes nothing).
            for name in ("loss_curve_", "validation_scores_"):
                if isinstance(getattr(self, name, None), list):
                    setattr(self, name, list(getattr(self, name)))
            if hasattr(self, "_optimizer"):
                self._optimizer = copy.copy(self._optimizer)
        if self._layer_units() != layer_units:
            raise ValueError(f"the fitted layers are {self._layer_units()}, the data and "
                             f"hidden_layer_sizes ask for {layer_units}")
        stack = self._stack(layer_units)
        params = stack.pack(self.coefs_, self.intercepts_, X.dtype)
        Y = np.ascontiguousarray(y, dtype=X.dtype)
        if self.solver in _STOCHASTIC_SOLVERS:
            X, Y, sample_weight, split = self._validation_split(X, Y, sample_weight, incremental)
            if split is not None and getattr(self, "_best_params", None) is None:
                self._best_params = params.copy()
            fit_stochastic(self, stack, params, _core_input(X, X.dtype), Y, sample_weight,
                           incremental, split)
        else:
            fit_lbfgs(self, stack, params, _core_input(X, X.dtype), Y, sample_weight)
        coefs, intercepts = stack.unpack(params)
        self.coefs_ = [W.copy() for W in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]
        if not all(np.isfinite(w).all() for w in chain(self.coefs_, self.intercepts_)):
            raise ValueError("Solver produced non-finite parameter weights. The input data may"
                             " contain large values and need to be preprocessed.")

    def _validation_split(self, X, Y, sample_weight, incremental):
        """scikit-learn's early-stopping split, drawn from self._random_state:
        (X_train, Y_train, sample_weight_train, (X_val, y_val, sample_weight_val))
        or the data and None without early stopping."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not self.early_stopping:
            return X, Y, sample_weight, None
        # don't stratify in multilabel classification (scikit-learn's rule)
        stratify = Y.astype(bool) if self._stratified_split() else None
        parts = (X, Y) if sample_weight is None else (X, Y, sample_weight)
        parts = train_test_split(*parts, random_state=self._random_state,
                                 test_size=self.validation_fraction, stratify=stratify)
        X_train, X_val, Y_train, Y_val = parts[:4]
        weights_train, weights_val = parts[4:] if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return (X_train, np.ascontiguousarray(Y_train), weights_train,
                (X_val, self._validation_targets(Y_val), weights_val))

    def predict(self, X):
        """The predicted classes (classifier) or values (regressor) of X."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward_pass_fast(X, check_input=check_input))

    def _score_params(self, stack, params, X, y, sample_weight):
        """scikit-learn's `_score_with_function` at the flat `params`: NaN
        when a floating prediction is not finite."""
        y_pred = self._decode(self._output_of(stack, params, X))
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y (scikit-learn's
        MLP: X dense or sparse CSR/CSC, sample_weight optional). Returns self."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError("partial_fit is only available for stochastic"
                                 " optimizers. %s is not stochastic." % self.solver)
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _docstring(theirs, what, example):
    """`theirs`' (scikit-learn's) docstring under fastnn's summary and with
    fastnn's example: the parameters and attributes are scikit-learn's, word
    for word."""
    doc = theirs.__doc__
    body = doc[doc.index("    Parameters\n    ----------"):doc.index("    Examples\n    --------")]
    summary = (f"Multi-layer perceptron {what}: scikit-learn's\n"
               f"    `sklearn.neural_network.{theirs.__name__}`, trained by fastnn's compiled core.\n\n"
               "    Every parameter, default, fitted attribute, method, warning and error is\n"
               "    scikit-learn's (below, its documentation); with the same random_state the\n"
               "    weights are scikit-learn's. X dense or sparse (CSR/CSC); float32 input\n"
               "    trains in float32.\n\n")
    return (summary + body + "    Examples\n    --------\n    "
            + inspect.cleandoc(example).replace("\n", "\n    ") + "\n    ")


def _core_input(X, dtype):
    """X as the compiled core takes it, in `dtype`: a C-contiguous array, or
    CSR (its first layer computes from the nonzeros; never densified)."""
    if scipy.sparse.issparse(X):
        X = X.tocsr()
        return X if X.dtype == dtype else X.astype(dtype)
    return np.ascontiguousarray(X, dtype=dtype)


class MLPClassifier(ClassifierMixin, _MultilayerPerceptron):
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss="log_loss", shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun)

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _stratified_split(self):
        return self.n_outputs_ == 1

    def _validation_targets(self, Y_val):
        return self._label_binarizer.inverse_transform(Y_val.astype(bool))

    def _decode(self, output):
        if self.n_outputs_ == 1:
            output = output.ravel()
        return self._label_binarizer.inverse_transform(output)

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # scikit-learn's table: a fresh fit (re)defines classes_; warm_start
        # and partial_fit check y against them.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. "
                                 f"`self.classes_` has {self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y) from the current weights and solver state;
        `classes` (every label of all calls) is required on the first call,
        and a later call's must be the same."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability of each class, columns in classes_ order."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MultilayerPerceptron):
    _parameter_constraints: dict = {
        **_MultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        super().__init__(
            loss=loss, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            solver=solver, alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _stratified_split(self):
        return False

    def _validation_targets(self, Y_val):
        return Y_val.ravel() if Y_val.shape[1] == 1 else Y_val

    def _decode(self, output):
        return output.ravel() if output.shape[1] == 1 else output

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) from the current weights and solver state."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


MLPClassifier.__doc__ = _docstring(scikit_learn.MLPClassifier, "classifier", """
    >>> from fastnn import MLPClassifier
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> clf = MLPClassifier(random_state=1, max_iter=300).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    >>> clf.score(X, y) > 0.9
    True
    """)

MLPRegressor.__doc__ = _docstring(scikit_learn.MLPRegressor, "regressor", """
    >>> from fastnn import MLPRegressor
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    >>> regr = MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X, y)
    >>> regr.score(X, y) > 0.9
    True
    """)
