"""What every fastnn model shares: validation, set-up and the call into the
compiled core. A model family only says which layers, activations and loss it
uses and how its targets become the 2-D matrix Y; `_fit` is the one training
path for all of them."""
import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
# Imported here, not inside fit: a Ctrl-C landing in a first import of an
# extension module leaves it half-initialised for the rest of the process.
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from fastnn._constraints import COUNT_FROM_0, COUNT_FROM_1, N_THREADS, SEED
from fastnn._core import train as core
from fastnn._core.stack import DenseStack
from fastnn._core.vocabulary import OPTIMIZERS
from fastnn._fit_state import fitted_state, fitting
from fastnn._init import INIT_SCHEMES, initial_parameters
from fastnn._monitor import DevMonitor
from fastnn._progress import TrainingProgress, progress_bar
from fastnn._random import training_generators
from fastnn._threads import fit_threads
from fastnn._training import Optimizer, TrainingPlan, TrainingState
from fastnn import persistence

_FLOAT_DTYPES = ("float32", "float64")


def store_parameters(estimator, init_arguments):
    """The whole body of every estimator's __init__: keep each argument as the
    attribute of the same name, untouched (scikit-learn's protocol; checks
    happen in fit)."""
    for name, value in init_arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class DenseEstimator(BaseEstimator):
    """Base of every fastnn estimator: a dense stack trained by fastnn._core."""

    _parameter_constraints = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [COUNT_FROM_0],
        "batch_size": [COUNT_FROM_1, None],
        "shuffle": ["boolean"],
        "l2": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions(set(INIT_SCHEMES)), tuple, list],
        "cost_every": [COUNT_FROM_1, None],
        "dtype": [StrOptions(set(_FLOAT_DTYPES)), type, np.dtype, None],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "inverse"})],
        "decay_rate": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [COUNT_FROM_1],
        "n_threads": [N_THREADS, None],
        "callbacks": [list, tuple, None],
        "random_state": [SEED, np.random.RandomState, None],
        "verbose": ["verbose"],
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):  # a concrete estimator: files may store it
            persistence.register(cls)

    # -- what a model family defines -------------------------------------
    def _hidden_layer_sizes(self):
        """Widths of the hidden layers, () for none."""
        raise NotImplementedError

    def _hidden_activation(self):
        """Activation name of the hidden layers (None without hidden layers)."""
        raise NotImplementedError

    def _output_activation_and_loss(self, n_outputs):
        raise NotImplementedError

    def _validate_targets_kwargs(self):
        """Extra arguments for scikit-learn's check of y (regressors: 2-D, numeric)."""
        return {}

    def _keep_probs(self, n_layers):
        """Keep probability of the input of each layer (index 0: the data)."""
        return np.ones(n_layers)

    def _fit_targets(self, y, classes=None):
        """(Y, fitted target attributes) from the fit's y: Y is 2-D float;
        `classes` (classifiers' partial_fit) lists every label to expect."""
        raise NotImplementedError

    def _encode_targets(self, y):
        """Y for a y given after fitting (loss_gradient)."""
        raise NotImplementedError

    # -- the one training path ------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, dev=None):
        """Train on X (n_samples, n_features) and targets y for max_iter
        epochs; with warm_start=True a fitted model goes on from its current
        weights and optimiser state.

        sample_weight : array of shape (n_samples,), optional
            Non-negative weight of each example: the cost and its gradient are
            the weighted mean of the examples' (integer weights act like
            repeated rows).
        dev : (X_dev, y_dev), optional
            A development set: its cost is recorded after every epoch in
            `dev_costs_`, and early stopping (early_stopping=True) watches it
            instead of holding out validation_fraction of X.
        Returns self.

        Notes
        -----
        - fit and partial_fit build the new fitted state on a working copy and
          swap it in at once: a failed or interrupted-by-exception fit leaves the
          model exactly as it was, and predictions made from other threads while
          a fit runs come from the old model or the new one, never a mix. A
          second fit of the same object while one runs (another thread, or a
          callback) raises RuntimeError: fit a clone instead.
        - Divergence: every recorded cost judges the weights its epoch started
          from, and whenever training stops (epochs done, a callback, early
          stopping, Ctrl-C) the final weights are judged by their loss on the
          first 1024 rows. A non-finite cost or weight stops training with a
          ConvergenceWarning; the model keeps the last weights judged finite (with
          cost_every=None, the initial ones; with early stopping, the best on the
          development set). With a development set the weights are checked after
          every epoch too, and training stops at the first epoch they are not
          finite. A fresh fit (not warm_start) whose early stopping runs out of
          patience with no epoch better than the initial weights warns too
          ("made no progress").
        - sample_weight: rows of weight 0 count as absent; a mini-batch of only
          such rows takes no step.
        - A prediction whose arithmetic overflows (inputs far outside the
          training range) raises ValueError naming the rows, never NaN answers.
        """
        with fitting(self) as work:
            resume = bool(work.warm_start) and hasattr(work, "coefs_")
            work._fit(X, y, int(work.max_iter), resume, dev=dev, sample_weight=sample_weight)
        return self

    def _partial_fit(self, X, y, classes=None, sample_weight=None):
        with fitting(self) as work:
            work._fit(X, y, 1, hasattr(work, "coefs_"), classes, early_stopping=False,
                      sample_weight=sample_weight)
        return self

    def _fit(self, X, y, epochs, resume, classes=None, dev=None, early_stopping=True,
             sample_weight=None):
        """The one training path: `epochs` passes over (X, y), from a fresh
        start or (resume) from the fitted weights and the TrainingState, so
        that calls in sequence train like one long fit."""
        if resume:
            self._check_resume_classes(classes)
            stack, params, dtype = self._fitted_stack_and_params(dropout=True)
            X, Y = self._validated_data_and_targets(X, y, dtype)
            self._check_same_architecture(X.shape[1], Y.shape[1], stack)
            state = getattr(self, "_training_state", None)
            if state is None:  # weights set by hand: fresh streams from random_state
                _, shuffle_stream, dropout_stream = training_generators(self.random_state)
                state = TrainingState(shuffle_stream, dropout_stream,
                                      epochs=getattr(self, "n_iter_", 0))
        else:
            # A fresh start: nothing of an earlier fit carries over.
            for name in [name for name in vars(self)
                         if name.endswith("_") or name == "_training_state"]:
                delattr(self, name)
            X, y = validate_data(self, X, y, dtype=self._requested_dtype(), order="C",
                                 **self._validate_targets_kwargs())
            Y, target_attributes = self._fit_targets(y, classes)
            Y = np.ascontiguousarray(Y, dtype=X.dtype)
            for name, value in target_attributes.items():
                setattr(self, name, value)
            layer_sizes = (X.shape[1], *self._hidden_layer_sizes(), Y.shape[1])
            stack = self._stack(layer_sizes, Y.shape[1], self._keep_probs(len(layer_sizes) - 1))
            init_rng, shuffle_stream, dropout_stream = training_generators(self.random_state)
            state = TrainingState(shuffle_stream, dropout_stream,
                                  split_seed=int(init_rng.integers(2**31)))
            coefs, intercepts = initial_parameters(
                self.init, layer_sizes, self._hidden_activation(), init_rng, X.dtype)
            params = stack.pack(coefs, intercepts, X.dtype)

        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight must not be all zero")
        X, Y, sample_weight, monitor = self._dev_monitor(
            X, Y, sample_weight, dev, stack, params, state.split_seed, early_stopping)
        n_samples = X.shape[0]
        batch_size = n_samples if self.batch_size is None else min(self.batch_size, n_samples)
        callback = self._progress_callback(monitor)
        # The team size, and BLAS held to one thread while it runs, shared
        # with the other fits running in this process (fastnn._threads).
        with fit_threads(self.n_threads, batch_size, tuple(stack.layer_sizes)) as n_threads:
            plan = TrainingPlan(
                epochs=epochs, batch_size=batch_size, shuffle=bool(self.shuffle),
                cost_every=self.cost_every, n_threads=n_threads,
                pacer=core.TeamPacer() if self.n_threads is None else None, callback=callback,
                callback_every_epoch=monitor is not None or getattr(callback, "every_epoch", False))
            result = core.train(stack, params, X, Y, plan, self._optimizer(), state,
                                sample_weight)
        if callback is not None:
            callback.close()
        n_iter, state = result.n_iter, result.state
        diverged = result.diverged or (monitor is not None and monitor.diverged)
        best_stands = monitor is not None and monitor.stop and monitor.best_params is not None
        if diverged and best_stands:
            # Early stopping's best weights stand (judged by their dev cost):
            # every epoch run counts, as when it stops for want of progress.
            n_iter = result.epochs_run
            state = state.advanced(epochs=state.epochs - result.n_iter + n_iter,
                                   steps=state.steps - result.steps + result.steps_run)
        if monitor is not None:
            if result.interrupted and not result.diverged and len(monitor.costs) < n_iter:
                # Ctrl-C came before the monitor saw the last epoch completed.
                monitor(state.epochs - 1)
            del monitor.costs[n_iter:]   # one per epoch counted
        if diverged:
            # The moments that led there are no start for a later call.
            state = state.advanced(moments=None)
            kept = (f"the best weights on the development set, of epoch {monitor.best_epoch}"
                    if best_stands else
                    f"the last weights judged finite, after {state.epochs} epochs")
            warnings.warn(
                f"{type(self).__name__}.fit diverged: the cost or the weights stopped being "
                f"finite. The model holds {kept}; try a smaller learning_rate (or feature "
                "scaling).", ConvergenceWarning, stacklevel=3)
        elif (monitor is not None and not resume and not result.interrupted
              and monitor.made_no_progress):
            # A blow-up that stays finite: the dev cost rose from the first
            # epoch on until early stopping gave up, and its "best" weights
            # are worse than the initial ones. (Training that goes on from a
            # fitted model may well start from its best weights.)
            warnings.warn(
                f"{type(self).__name__}.fit made no progress: early stopping ran out of "
                f"patience with no epoch's weights below the development cost of the weights "
                f"it started from ({monitor.start_cost:.6g}; best {monitor.best_cost:.6g}, of "
                f"epoch {monitor.best_epoch}; last {monitor.costs[-1]:.6g}): a learning_rate "
                f"too large (the cost diverging), or nothing left to learn. The model holds "
                f"the best weights on the development set, of epoch {monitor.best_epoch}; try "
                f"a smaller learning_rate (or feature scaling).",
                ConvergenceWarning, stacklevel=3)
        if result.interrupted:
            warnings.warn(f"{type(self).__name__}.fit interrupted (Ctrl-C) after "
                          f"{state.epochs} epochs: the model holds the weights of the "
                          "epochs completed", UserWarning, stacklevel=3)

        if monitor is not None:
            monitor.restore_best()
            self.dev_costs_ = np.asarray(monitor.costs)
            self.best_iteration_ = monitor.best_epoch
        self.coefs_, self.intercepts_ = (list(part) for part in stack.unpack(params))
        self.costs_ = np.concatenate([self.costs_, result.costs]) if resume else result.costs
        self.n_iter_ = state.epochs
        # What a later partial_fit, warm start or save/load goes on from.
        self._training_state = state
        return self

    def _optimizer(self):
        """The update rule of the current parameters (set_params may change
        them between calls; the moments stay in the TrainingState)."""
        return Optimizer(kind=self.optimizer, learning_rate=float(self.learning_rate),
                         schedule=self.learning_rate_schedule,
                         decay_rate=float(self.decay_rate), momentum=float(self.momentum),
                         beta_1=float(self.beta_1), beta_2=float(self.beta_2),
                         epsilon=float(self.epsilon))

    def _check_resume_classes(self, classes):
        """Classifiers: a later partial_fit's `classes` must be the first one's."""

    def _check_same_architecture(self, n_features, n_outputs, stack):
        expected = (n_features, *self._hidden_layer_sizes(), n_outputs)
        if tuple(stack.layer_sizes) != expected:
            raise ValueError(
                f"cannot continue training: the fitted layers are {tuple(stack.layer_sizes)} "
                f"but the parameters ask for {expected}; fit again with warm_start=False")

    def _requested_dtype(self):
        """dtype=None keeps float32 input and makes everything else float64."""
        if self.dtype is None:
            return [np.float64, np.float32]
        dtype = np.dtype(self.dtype)
        if dtype.name not in _FLOAT_DTYPES:
            raise ValueError(f"dtype must be float32, float64 or None; got {self.dtype!r}")
        return dtype

    def _layer_activations(self, layer_sizes):
        """The activation of each layer: the hidden ones, then the output's
        (the vocabulary's names; the core and fastnn.onnx read them here)."""
        output, _ = self._output_activation_and_loss(layer_sizes[-1])
        return [self._hidden_activation()] * (len(layer_sizes) - 2) + [output]

    def _stack(self, layer_sizes, n_outputs, keep_probs=None):
        _, loss = self._output_activation_and_loss(n_outputs)
        return DenseStack(layer_sizes, self._layer_activations(layer_sizes), loss,
                          float(getattr(self, "leaky_slope", 0.01)), float(self.l2), keep_probs)

    def _dev_monitor(self, X, Y, sample_weight, dev, stack, params, split_seed,
                     early_stopping):
        """(X_train, Y_train, sample_weight_train, monitor): the development
        set comes from `dev`, or, with early stopping, is held out of X
        (stratified for classifiers); monitor is None without a development set."""
        stop = bool(getattr(self, "early_stopping", False)) and early_stopping
        if dev is not None:
            try:
                X_dev, y_dev = dev
            except (TypeError, ValueError):
                raise ValueError("dev must be a pair (X_dev, y_dev)") from None
            X_dev, Y_dev = self._validated_data_and_targets(X_dev, y_dev, X.dtype)
        elif stop:
            # The same rows on every call (the fit's split_seed), stratified by
            # class for classifiers: each row's class index, read from Y.
            stratify = None
            if hasattr(self, "classes_"):
                stratify = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
            parts = (X, Y) if sample_weight is None else (X, Y, sample_weight)
            try:
                parts = train_test_split(*parts, test_size=self.validation_fraction,
                                         random_state=split_seed, stratify=stratify)
            except ValueError as error:
                raise ValueError(f"early stopping could not hold out validation_fraction="
                                 f"{self.validation_fraction} of the data: {error}") from None
            X, X_dev, Y, Y_dev = (np.ascontiguousarray(part) for part in parts[:4])
            if sample_weight is not None:
                sample_weight = parts[4]
        else:
            return X, Y, sample_weight, None
        evaluation = self._stack(tuple(stack.layer_sizes), stack.n_outputs)
        monitor = DevMonitor(evaluation, params, X_dev, Y_dev,
                             int(getattr(self, "n_iter_no_change", 10)), stop)
        return X, Y, sample_weight, monitor

    def _progress_callback(self, monitor=None):
        """What the compiled loop calls at epoch ends: the development-set
        monitor, the user's callbacks and verbose output (None when none of
        them is wanted). Returning True stops training."""
        callbacks = list(self.callbacks or ())
        if not self.verbose and monitor is None and not callbacks:
            return None
        bar = progress_bar(self.max_iter) if self.verbose == 1 else None

        def on_epoch(iteration, cost):
            stop = monitor(iteration) if monitor is not None else False
            dev_cost = monitor.costs[-1] if monitor is not None else None
            if cost is not None:
                progress = TrainingProgress(iteration, cost, dev_cost)
                for callback in callbacks:
                    stop = bool(callback(progress)) or stop
            if bar is not None:
                bar.show(iteration, cost, dev_cost)
            elif self.verbose and (cost is not None or stop):
                line = f"iteration {iteration:>7d}"
                if cost is not None:
                    line += f"   cost {cost:.8f}"
                if dev_cost is not None:
                    line += f"   dev cost {dev_cost:.8f}"
                print(line + ("   (stopping)" if stop else ""), flush=True)
            return stop

        # A progress bar moves every epoch; lines and callbacks come with costs.
        on_epoch.every_epoch = bar is not None
        on_epoch.close = bar.close if bar is not None else (lambda: None)
        return on_epoch

    # -- using the fitted model ------------------------------------------
    def _fitted_state(self):
        """The fitted weights and labels as one consistent view (fastnn._fit_state)."""
        return fitted_state(self)

    def _fitted_stack_and_params(self, dropout=False, state=None):
        """The fitted network (with its dropout when training goes on) and its
        flat parameters."""
        if state is None:
            state = self._fitted_state()
        layer_sizes = [W.shape[0] for W in state.coefs] + [state.coefs[-1].shape[1]]
        keep_probs = self._keep_probs(len(layer_sizes) - 1) if dropout else None
        stack = self._stack(layer_sizes, layer_sizes[-1], keep_probs)
        return stack, stack.pack(state.coefs, state.intercepts, state.dtype), state.dtype

    def _output(self, X):
        """A_L for X (see _output_and_state)."""
        return self._output_and_state(X)[0]

    def _output_and_state(self, X):
        """(A_L for X, the FittedState it came from): the network's output,
        computed by the core (no dropout). An output that overflowed is an
        error, never NaN answers."""
        state = self._fitted_state()
        X = validate_data(self, X, reset=False, dtype=state.dtype, order="C")
        if X.shape[1] != state.n_features:
            # A fit swapped in a model of another width while X was checked.
            state = self._fitted_state()
            if X.shape[1] != state.n_features:
                raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} "
                                 f"is expecting {state.n_features} features as input.")
            X = np.ascontiguousarray(X, dtype=state.dtype)
        stack, params, _ = self._fitted_stack_and_params(state=state)
        A = core.predict_output(stack, params, X)
        finite = np.isfinite(A).all(axis=1)
        if not finite.all():
            rows = np.flatnonzero(~finite)
            raise ValueError(
                f"{type(self).__name__}: the network overflowed ({state.dtype.name}) on "
                f"{rows.size} of {X.shape[0]} rows (first: row {rows[0]}); these inputs lie "
                "far outside the range it was trained on: scale them as the training data"
                + (" or train in float64" if state.dtype == np.float32 else ""))
        return A, state

    def _validated_data_and_targets(self, X, y, dtype):
        """(X, Y) checked against the fitted model, C-ordered, of `dtype`."""
        X, y = validate_data(self, X, y, reset=False, dtype=dtype, order="C",
                             **self._validate_targets_kwargs())
        return X, np.ascontiguousarray(self._encode_targets(y), dtype=dtype)

    def save(self, path):
        """Write the fitted model to `path` (a portable .npz, see fastnn.persistence)."""
        persistence.save(self, path)

    def loss_gradient(self, X, y):
        """(cost, coef_grads, intercept_grads) of the current weights on (X, y).

        Computed by the compiled core, without dropout; the cost includes the
        L2 term. coef_grads[l] has the shape of coefs_[l].
        """
        stack, params, dtype = self._fitted_stack_and_params()
        X, Y = self._validated_data_and_targets(X, y, dtype)
        cost, grads = core.loss_gradient(stack, params, X, Y)
        coef_grads, intercept_grads = stack.unpack(grads)
        return float(cost), list(coef_grads), list(intercept_grads)
