"""Gradient checking (SPEC 7) of a fitted fastnn model."""
import math
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_random_state

from fastnn._constraints import Integers
from fastnn._core import train as core

# an int >= 1, never a bool (the estimators' own integer constraint)
POSITIVE_INT = Integers(1, None, closed="left")


def gradcheck(model, X, y, epsilon=1e-7, max_checks=None, random_state=None):
    """Compare the compiled back-propagation with central differences of the
    compiled cost, at the model's current weights, in float64:

        F_j = (J(theta + eps e_j) - J(theta - eps e_j)) / (2 eps)
        error = ||F - grad|| / (||F|| + ||grad||)

    An implementation is right when error is below about 1e-7 (no dropout).
    `max_checks` limits the check to that many randomly chosen parameters
    (2 evaluations of cost and gradient each), for large models: None or an
    int >= 1.
    `epsilon` is a finite real > 0.
    Returns the error (a float).
    """
    if (not isinstance(epsilon, Real) or isinstance(epsilon, (bool, np.bool_))
            or not math.isfinite(epsilon) or not epsilon > 0):
        raise ValueError(f"epsilon must be a finite real number > 0; got {epsilon!r}")
    if max_checks is not None and not POSITIVE_INT.is_satisfied_by(max_checks):
        raise ValueError(f"max_checks must be None or an int >= 1 (not a bool); "
                         f"got {max_checks!r}")
    stack, params, _ = model._fitted_stack_and_params()
    X, Y = model._validated_data_and_targets(X, y, np.float64)
    theta = params.astype(np.float64)
    _, grad = core.loss_gradient(stack, theta, X, Y)

    indices = np.arange(theta.size)
    if max_checks is not None and max_checks < theta.size:
        indices = check_random_state(random_state).choice(theta.size, max_checks, replace=False)
    numeric = np.empty(indices.size)
    probe = theta.copy()
    for k, j in enumerate(indices):
        probe[j] = theta[j] + epsilon
        cost_plus = core.loss_gradient(stack, probe, X, Y)[0]
        probe[j] = theta[j] - epsilon
        cost_minus = core.loss_gradient(stack, probe, X, Y)[0]
        probe[j] = theta[j]
        numeric[k] = (cost_plus - cost_minus) / (2 * epsilon)
    analytic = grad[indices]
    denominator = np.linalg.norm(numeric) + np.linalg.norm(analytic)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(numeric - analytic) / denominator)
