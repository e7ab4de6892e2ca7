"""The solvers of the scikit-learn drop-ins (fastnn.mlp): scikit-learn's
bookkeeping around fastnn's compiled core.

scikit-learn's `_fit_stochastic` decides per epoch (its shuffle, drawn from
its RandomState; the learning rate of "invscaling" and "adaptive"; the
`tol` rule; the validation score of early stopping), so one call of the
compiled loop trains one epoch, in scikit-learn's row order, with its
update rule (the core's "heavy_ball", "nesterov" and "adam_step_corrected"
are scikit-learn's sgd, sgd with Nesterov's momentum and adam), and returns
the epoch's loss as scikit-learn computes it (`batch_mean_cost`). L-BFGS is
SciPy's, over the compiled loss and gradient, with scikit-learn's options.
Every random draw is scikit-learn's, in its order, so the same random_state
gives the same weights.
"""
import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from fastnn._core import train as core
from fastnn._threads import fit_threads
from fastnn._training import Optimizer, TrainingPlan, TrainingState


class StochasticSolver:
    """scikit-learn's SGDOptimizer / AdamOptimizer as state: the current
    learning rate and its schedule, and the core's TrainingState (the
    moments, laid out like the flat parameters, and the steps taken: adam's
    t). `learning_rate` is public as scikit-learn's `_optimizer.learning_rate`."""

    def __init__(self, estimator):
        self.solver = estimator.solver
        self.learning_rate_init = float(estimator.learning_rate_init)
        self.learning_rate = self.learning_rate_init
        self.lr_schedule = estimator.learning_rate if self.solver == "sgd" else "constant"
        self.power_t = float(estimator.power_t)
        if self.solver == "sgd":
            nesterov = estimator.nesterovs_momentum and estimator.momentum > 0
            self.kind = "nesterov" if nesterov else "heavy_ball"
        else:
            self.kind = "adam_step_corrected"
        self.momentum = float(estimator.momentum)
        self.beta_1, self.beta_2 = float(estimator.beta_1), float(estimator.beta_2)
        self.epsilon = float(estimator.epsilon)
        # The core's streams are unused (scikit-learn's RandomState shuffles,
        # there is no dropout) but part of its state.
        self.state = TrainingState(np.random.PCG64(0), np.random.PCG64(0))

    def optimizer(self):
        return Optimizer(kind=self.kind, learning_rate=self.learning_rate, momentum=self.momentum,
                         beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)

    def iteration_ends(self, time_step):
        """scikit-learn's: invscaling's rate after time_step samples."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, message, verbose):
        """scikit-learn's: True to stop; "adaptive" divides the rate by 5 instead,
        down to 1e-6."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(message + " Setting learning rate to %f" % self.learning_rate)
        return False


def fit_stochastic(model, stack, params, X, Y, sample_weight, incremental, split):
    """scikit-learn's `_fit_stochastic` on the flat parameters `params` (in
    place), with the compiled loop doing each epoch's batches. `split`
    (early stopping) holds (X_val, y_val, sample_weight_val) and X, Y,
    sample_weight are then the training part."""
    if not incremental or not hasattr(model, "_optimizer"):
        model._optimizer = StochasticSolver(model)
    solver = model._optimizer
    early_stopping = split is not None
    n_samples = X.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    if model.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if model.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than "
                          "sample size. It is going to be clipped")
        batch_size = int(np.clip(model.batch_size, 1, n_samples))
    diverged = False
    model.n_iter_ = 0      # scikit-learn counts the epochs of this call
    with fit_threads(None, batch_size, tuple(stack.layer_sizes)) as n_threads:
        pacer = core.TeamPacer()   # the team's timings carry over the epochs' calls
        for _ in range(model.max_iter):
            if model.shuffle:
                sample_idx = scikit_learn_shuffle(sample_idx, model._random_state)
            if diverged:
                # scikit-learn trains on with non-finite weights: every later
                # epoch's loss and validation score is NaN.
                loss = np.nan
            else:
                plan = TrainingPlan(
                    epochs=1, batch_size=batch_size, cost_every=1, n_threads=n_threads,
                    row_order=sample_idx if model.shuffle else None,
                    loss_scale=model._loss_scale(), batch_mean_cost=True,
                    judge_final_weights=False, pacer=pacer)
                result = core.train(stack, params, X, Y, plan, solver.optimizer(), solver.state,
                                    sample_weight)
                if result.interrupted:
                    warnings.warn("Training interrupted by user.")
                    break
                if result.diverged:
                    diverged = True
                    params[:] = np.nan
                    loss = np.nan
                else:
                    solver.state = result.state
                    loss = float(result.costs[0])
            model.n_iter_ += 1
            model.loss_ = loss
            model.t_ += n_samples
            model.loss_curve_.append(loss)
            if model.verbose:
                print("Iteration %d, loss = %.8f" % (model.n_iter_, model.loss_))
            update_no_improvement_count(model, stack, params, split)
            solver.iteration_ends(model.t_)
            if model._no_improvement_count > model.n_iter_no_change:
                if early_stopping:
                    message = ("Validation score did not improve more than tol=%f for %d "
                               "consecutive epochs." % (model.tol, model.n_iter_no_change))
                else:
                    message = ("Training loss did not improve more than tol=%f for %d "
                               "consecutive epochs." % (model.tol, model.n_iter_no_change))
                if solver.trigger_stopping(message, model.verbose):
                    break
                model._no_improvement_count = 0
            if incremental:
                break
            if model.n_iter_ == model.max_iter:
                warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                              "optimization hasn't converged yet." % model.max_iter,
                              ConvergenceWarning)
    if early_stopping:
        params[:] = model._best_params


def scikit_learn_shuffle(sample_idx, random_state):
    """sklearn.utils.shuffle(sample_idx, random_state=random_state), the same
    draws (resample without replacement: a RandomState.shuffle of arange(n)),
    without its input checks (a quarter of a millisecond an epoch)."""
    indices = np.arange(sample_idx.shape[0])
    random_state.shuffle(indices)
    return sample_idx[indices]


def update_no_improvement_count(model, stack, params, split):
    """scikit-learn's `_update_no_improvement_count`: the validation score
    (early stopping) or the training loss against the best by `tol`."""
    if split is not None:
        X_val, y_val, sample_weight_val = split
        score = model._score_params(stack, params, X_val, y_val, sample_weight_val)
        model.validation_scores_.append(score)
        if model.verbose:
            print("Validation score: %f" % score)
        if score < model.best_validation_score_ + model.tol:
            model._no_improvement_count += 1
        else:
            model._no_improvement_count = 0
        if score > model.best_validation_score_:
            model.best_validation_score_ = score
            model._best_params = params.copy()
    else:
        if model.loss_curve_[-1] > model.best_loss_ - model.tol:
            model._no_improvement_count += 1
        else:
            model._no_improvement_count = 0
        if model.loss_curve_[-1] < model.best_loss_:
            model.best_loss_ = model.loss_curve_[-1]


def scikit_learn_order(stack):
    """Index of each of scikit-learn's packed parameters (every W, then
    every b) in the core's flat vector (W_0, b_0, W_1, b_1, ...)."""
    flat = np.arange(stack.n_params)
    coefs, intercepts = stack.unpack(flat)
    return np.concatenate([part.ravel() for part in coefs + intercepts])


def fit_lbfgs(model, stack, params, X, Y, sample_weight):
    """scikit-learn's `_fit_lbfgs`: SciPy's L-BFGS-B from scikit-learn's
    packed start, over the compiled loss and gradient in X's dtype. SciPy (1.17
    here) hands the objective parameters of x0's dtype, so scikit-learn's
    float32 fits evaluate in float32 too; L-BFGS-B's own state stays float64."""
    order = scikit_learn_order(stack)
    dtype = X.dtype
    Y = np.ascontiguousarray(Y, dtype=dtype)
    weights = None if sample_weight is None else sample_weight.astype(dtype)
    flat = np.empty(stack.n_params, dtype=dtype)
    loss_scale = model._loss_scale()
    workspace = np.empty(3 * X.shape[0] * stack.total_units, dtype=dtype)

    iprint = 1 if model.verbose is True or model.verbose >= 1 else -1
    # The team shares each evaluation's rows, BLAS held to one thread: BLAS's
    # own threads on these full-batch products ran 1.5-2.5x slower while
    # another BLAS's threads (NumPy's, after a scikit-learn fit) still spun.
    with fit_threads(None, X.shape[0], tuple(stack.layer_sizes)) as n_threads:
        def loss_and_gradient(packed):
            flat[order] = packed
            loss, grads = core.loss_gradient(stack, flat, X, Y, weights, loss_scale,
                                             workspace, n_threads)
            return loss, grads[order]

        result = scipy.optimize.minimize(
            loss_and_gradient, params[order], method="L-BFGS-B", jac=True,
            options={"maxfun": model.max_fun, "maxiter": model.max_iter, "gtol": model.tol,
                     **_get_additional_lbfgs_options_dict("iprint", iprint)})
    model.n_iter_ = _check_optimize_result("lbfgs", result, model.max_iter)
    model.loss_ = result.fun
    flat[order] = result.x
    params[:] = flat
